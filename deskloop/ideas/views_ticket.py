"""The ticket page's Ideas panel actions: find an idea to vote for, and vote for the customer (registered into
tickets' page panels by IdeasConfig; the panel itself is ``ticket_panel``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES
from deskloop.core.errors import ValidationFailed
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.ideas.models import Idea, Importance
from deskloop.ideas.queries import BoardQuery, board_page
from deskloop.ideas.services.from_ticket import TicketVote, vote_from_ticket
from deskloop.ideas.ticket_panel import ideas_panel_context
from deskloop.tickets.queries import get_ticket_for_agent

PANEL_TEMPLATE = "ideas/ticket/_panel.html"
SEARCH_SHOWN = 8
SEARCH_MAX = 200


@agent_view(roles=WRITER_ROLES, description="Find an idea to vote for on behalf of a ticket's customer")
@require_GET
def search(request: AgentRequest, number: int) -> HttpResponse:
    """Live ideas of the workspace matching the words (the best by score when there are none)."""
    ticket = get_ticket_for_agent(request.agent, number)
    text = request.GET.get("q", "")[:SEARCH_MAX]
    page = board_page(BoardQuery(workspace_id=request.agent.workspace_id, text=text), limit=SEARCH_SHOWN)
    context = {"rows": page.rows, "query": text.strip(), "ticket_number": ticket.number}
    return render(request, "ideas/ticket/_search_results.html", context)


def _chosen_idea(request: AgentRequest) -> Idea | None:
    raw = request.POST.get("idea", "")
    if not raw:
        return None
    found = (
        Idea.objects.filter(workspace_id=request.agent.workspace_id, pk=int(raw)).first()
        if raw.isdigit() and len(raw) < 16
        else None
    )
    if found is None:
        raise ValidationFailed(_("That idea does not exist in this workspace."), field="idea")
    return found


def _importance(raw: str) -> int:
    if not raw.isdigit() or int(raw) not in Importance.values:
        raise ValidationFailed(_("Importance must be nice to have, important or critical."), field="importance")
    return int(raw)


def _contact_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 15:
        raise ValidationFailed(_("Choose a customer of this conversation."), field="contact")
    return int(raw)


@agent_view(roles=WRITER_ROLES, description="Vote on an idea for a ticket's customer (linking the ticket)")
@require_POST
def vote(request: AgentRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.agent, number)
    with refusal() as refused:
        cast = vote_from_ticket(
            ticket=ticket,
            agent=request.agent,
            choice=TicketVote(
                contact_id=_contact_id(request.POST.get("contact", "")),
                importance=_importance(request.POST.get("importance", "")),
                idea=_chosen_idea(request),
                new_title=request.POST.get("new_title", "")[: SEARCH_MAX * 2],
                new_idea_public=request.POST.get("new_idea_public") == "on",
            ),
        )
        notice = _("Vote recorded for %(customer)s on “%(idea)s”.") % {
            "customer": cast.vote.contact.display_name if cast.vote.contact else "",
            "idea": cast.vote.idea.title,
        }
        if not is_htmx(request):
            messages.success(request, notice)
            return redirect("tickets:detail", number=ticket.number)
        context = {"panel": ideas_panel_context(ticket=ticket, agent=request.agent, notice=notice)}
        return render(request, PANEL_TEMPLATE, context)
    if not is_htmx(request):
        return refused.redirect(request, "tickets:detail", number=ticket.number)
    context = {"panel": ideas_panel_context(ticket=ticket, agent=request.agent, error=refused.message)}
    return render(request, PANEL_TEMPLATE, context, status=refused.status)
