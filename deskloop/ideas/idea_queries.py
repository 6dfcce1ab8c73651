"""Reads of one idea for agents: the access helper, its evidence (who asked, how badly, from which conversation),
and the search that finds the survivor of a merge. The board's lists are ``queries.board_page``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact, ContactEmail, Organization
from deskloop.customers.services import normalize_email
from deskloop.ideas.models import Idea, IdeaComment, IdeaSubscription, IdeaTicket, IdeaVote
from deskloop.ideas.services.votes import Voter
from deskloop.tickets.models import Ticket

EVIDENCE_LIMIT = 500


def get_idea_for_agent(agent: Agent, idea_id: int) -> Idea:
    """The idea in the agent's workspace, or 404 (never another workspace's). Merged ideas are returned so their
    page can point at the survivor."""
    idea = (
        Idea.objects.select_related("product_area", "author_contact", "author_agent__user", "merged_into")
        .filter(workspace_id=agent.workspace_id, pk=idea_id)
        .first()
    )
    if idea is None:
        raise Http404("No such idea")
    return idea


def idea_votes(idea: Idea) -> QuerySet[IdeaVote]:
    """The votes with what values them: organization (plan, MRR), importance, source, ticket; biggest first."""
    return (
        IdeaVote.objects.filter(idea=idea)
        .select_related("contact", "organization", "ticket", "cast_by__user")
        .prefetch_related(Prefetch("contact__emails", queryset=ContactEmail.objects.order_by("id")))
        .order_by("-importance", "-organization__mrr", "-id")
    )


@dataclass(frozen=True)
class IdeaEvidence:
    votes: list[IdeaVote]
    more_votes: bool
    tickets: list[IdeaTicket]
    comments: list[IdeaComment]
    subscribers: list[IdeaSubscription]


def idea_evidence(idea: Idea) -> IdeaEvidence:
    """Everything the idea's page shows, in a fixed number of queries (lists cut at ``EVIDENCE_LIMIT``)."""
    votes = list(idea_votes(idea)[: EVIDENCE_LIMIT + 1])
    tickets = list(
        IdeaTicket.objects.filter(idea=idea)
        .select_related("ticket__requester", "ticket__status")
        .prefetch_related("ticket__requester__emails")
        .order_by("-created_at")[:EVIDENCE_LIMIT]
    )
    comments = list(
        IdeaComment.objects.filter(idea=idea)
        .select_related("author_contact", "author_agent__user")
        .prefetch_related("author_contact__emails")
        .order_by("created_at", "id")[:EVIDENCE_LIMIT]
    )
    subscribers = list(
        IdeaSubscription.objects.filter(idea=idea)
        .select_related("contact", "agent__user")
        .prefetch_related("contact__emails")
        .order_by("id")[:EVIDENCE_LIMIT]
    )
    return IdeaEvidence(
        votes=votes[:EVIDENCE_LIMIT],
        more_votes=len(votes) > EVIDENCE_LIMIT,
        tickets=tickets,
        comments=comments,
        subscribers=subscribers,
    )


def merge_candidates(idea: Idea, text: str, limit: int = 20) -> list[Idea]:
    """Live ideas of the workspace, other than ``idea``, whose title or description holds ``text`` (by score)."""
    words = text.strip()
    found = Idea.objects.filter(workspace_id=idea.workspace_id, merged_into__isnull=True).exclude(pk=idea.pk)
    if words:
        number = words.lstrip("#")
        match = Q(title__icontains=words) | Q(description__icontains=words)
        if number.isdigit():
            match |= Q(pk=int(number))
        found = found.filter(match)
    return list(found.order_by("-score", "-id")[:limit])


def is_subscribed(idea: Idea, agent: Agent) -> bool:
    return IdeaSubscription.objects.filter(idea=idea, agent=agent).exists()


def voter_for(
    workspace_id: int, *, contact_id: int | None = None, email: str = "", organization_id: int | None = None
) -> Voter:
    """Who an agent votes for, named by contact id, a contact's email or an organization id (exactly one); a
    ValidationFailed on the field when it is not a customer of this workspace."""
    given = [contact_id is not None, bool((email or "").strip()), organization_id is not None]
    if sum(given) != 1:
        raise ValidationFailed(_("Name the customer: a contact, an email or an organization."), field="email")
    if contact_id is not None:
        contact = Contact.objects.select_related("organization").filter(workspace_id=workspace_id, pk=contact_id)
        found = contact.first()
        if found is None:
            raise ValidationFailed(_("No such contact in this workspace."), field="contact_id")
        return Voter(contact=found)
    if organization_id is not None:
        organization = Organization.objects.filter(workspace_id=workspace_id, pk=organization_id).first()
        if organization is None:
            raise ValidationFailed(_("No such organization in this workspace."), field="organization_id")
        return Voter(organization=organization)
    identity = (
        ContactEmail.objects.select_related("contact__organization")
        .filter(workspace_id=workspace_id, email=normalize_email(email))
        .first()
    )
    if identity is None:
        raise ValidationFailed(_("No customer with this email in this workspace."), field="email")
    return Voter(contact=identity.contact)


def ticket_for_vote(workspace_id: int, number: int | None) -> Ticket | None:
    """The ticket a vote came from, by its number in the workspace (None when not given)."""
    if number is None:
        return None
    ticket = Ticket.objects.filter(workspace_id=workspace_id, number=number, deleted_at__isnull=True).first()
    if ticket is None:
        raise ValidationFailed(_("No such ticket in this workspace."), field="ticket_number")
    return ticket
