"""The one write path of votes: a customer's from the portal, widget or board, an agent's for a customer from a
ticket, a survey comment's, a lost deal's. Each keeps the idea's stakes and value exact in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.customers.models import Contact, Organization
from deskloop.ideas.models import Idea, IdeaSubscription, IdeaTicket, IdeaVote, Importance, VoteSource
from deskloop.ideas.services.values import board_of, refresh_idea_values, refresh_stakes
from deskloop.tickets.models import Ticket

VOTE_WRITERS_ONLY = gettext_noop("Your role cannot vote for customers.")
MERGE_CHAIN_LIMIT = 20


@dataclass(frozen=True)
class Voter:
    """Who the vote counts for: a contact (their organization is taken from them), or an organization alone."""

    contact: Contact | None = None
    organization: Organization | None = None


@dataclass(frozen=True)
class CastVote:
    vote: IdeaVote
    created: bool


def live_idea(idea: Idea) -> Idea:
    """The idea a vote or link lands on: ``idea``, or the one it was merged into (followed to the end)."""
    current = idea
    for _step in range(MERGE_CHAIN_LIMIT):
        if current.merged_into_id is None:
            return current
        current = Idea.objects.get(pk=current.merged_into_id)
    raise ValidationFailed(_("This idea was merged too many times to follow."), field="idea")


def cast_vote(
    *,
    idea: Idea,
    voter: Voter,
    source: str,
    importance: int = Importance.NICE_TO_HAVE,
    ticket: Ticket | None = None,
    agent: Agent | None = None,
) -> CastVote:
    """Count ``voter`` for ``idea`` (or the idea it was merged into). A voter who already voted is not counted
    twice: the vote keeps the higher importance and gains the ticket. The contact is subscribed to the idea.
    ``agent``: the agent casting it for the customer (needs the write role)."""
    contact, organization = _checked_voter(idea, voter, source, importance, ticket, agent)
    with transaction.atomic():
        target = Idea.objects.select_for_update().get(pk=live_idea(idea).pk)
        vote, created = _upsert_vote(target, contact, organization, source, importance, ticket, agent)
        refresh_stakes(idea_id=target.pk, organization_ids=[vote.organization_id] if vote.organization_id else [])
        if ticket is not None:
            IdeaTicket.objects.get_or_create(
                workspace_id=target.workspace_id, idea=target, ticket=ticket, defaults={"linked_by": agent}
            )
        if contact is not None:
            IdeaSubscription.objects.get_or_create(workspace_id=target.workspace_id, idea=target, contact=contact)
        refresh_idea_values([target.pk], board=board_of(target.workspace_id))
    return CastVote(vote=vote, created=created)


def withdraw_vote(*, vote: IdeaVote, agent: Agent | None = None) -> None:
    """Take a vote back (the customer changed their mind, or an agent removes a wrong one)."""
    if agent is not None:
        require_role(agent, Capability.WRITE, VOTE_WRITERS_ONLY)
        if agent.workspace_id != vote.workspace_id:
            raise NotFound(_("No such vote in this workspace."))
    with transaction.atomic():
        idea = Idea.objects.select_for_update().get(pk=vote.idea_id)
        organization_id = vote.organization_id
        vote.delete()
        refresh_stakes(idea_id=idea.pk, organization_ids=[organization_id] if organization_id else [])
        refresh_idea_values([idea.pk], board=board_of(idea.workspace_id))


def _checked_voter(
    idea: Idea, voter: Voter, source: str, importance: int, ticket: Ticket | None, agent: Agent | None
) -> tuple[Contact | None, Organization | None]:
    if agent is not None:
        require_role(agent, Capability.WRITE, VOTE_WRITERS_ONLY)
        if agent.workspace_id != idea.workspace_id:
            raise NotFound(_("No such idea in this workspace."))
    if source not in VoteSource.values:
        raise ValidationFailed(_("Unknown vote source."), field="source")
    if importance not in Importance.values:
        raise ValidationFailed(_("Importance must be nice to have, important or critical."), field="importance")
    contact = voter.contact
    organization = contact.organization if contact is not None else voter.organization
    if contact is None and organization is None:
        raise ValidationFailed(_("A vote needs a customer or an organization."), field="contact")
    for obj, field in ((contact, "contact"), (organization, "organization"), (ticket, "ticket")):
        if obj is not None and obj.workspace_id != idea.workspace_id:
            raise ValidationFailed(_("It is not in this workspace."), field=field)
    return contact, organization


def _upsert_vote(
    idea: Idea,
    contact: Contact | None,
    organization: Organization | None,
    source: str,
    importance: int,
    ticket: Ticket | None,
    agent: Agent | None,
) -> tuple[IdeaVote, bool]:
    """The voter's vote on the locked idea: the existing one raised, or a new one."""
    existing = (
        IdeaVote.objects.filter(idea=idea, contact=contact)
        if contact is not None
        else IdeaVote.objects.filter(idea=idea, contact__isnull=True, organization=organization)
    ).first()
    if existing is not None:
        existing.importance = max(existing.importance, importance)
        existing.ticket = existing.ticket or ticket
        existing.cast_by = existing.cast_by or agent
        existing.save(update_fields=["importance", "ticket", "cast_by"])
        return existing, False
    try:
        with transaction.atomic():
            vote = IdeaVote.objects.create(
                workspace_id=idea.workspace_id,
                idea=idea,
                contact=contact,
                organization=organization,
                importance=importance,
                source=source,
                ticket=ticket,
                cast_by=agent,
            )
    except IntegrityError as exc:  # pragma: no cover - the idea's row lock serializes voters
        raise ValidationFailed(_("This customer has already voted."), field="contact") from exc
    return vote, True
