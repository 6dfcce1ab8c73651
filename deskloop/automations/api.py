"""Automation rules over the API, read-only: the rules, their run log, and the dry run. Admins only, as on the
settings page; an id of another workspace reads as "not found". Rules are written on the settings page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.automations import queries
from deskloop.automations.models import AutomationRule, AutomationRun
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems

router = Router(tags=["automations"])


class RuleOut(Schema):
    id: int
    name: str
    kind: str = Field(..., description="event: runs on the events listed; time: runs on its time condition.")
    events: list[str]
    time_condition: dict[str, Any] = Field(
        ..., description='Time rules: {"status_category", "hours_since" (a ticket timestamp), "hours"}.'
    )
    match: str = Field(..., description="all or any of the conditions.")
    conditions: list[dict[str, Any]] = Field(..., description='[{"field", "operator", "value"}]; ids for references.')
    actions: list[dict[str, Any]] = Field(..., description='[{"type", "value"(, "text")}]; ids for references.')
    is_active: bool
    position: int
    created_by_id: int = Field(..., description="The admin who last saved the rule: it acts with their rights.")
    created_at: dt.datetime
    updated_at: dt.datetime


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None


class RunOut(Schema):
    id: int
    ticket_number: int | None
    event: str
    outcome: str = Field(..., description="applied, skipped, loop_cut or failed.")
    detail: str
    created_at: dt.datetime

    @staticmethod
    def resolve_ticket_number(obj: AutomationRun) -> int | None:
        return obj.ticket.number if obj.ticket is not None else None


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


class PreviewTicket(Schema):
    number: int
    subject: str
    status: str
    priority: str

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return str(obj.status.name)


class PreviewOut(Schema):
    count: int = Field(..., description="How many tickets the rule would act on now.")
    tickets: list[PreviewTicket] = Field(..., description="The first 20 of them, most recently updated first.")


@router.get("/automations", response={200: RulePage, **problems(401, 403, 422, 429)}, summary="List automation rules")
@api_policy(ADMIN_ROLES)
def list_rules(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    return keyset_page(queries.rules_for_agent(caller_agent(request)), cursor=page.cursor, limit=page.limit)


@router.get(
    "/automations/{rule_id}",
    response={200: RuleOut, **problems(401, 403, 404, 429)},
    summary="Get an automation rule",
)
@api_policy(ADMIN_ROLES)
def get_rule(request: HttpRequest, rule_id: int) -> AutomationRule:
    return queries.get_rule_for_agent(caller_agent(request), rule_id)


@router.get(
    "/automations/{rule_id}/runs",
    response={200: RunPage, **problems(401, 403, 404, 422, 429)},
    summary="List an automation rule's runs",
    description="Oldest first, page by page: every run with its outcome and what it did or why it did not.",
)
@api_policy(ADMIN_ROLES)
def list_runs(request: HttpRequest, rule_id: int, page: Query[PageQuery]) -> CursorPage:
    rule = queries.get_rule_for_agent(caller_agent(request), rule_id)
    return keyset_page(queries.runs_of_rule(rule), cursor=page.cursor, limit=page.limit)


@router.post(
    "/automations/{rule_id}/preview",
    response={200: PreviewOut, **problems(401, 403, 404, 429)},
    summary="Dry-run an automation rule",
    description=(
        "Which tickets the rule would act on now (an event rule: the open tickets its conditions match; a time "
        "rule: those the next scheduler round would pick). Nothing is written."
    ),
)
@api_policy(ADMIN_ROLES)
def preview_rule(request: HttpRequest, rule_id: int) -> queries.Preview:
    return queries.preview(queries.get_rule_for_agent(caller_agent(request), rule_id))


__all__ = ["router"]
