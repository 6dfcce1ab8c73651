"""SLA policies over the API (admins write, every agent reads) and a ticket's SLA clocks.

The same services and queries as the settings page; an id of another workspace reads as "not found".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.service_levels import queries, services
from deskloop.service_levels.models import SlaPolicy, SlaTarget
from deskloop.tickets.queries import get_ticket_for_agent

router = Router(tags=["sla"])


class Conditions(Schema):
    """Each list narrows the tickets the policy covers; an empty or missing list matches any ticket."""

    organization_ids: list[int] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    tag_names: list[str] = Field(default_factory=list, description="Any of these tags.")
    product_area_ids: list[int] = Field(default_factory=list, description="These areas and their sub-areas.")


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    conditions: dict[str, list[Any]]
    calendar_id: int | None
    first_response_minutes: int | None = Field(None, description="Business minutes; null: no such target.")
    next_response_minutes: int | None
    resolution_minutes: int | None
    warn_before_minutes: int
    override_organization_ids: list[int] = Field(
        default_factory=list, description="Organizations that always get this policy, whatever the conditions."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_override_organization_ids(obj: SlaPolicy) -> list[int]:
        return queries.override_organization_ids(obj)


class PolicyPage(Schema):
    items: list[PolicyOut]
    next_cursor: str | None


class PolicyIn(Schema):
    name: str = Field(..., max_length=services.NAME_MAX)
    position: int = 0
    is_active: bool = True
    conditions: Conditions = Field(default_factory=Conditions)
    calendar_id: int | None = Field(None, description="Null: the workspace's default calendar, else around the clock.")
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_before_minutes: int = 30
    override_organization_ids: list[int] = Field(default_factory=list)


class PolicyUpdateIn(Schema):
    """Only the fields sent change (send null to clear a target or the calendar)."""

    name: str | None = Field(None, max_length=services.NAME_MAX)
    position: int | None = None
    is_active: bool | None = None
    conditions: Conditions | None = None
    calendar_id: int | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_before_minutes: int | None = None
    override_organization_ids: list[int] | None = None


class TargetOut(Schema):
    id: int
    metric: str
    policy_id: int | None
    target_minutes: int
    started_at: dt.datetime
    due_at: dt.datetime | None = Field(None, description="Null while paused.")
    paused_at: dt.datetime | None
    remaining_business_minutes: int | None
    stopped_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    state: str = Field(..., description="running, paused, breached (still running), met or missed.")

    @staticmethod
    def resolve_state(obj: SlaTarget) -> str:
        if obj.stopped_at is not None:
            return "missed" if obj.breached_at else "met"
        if obj.breached_at is not None:
            return "breached"
        return "paused" if obj.paused_at is not None else "running"


class TicketSlaOut(Schema):
    ticket_number: int
    sla_due_at: dt.datetime | None
    sla_paused: bool
    first_response_business_minutes: int | None
    resolution_business_minutes: int | None
    targets: list[TargetOut]


@router.get("/sla-policies", response={200: PolicyPage, **problems(401, 422, 429)}, summary="List SLA policies")
@api_policy(ALL_ROLES)
def list_policies(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    policies = SlaPolicy.objects.filter(workspace_id=caller_agent(request).workspace_id)
    return keyset_page(policies, cursor=page.cursor, limit=page.limit)


@router.post(
    "/sla-policies",
    response={201: PolicyOut, **problems(401, 403, 409, 422, 429)},
    summary="Add an SLA policy",
    description="Applies to clocks that start from now on; running clocks keep their deadlines.",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def create_policy(request: HttpRequest, payload: PolicyIn, response: HttpResponse) -> Status[SlaPolicy]:
    values = services.PolicyValues(**{**payload.dict(), "conditions": payload.conditions.dict()})
    policy = services.create_policy(actor=caller_agent(request), values=values)
    response["Location"] = f"{request.path.rstrip('/')}/{policy.pk}"
    return Status(201, policy)


@router.get(
    "/sla-policies/{policy_id}", response={200: PolicyOut, **problems(401, 404, 429)}, summary="Get an SLA policy"
)
@api_policy(ALL_ROLES)
def get_policy(request: HttpRequest, policy_id: int) -> SlaPolicy:
    return queries.get_policy_for_agent(caller_agent(request), policy_id)


@router.patch(
    "/sla-policies/{policy_id}",
    response={200: PolicyOut, **problems(401, 403, 404, 422, 429)},
    summary="Change an SLA policy",
)
@api_policy(ADMIN_ROLES)
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyUpdateIn) -> SlaPolicy:
    agent = caller_agent(request)
    policy = queries.get_policy_for_agent(agent, policy_id)
    sent = payload.dict(exclude_unset=True)
    if "conditions" in sent:
        sent["conditions"] = (payload.conditions or Conditions()).dict()
    values = services.policy_values(policy)
    changed = services.PolicyValues(**{**values.__dict__, **sent})
    return services.update_policy(actor=agent, policy=policy, values=changed)


@router.delete(
    "/sla-policies/{policy_id}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Delete an SLA policy",
    description="Its organization overrides go with it; the clocks it started stay, without a policy.",
)
@api_policy(ADMIN_ROLES)
def delete_policy(request: HttpRequest, policy_id: int) -> Status[None]:
    agent = caller_agent(request)
    services.delete_policy(actor=agent, policy=queries.get_policy_for_agent(agent, policy_id))
    return Status(204, None)


@router.get(
    "/tickets/{number}/sla",
    response={200: TicketSlaOut, **problems(401, 404, 429)},
    summary="A ticket's SLA clocks",
    description="Every clock the ticket has had (one next-response row per cycle), oldest first.",
)
@api_policy(ALL_ROLES)
def ticket_sla(request: HttpRequest, number: int) -> dict[str, Any]:
    ticket = get_ticket_for_agent(caller_agent(request), number)
    return {
        "ticket_number": ticket.number,
        "sla_due_at": ticket.sla_due_at,
        "sla_paused": ticket.sla_paused,
        "first_response_business_minutes": ticket.first_response_business_minutes,
        "resolution_business_minutes": ticket.resolution_business_minutes,
        "targets": queries.targets_of(ticket),
    }


__all__ = ["router"]
