"""The ticket page's "Ideas" panel: the ideas this conversation asked for, with their status (shipped, with the
date, so the agent can tell the customer), and "Vote for this customer": find an idea or post a new one, choose
the importance, for the requester by default (or another customer who wrote in the conversation).

Registered on tickets' page panel registry from ``IdeasConfig.ready`` (tickets cannot name ideas). The panel's
context costs two queries (the linked ideas; the conversation's other customers, for writers); the idea search is
loaded by the panel itself through htmx (``views_ticket``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from deskloop.accounts.models import Agent
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, IdeaTicket, Importance
from deskloop.ideas.services.from_ticket import ticket_contact_ids
from deskloop.tickets.models import Ticket


@dataclass(frozen=True)
class LinkedIdea:
    idea: Idea
    url: str


def agents_idea_url(idea: Idea) -> str:
    """The agents' page of the idea, or "" where the agents' idea pages are not mounted."""
    try:
        return reverse("ideas:detail", args=[idea.pk])
    except NoReverseMatch:
        return ""


def linked_ideas(ticket: Ticket) -> list[LinkedIdea]:
    links = IdeaTicket.objects.filter(ticket=ticket).select_related("idea").order_by("created_at", "pk")
    return [LinkedIdea(link.idea, agents_idea_url(link.idea)) for link in links]


def ideas_panel_context(*, ticket: Ticket, agent: Agent, notice: str = "", error: str = "") -> dict[str, Any]:
    may_vote = agent.can_write and ticket.deleted_at is None and ticket.merged_into_id is None
    customers: list[Contact] = []
    if may_vote:
        ids = ticket_contact_ids(ticket)
        others = {c.pk: c for c in Contact.objects.filter(pk__in=ids[1:]).prefetch_related("emails")}
        customers = [ticket.requester, *(others[pk] for pk in ids[1:] if pk in others)]
    return {
        "ticket_number": ticket.number,
        "linked": linked_ideas(ticket),
        "may_vote": may_vote,
        "customers": customers,
        "importances": Importance.choices,
        "notice": notice,
        "error": error,
    }


def ideas_panel(*, ticket: Ticket, agent: Agent) -> Mapping[str, Any] | None:
    """Every ticket page shows the panel; the vote form only for those who may vote for customers."""
    return ideas_panel_context(ticket=ticket, agent=agent)
