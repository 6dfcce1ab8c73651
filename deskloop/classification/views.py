"""Accept or dismiss a ticket's suggestion from the ticket page (plain forms; back to the ticket)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES
from deskloop.classification.queries import suggestion_for_agent
from deskloop.classification.suggestions import accept_suggestion, dismiss_suggestion
from deskloop.core.refusals import refusal


@agent_view(roles=WRITER_ROLES, description="Accept a ticket's suggested product area and request type")
@require_POST
def accept(request: AgentRequest, number: int) -> HttpResponse:
    suggestion = suggestion_for_agent(request.agent, number)
    with refusal() as refused:
        accept_suggestion(suggestion=suggestion, agent=request.agent)
    if refused:
        return refused.redirect(request, "tickets:detail", number)
    messages.success(request, _("Suggestion accepted."))
    return redirect("tickets:detail", number)


@agent_view(roles=WRITER_ROLES, description="Dismiss a ticket's suggestion")
@require_POST
def dismiss(request: AgentRequest, number: int) -> HttpResponse:
    suggestion = suggestion_for_agent(request.agent, number)
    with refusal() as refused:
        dismiss_suggestion(suggestion=suggestion, agent=request.agent)
    if refused:
        return refused.redirect(request, "tickets:detail", number)
    return redirect("tickets:detail", number)
