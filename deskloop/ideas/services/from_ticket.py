"""An agent votes on an idea for the customer of a conversation, from the ticket page: the one write behind the
ticket page's "Vote for this customer" (an existing idea, or a new one posted on the spot).

The vote itself goes through ``votes.cast_vote`` (source AGENT, the ticket linked, the agent recorded); a new idea
through ``ideas.create_idea`` with the ticket's product area. Both in one transaction: a refused vote leaves no idea
behind. The customer must be someone of this conversation (its requester, or a contact who wrote in it), so an
agent cannot pin a vote on any contact of the workspace through a ticket they happen to see.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, Importance, VoteSource
from deskloop.ideas.services.ideas import create_idea
from deskloop.ideas.services.votes import CastVote, Voter, cast_vote
from deskloop.tickets.models import Message, Ticket


@dataclass(frozen=True)
class TicketVote:
    """What the agent chose: an existing ``idea``, or ``new_title`` for a new one (exactly one of them)."""

    contact_id: int
    importance: int = Importance.NICE_TO_HAVE
    idea: Idea | None = None
    new_title: str = ""
    new_idea_public: bool = False


def ticket_contact_ids(ticket: Ticket) -> list[int]:
    """The customers of a conversation, the requester first: whom an agent may vote for from it."""
    writers = (
        Message.objects.filter(ticket=ticket, author_contact__isnull=False)
        .exclude(author_contact_id=ticket.requester_id)
        .values_list("author_contact_id", flat=True)
        .distinct()
    )
    return [ticket.requester_id, *sorted(pk for pk in writers if pk is not None)]


def vote_from_ticket(*, ticket: Ticket, agent: Agent, choice: TicketVote) -> CastVote:
    """Vote for a customer of ``ticket`` on an existing or a new idea, linking the ticket (agents with the write
    role; ``cast_vote`` checks the role and the workspace)."""
    if choice.contact_id not in ticket_contact_ids(ticket):
        raise ValidationFailed(_("Choose a customer of this conversation."), field="contact")
    contact = Contact.objects.get(pk=choice.contact_id)
    title = " ".join(choice.new_title.split())
    if (choice.idea is None) == (not title):
        raise ValidationFailed(_("Choose an idea, or give a new one a title (not both)."), field="idea")
    if choice.idea is not None and choice.idea.workspace_id != ticket.workspace_id:
        raise ValidationFailed(_("Choose an idea, or give a new one a title (not both)."), field="idea")
    with transaction.atomic():
        idea = choice.idea or create_idea(
            workspace=ticket.workspace,
            title=title,
            product_area=ticket.product_area,
            author_agent=agent,
            is_public=choice.new_idea_public,
        )
        return cast_vote(
            idea=idea,
            voter=Voter(contact=contact),
            source=VoteSource.AGENT,
            importance=choice.importance,
            ticket=ticket,
            agent=agent,
        )
