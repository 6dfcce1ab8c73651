"""Ideas over the API, as on the agents' board: the ranked list with its filters, an idea, its status (through the
one status change, so webhooks and the closing-the-loop emails follow), merging duplicates, and votes cast for
customers. Every agent reads (what the agents' pages show: customers' names, emails, organizations and MRR);
writers change. Another workspace's idea or vote reads as "not found".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES, Agent
from deskloop.core.api_support import PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.customers.models import Segment
from deskloop.ideas import idea_queries
from deskloop.ideas.models import Idea, IdeaStatus, IdeaVote, Importance, VoteSource
from deskloop.ideas.queries import BoardQuery, board_page
from deskloop.ideas.services import ideas as services
from deskloop.ideas.services.votes import cast_vote, withdraw_vote
from deskloop.tickets.models import ProductArea

router = Router(tags=["ideas"])

ImportanceName = Literal["nice_to_have", "important", "critical"]
IMPORTANCE_BY_NAME: dict[str, int] = {
    "nice_to_have": Importance.NICE_TO_HAVE,
    "important": Importance.IMPORTANT,
    "critical": Importance.CRITICAL,
}
NAME_OF_IMPORTANCE = {value: name for name, value in IMPORTANCE_BY_NAME.items()}


class IdeaOut(Schema):
    id: int
    title: str
    description: str
    status: str = Field(..., description="under_review, planned, in_progress, shipped or declined")
    product_area_id: int | None
    is_public: bool = Field(..., description="Shown to customers (on a public board, the portal, the widget).")
    merged_into_id: int | None = Field(..., description="Set on a duplicate: the idea holding its votes now.")
    shipped_note: str
    shipped_at: dt.datetime | None
    status_changed_at: dt.datetime | None
    created_at: dt.datetime
    votes: int
    organizations: int = Field(..., description="Distinct organizations that voted.")
    total_mrr: Decimal = Field(..., description="Their MRR, summed.")
    score: Decimal = Field(..., description="Sum over those organizations of MRR x the weight of their importance.")
    url: str = Field(..., description="The idea's page for agents.")


class IdeaPage(Schema):
    items: list[IdeaOut]
    next_cursor: str | None


class IdeaListQuery(Schema):
    status: list[IdeaStatus] | None = Field(None, description="Any of these statuses (repeat the parameter).")
    product_area: int | None = Field(None, description="A product area's id: this area and the areas below it.")
    segment: int | None = Field(None, description="A saved segment's id: only its organizations count (and are kept).")
    sort: Literal["score", "votes", "newest", "trending"] = "score"
    q: str | None = Field(None, max_length=200, description="Words in the title or description.")
    cursor: str | None = None
    limit: int = Field(30, ge=1, le=100)


class IdeaIn(Schema):
    title: str = Field(..., max_length=services.TITLE_MAX)
    description: str = Field("", max_length=services.DESCRIPTION_MAX)
    product_area_id: int | None = None
    is_public: bool = True


class IdeaUpdateIn(Schema):
    """Only the fields sent change; ``null`` clears the product area. A new ``status`` goes through the status
    change (webhook ``idea.status_changed``; shipped tells everyone who asked)."""

    title: str | None = Field(None, max_length=services.TITLE_MAX)
    description: str | None = Field(None, max_length=services.DESCRIPTION_MAX)
    product_area_id: int | None = None
    is_public: bool | None = None
    status: IdeaStatus | None = None
    shipped_note: str | None = Field(None, max_length=services.SHIPPED_NOTE_MAX)


class MergeIn(Schema):
    # Optional, so an id of another workspace in the path is answered 404 before the body is judged.
    into: int | None = Field(None, description="The idea to keep; this one's votes, links and followers move there.")


class VoteOut(Schema):
    id: int
    idea_id: int
    contact_id: int | None
    contact_name: str
    contact_email: str
    organization_id: int | None
    organization_name: str
    plan: str
    mrr: Decimal | None
    importance: ImportanceName
    source: str
    ticket_number: int | None
    cast_by_id: int | None
    created_at: dt.datetime


class VotePage(Schema):
    items: list[VoteOut]
    next_cursor: str | None


class VoteIn(Schema):
    """Name the customer by exactly one of ``contact_id``, ``email`` or ``organization_id`` (an organization's
    vote without a contact)."""

    contact_id: int | None = None
    email: str | None = Field(None, max_length=254)
    organization_id: int | None = None
    importance: ImportanceName = "nice_to_have"
    ticket_number: int | None = Field(None, description="The conversation it came from: linked to the idea.")


def _idea_payload(idea: Idea, votes: int, organizations: int, total_mrr: Decimal, score: Decimal) -> dict[str, Any]:
    return {
        "id": idea.pk,
        "title": idea.title,
        "description": idea.description,
        "status": idea.status,
        "product_area_id": idea.product_area_id,
        "is_public": idea.is_public,
        "merged_into_id": idea.merged_into_id,
        "shipped_note": idea.shipped_note,
        "shipped_at": idea.shipped_at,
        "status_changed_at": idea.status_changed_at,
        "created_at": idea.created_at,
        "votes": votes,
        "organizations": organizations,
        "total_mrr": total_mrr,
        "score": score,
        "url": services.idea_url(idea),
    }


def _idea_out(idea: Idea) -> dict[str, Any]:
    return _idea_payload(idea, idea.vote_count, idea.organization_count, idea.total_mrr, idea.score)


def _vote_out(vote: IdeaVote) -> dict[str, Any]:
    contact, organization = vote.contact, vote.organization
    return {
        "id": vote.pk,
        "idea_id": vote.idea_id,
        "contact_id": vote.contact_id,
        "contact_name": contact.display_name if contact else "",
        "contact_email": contact.primary_email if contact else "",
        "organization_id": vote.organization_id,
        "organization_name": organization.name if organization else "",
        "plan": organization.plan if organization else "",
        "mrr": organization.mrr if organization else None,
        "importance": NAME_OF_IMPORTANCE[vote.importance],
        "source": vote.source,
        "ticket_number": vote.ticket.number if vote.ticket else None,
        "cast_by_id": vote.cast_by_id,
        "created_at": vote.created_at,
    }


def _area(agent: Agent, area_id: int | None) -> ProductArea | None:
    if area_id is None:
        return None
    found = ProductArea.objects.filter(workspace_id=agent.workspace_id, pk=area_id).first()
    if found is None:
        raise ValidationFailed(_("No such product area in this workspace."), field="product_area_id")
    return found


@router.get("/ideas", response={200: IdeaPage, **problems(401, 403, 422, 429)}, summary="List ideas")
@api_policy(ALL_ROLES)
def list_ideas(request: HttpRequest, filters: Query[IdeaListQuery]) -> dict[str, Any]:
    """The board: live ideas (not merged ones) by score, votes, newest or trending. With ``segment`` the
    values count only that segment's organizations, and ideas none of them asked for are left out."""
    agent = caller_agent(request)
    segment = None
    if filters.segment is not None:
        segment = Segment.objects.filter(workspace_id=agent.workspace_id, pk=filters.segment).first()
        if segment is None:
            raise ValidationFailed(_("No such segment in this workspace."), field="segment")
    page = board_page(
        BoardQuery(
            workspace_id=agent.workspace_id,
            statuses=tuple(filters.status or ()),
            product_area_ids=(filters.product_area,) if filters.product_area else (),
            segment=segment,
            sort=filters.sort,
            text=filters.q or "",
        ),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {
        "items": [_idea_payload(r.idea, r.votes, r.organizations, r.total_mrr, r.score) for r in page.rows],
        "next_cursor": page.next_cursor,
    }


@router.post("/ideas", response={201: IdeaOut, **problems(401, 403, 409, 422, 429)}, summary="Post an idea")
@api_policy(WRITER_ROLES, idempotent=True)
def create_idea(request: HttpRequest, payload: IdeaIn, response: HttpResponse) -> Status[dict[str, Any]]:
    """A new idea under review, posted by the token's agent (who follows it)."""
    agent = caller_agent(request)
    idea = services.create_idea(
        workspace=agent.workspace,
        title=payload.title,
        description=payload.description,
        product_area=_area(agent, payload.product_area_id),
        author_agent=agent,
        is_public=payload.is_public,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{idea.pk}"
    return Status(201, _idea_out(idea))


@router.get("/ideas/{idea_id}", response={200: IdeaOut, **problems(401, 403, 404, 429)}, summary="Get an idea")
@api_policy(ALL_ROLES)
def get_idea(request: HttpRequest, idea_id: int) -> dict[str, Any]:
    return _idea_out(idea_queries.get_idea_for_agent(caller_agent(request), idea_id))


@router.patch(
    "/ideas/{idea_id}", response={200: IdeaOut, **problems(401, 403, 404, 409, 422, 429)}, summary="Change an idea"
)
@api_policy(WRITER_ROLES)
def update_idea(request: HttpRequest, idea_id: int, payload: IdeaUpdateIn) -> dict[str, Any]:
    agent = caller_agent(request)
    idea = idea_queries.get_idea_for_agent(agent, idea_id)
    sent = payload.model_fields_set
    changes = services.IdeaChanges()
    if "title" in sent:
        changes.title = payload.title or ""
    if "description" in sent:
        changes.description = payload.description or ""
    if "product_area_id" in sent:
        changes.product_area = _area(agent, payload.product_area_id)
    if "is_public" in sent and payload.is_public is not None:
        changes.is_public = payload.is_public
    if {"title", "description", "product_area_id", "is_public"} & sent:
        idea = services.edit_idea(idea=idea, agent=agent, changes=changes)
    if payload.status is not None or payload.shipped_note is not None:
        idea = services.change_status(
            idea=idea, status=payload.status or idea.status, agent=agent, shipped_note=payload.shipped_note or ""
        )
    return _idea_out(idea_queries.get_idea_for_agent(agent, idea.pk))


@router.post(
    "/ideas/{idea_id}/merge",
    response={200: IdeaOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Merge a duplicate into another idea",
    description="Votes (one per voter, the higher importance), ticket links, comments and followers move to "
    "``into``; this idea then points there (``merged_into_id``). Answers the idea kept.",
)
@api_policy(WRITER_ROLES)
def merge_idea(request: HttpRequest, idea_id: int, payload: MergeIn) -> dict[str, Any]:
    agent = caller_agent(request)
    loser = idea_queries.get_idea_for_agent(agent, idea_id)
    if payload.into is None:
        raise ValidationFailed(_("Say which idea to merge it into."), field="into")
    survivor = Idea.objects.filter(workspace_id=agent.workspace_id, pk=payload.into).first()
    if survivor is None:
        raise ValidationFailed(_("No such idea in this workspace."), field="into")
    return _idea_out(services.merge_ideas(loser=loser, survivor=survivor, agent=agent))


@router.get(
    "/ideas/{idea_id}/votes",
    response={200: VotePage, **problems(401, 403, 404, 422, 429)},
    summary="List an idea's votes",
)
@api_policy(ALL_ROLES)
def list_votes(request: HttpRequest, idea_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """Who voted, by id: the customer, their organization (plan, MRR), importance, source and ticket."""
    idea = idea_queries.get_idea_for_agent(caller_agent(request), idea_id)
    votes = IdeaVote.objects.filter(idea=idea).select_related("contact", "organization", "ticket")
    found = keyset_page(votes.prefetch_related("contact__emails"), cursor=page.cursor, limit=page.limit)
    return {"items": [_vote_out(v) for v in found.items], "next_cursor": found.next_cursor}


@router.post(
    "/ideas/{idea_id}/votes",
    response={200: VoteOut, 201: VoteOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Vote for a customer",
    description="201 with a new vote; 200 when the customer had voted (the vote keeps the higher importance). "
    "A vote on a merged idea lands on the idea it was merged into.",
)
@api_policy(WRITER_ROLES)
def create_vote(request: HttpRequest, idea_id: int, payload: VoteIn) -> Status[dict[str, Any]]:
    agent = caller_agent(request)
    idea = idea_queries.get_idea_for_agent(agent, idea_id)
    voter = idea_queries.voter_for(
        agent.workspace_id,
        contact_id=payload.contact_id,
        email=payload.email or "",
        organization_id=payload.organization_id,
    )
    cast = cast_vote(
        idea=idea,
        voter=voter,
        source=VoteSource.API,
        importance=IMPORTANCE_BY_NAME[payload.importance],
        ticket=idea_queries.ticket_for_vote(agent.workspace_id, payload.ticket_number),
        agent=agent,
    )
    vote = IdeaVote.objects.select_related("contact", "organization", "ticket").get(pk=cast.vote.pk)
    return Status(201 if cast.created else 200, _vote_out(vote))


@router.delete(
    "/ideas/{idea_id}/votes/{vote_id}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Remove a vote",
)
@api_policy(WRITER_ROLES)
def delete_vote(request: HttpRequest, idea_id: int, vote_id: int) -> Status[None]:
    agent = caller_agent(request)
    idea = idea_queries.get_idea_for_agent(agent, idea_id)
    vote = IdeaVote.objects.filter(idea=idea, pk=vote_id).first()
    if vote is None:
        raise NotFound(_("No such vote on this idea."))
    withdraw_vote(vote=vote, agent=agent)
    return Status(204, None)
