"""The composer's article finder on the ticket page (registered into tickets' page panels by KnowledgeConfig)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import NOTE_ROLES, Agent
from deskloop.knowledge.finder import find_articles_for_ticket
from deskloop.tickets.models import Ticket
from deskloop.tickets.queries import get_ticket_for_agent


@agent_view(roles=NOTE_ROLES, description="Find knowledge-base articles to insert into a reply on a ticket")
@require_GET
def composer_finder(request: AgentRequest, number: int) -> HttpResponse:
    ticket = get_ticket_for_agent(request.agent, number)
    query = request.GET.get("q", "")
    found = find_articles_for_ticket(workspace=request.agent.workspace, ticket=ticket, query=query)
    return render(request, "knowledge/agents/_finder_results.html", {"found": found, "query": query.strip()})


def finder_panel(*, ticket: Ticket, agent: Agent) -> Mapping[str, Any] | None:
    """The composer panel's context: shown to whoever may write in the composer (replies and notes)."""
    if not agent.can_add_notes:
        return None
    return {"ticket_number": ticket.number}


def answer_panel(*, ticket: Ticket, agent: Agent) -> Mapping[str, Any] | None:
    """ "Create an article from this answer" under agents' replies, for those who may write articles."""
    if not agent.can_write:
        return None
    return {"enabled": True}
