"""Saved segments over the API: list, create, read, change, delete (``customers.segments`` owns the rules)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES, Agent
from deskloop.accounts.schemas import AgentRef
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.customers.api import owner_in_workspace
from deskloop.customers.models import LifecycleStage, Segment
from deskloop.customers.segments import SegmentRules, delete_segment, save_segment

router = Router(tags=["segments"])


class SegmentOut(Schema):
    id: int
    name: str
    mrr_above: Decimal | None = Field(..., description="Organizations with MRR strictly above this.")
    min_customer_months: int | None = Field(..., description="Customers for at least this many months.")
    industry: str = Field(..., description="Industry, compared without case; empty: any.")
    plan: str = Field(..., description="Plan, compared without case; empty: any.")
    lifecycle_stage: LifecycleStage | None
    owner: AgentRef | None
    created_at: dt.datetime

    @staticmethod
    def resolve_lifecycle_stage(obj: Segment) -> str | None:
        return obj.lifecycle_stage or None


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class SegmentIn(Schema):
    """Every condition left out matches everyone; the conditions that are set must all hold."""

    name: str = Field(..., max_length=100)
    mrr_above: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    min_customer_months: int | None = None
    industry: str = Field("", max_length=100)
    plan: str = Field("", max_length=100)
    lifecycle_stage: LifecycleStage | None = None
    owner_id: int | None = Field(None, description="An agent of this workspace.")


class SegmentUpdateIn(Schema):
    """Only the fields sent change; send null to drop a condition."""

    name: str | None = Field(None, max_length=100)
    mrr_above: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    min_customer_months: int | None = None
    industry: str | None = Field(None, max_length=100)
    plan: str | None = Field(None, max_length=100)
    lifecycle_stage: LifecycleStage | None = None
    owner_id: int | None = None


def _segments(workspace_id: int) -> QuerySet[Segment]:
    return Segment.objects.filter(workspace_id=workspace_id).select_related("owner__user")


def _segment(agent: Agent, segment_id: int) -> Segment:
    segment = _segments(agent.workspace_id).filter(pk=segment_id).first()
    if segment is None:
        raise Http404
    return segment


@router.get("/segments", response={200: SegmentPage, **problems(401, 422, 429)}, summary="List saved segments")
@api_policy(ALL_ROLES)
def list_segments(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    return keyset_page(_segments(agent.workspace_id), cursor=page.cursor, limit=page.limit)


@router.get("/segments/{segment_id}", response={200: SegmentOut, **problems(401, 404, 429)}, summary="Get a segment")
@api_policy(ALL_ROLES)
def get_segment(request: HttpRequest, segment_id: int) -> Segment:
    return _segment(caller_agent(request), segment_id)


@router.post("/segments", response={201: SegmentOut, **problems(401, 403, 409, 422, 429)}, summary="Save a new segment")
@api_policy(WRITER_ROLES, idempotent=True)
def create_segment(request: HttpRequest, payload: SegmentIn, response: HttpResponse) -> Status[Segment]:
    agent = caller_agent(request)
    rules = SegmentRules(
        name=payload.name,
        mrr_above=payload.mrr_above,
        min_customer_months=payload.min_customer_months,
        industry=payload.industry,
        plan=payload.plan,
        lifecycle_stage=payload.lifecycle_stage or "",
        owner=owner_in_workspace(agent.workspace_id, payload.owner_id),
    )
    segment = save_segment(agent=agent, rules=rules)
    response["Location"] = f"{request.path.rstrip('/')}/{segment.pk}"
    return Status(201, _segment(agent, segment.pk))


@router.patch(
    "/segments/{segment_id}",
    response={200: SegmentOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Change a segment",
    description="Only the fields sent change; null drops that condition.",
)
@api_policy(WRITER_ROLES)
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentUpdateIn) -> Segment:
    agent = caller_agent(request)
    segment = _segment(agent, segment_id)
    sent: dict[str, Any] = payload.dict(exclude_unset=True)
    owner = segment.owner
    if "owner_id" in sent:
        owner = owner_in_workspace(agent.workspace_id, sent["owner_id"])
    rules = SegmentRules(
        name=sent.get("name") or segment.name,
        mrr_above=sent.get("mrr_above", segment.mrr_above),
        min_customer_months=sent.get("min_customer_months", segment.min_customer_months),
        industry=(sent["industry"] or "") if "industry" in sent else segment.industry,
        plan=(sent["plan"] or "") if "plan" in sent else segment.plan,
        lifecycle_stage=(sent["lifecycle_stage"] or "") if "lifecycle_stage" in sent else segment.lifecycle_stage,
        owner=owner,
    )
    save_segment(agent=agent, rules=rules, segment=segment)
    return _segment(agent, segment.pk)


@router.delete(
    "/segments/{segment_id}", response={204: None, **problems(401, 403, 404, 429)}, summary="Delete a segment"
)
@api_policy(WRITER_ROLES)
def remove_segment(request: HttpRequest, segment_id: int) -> Status[None]:
    agent = caller_agent(request)
    delete_segment(agent=agent, segment=_segment(agent, segment_id))
    return Status(204, None)
