"""The "Ideas board" settings screen (admins): public or private, and the importance weights."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.ideas.forms import BoardSettingsForm
from deskloop.ideas.services.board import save_board_settings
from deskloop.ideas.services.values import board_of


@agent_view(roles=ADMIN_ROLES, description="Ideas board settings: public or private, importance weights")
@require_http_methods(["GET", "POST"])
def board_settings(request: AgentRequest) -> HttpResponse:
    board = board_of(request.agent.workspace_id)
    form = BoardSettingsForm(
        request.POST or None,
        initial={
            "is_public": board.is_public,
            "weight_nice_to_have": board.weight_nice_to_have,
            "weight_important": board.weight_important,
            "weight_critical": board.weight_critical,
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal(form) as refused:
            save_board_settings(actor=request.agent, **form.cleaned_data)
            messages.success(request, _("Ideas board settings saved."))
            return redirect("ideas_settings:board")
        status = refused.status
    return render(
        request,
        "ideas/agents/board_settings.html",
        {"form": form, "board": board},
        status=422 if form.errors and status == 200 else status,
    )
