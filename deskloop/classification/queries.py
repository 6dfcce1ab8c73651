from __future__ import annotations

from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.classification.models import TicketSuggestion
from deskloop.tickets.queries import get_ticket_for_agent


def suggestion_for_agent(agent: Agent, number: int) -> TicketSuggestion:
    """The suggestion of the agent's workspace's ticket ``number``, or 404 (never another workspace's)."""
    ticket = get_ticket_for_agent(agent, number)
    suggestion = TicketSuggestion.objects.filter(workspace_id=agent.workspace_id, ticket=ticket).first()
    if suggestion is None:
        raise Http404("No suggestion for this ticket")
    suggestion.ticket = ticket
    return suggestion
