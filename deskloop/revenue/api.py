"""Deals and churn records over the API: list (cut like the pages), create, read, change. Writes go through the
same services as the pages and the CSV import."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Query, Router
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES, Agent
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Organization
from deskloop.ideas.models import Idea
from deskloop.revenue import queries
from deskloop.revenue.models import ChurnRecord, Deal, LostReason
from deskloop.revenue.schemas import (
    ChurnListQuery,
    ChurnRecordIn,
    ChurnRecordOut,
    ChurnRecordPage,
    ChurnRecordPatch,
    DealIn,
    DealListQuery,
    DealOut,
    DealPage,
    DealPatch,
)
from deskloop.revenue.services.churn import ChurnValues, record_churn, update_churn
from deskloop.revenue.services.deals import DealValues, record_deal, update_deal
from deskloop.tickets.models import ProductArea

router = Router(tags=["revenue"])

# The id fields of a body and what they name; another workspace's id is reported like a missing one.
_REFERENCES: dict[str, tuple[type[Any], str, str]] = {
    "organization_id": (Organization, "organization", gettext_noop("No such organization in this workspace.")),
    "lost_reason_id": (LostReason, "lost_reason", gettext_noop("No such lost reason in this workspace.")),
    "product_area_id": (ProductArea, "product_area", gettext_noop("No such product area in this workspace.")),
    "idea_id": (Idea, "idea", gettext_noop("No such idea in this workspace.")),
    "owner_id": (Agent, "owner", gettext_noop("No such agent in this workspace.")),
}


def _resolved(workspace_id: int, sent: dict[str, Any]) -> dict[str, Any]:
    """The body's fields with each ``*_id`` replaced by its object of this workspace (None stays None)."""
    values: dict[str, Any] = {}
    for key, value in sent.items():
        if key not in _REFERENCES:
            values[key] = value
            continue
        model, name, missing = _REFERENCES[key]
        found = None if value is None else model.objects.filter(workspace_id=workspace_id, pk=value).first()
        if value is not None and found is None:
            raise ValidationFailed(_(missing), field=key)
        values[name] = found
    return values


def _deal_values(deal: Deal) -> dict[str, Any]:
    return {
        "organization": deal.organization,
        "name": deal.name,
        "amount": deal.amount,
        "currency": deal.currency,
        "stage": deal.stage,
        "status": deal.status,
        "lost_reason": deal.lost_reason,
        "competitor": deal.competitor,
        "industry": deal.industry,
        "product_area": deal.product_area,
        "idea": deal.idea,
        "owner": deal.owner,
        "closed_on": deal.closed_on,
        "external_id": deal.external_id,
    }


def _churn_values(record: ChurnRecord) -> dict[str, Any]:
    return {
        "organization": record.organization,
        "churned_on": record.churned_on,
        "reason": record.reason,
        "mrr_lost": record.mrr_lost,
        "product_area": record.product_area,
        "idea": record.idea,
        "notes": record.notes,
        "won_back_on": record.won_back_on,
        "external_id": record.external_id,
    }


@router.get("/deals", response={200: DealPage, **problems(401, 404, 422, 429)}, summary="List deals")
@api_policy(ALL_ROLES)
def list_deals(request: HttpRequest, filters: Query[DealListQuery], page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    cut = queries.DealFilter(
        status=filters.status or "",
        product_area_id=filters.product_area,
        segment=queries.segment_in_workspace(agent.workspace_id, filters.segment),
        lost_reason_id=filters.lost_reason_id,
        idea_id=filters.idea_id,
        closed_from=filters.closed_from,
        closed_until=filters.closed_until,
        external_id=filters.external_id or "",
    )
    return keyset_page(queries.deals_for(agent.workspace_id, cut), cursor=page.cursor, limit=page.limit)


@router.get("/deals/{deal_id}", response={200: DealOut, **problems(401, 404, 429)}, summary="Get a deal")
@api_policy(ALL_ROLES)
def get_deal(request: HttpRequest, deal_id: int) -> Deal:
    return queries.get_deal_for_agent(caller_agent(request), deal_id)


@router.post(
    "/deals",
    response={201: DealOut, **problems(401, 403, 409, 422, 429)},
    summary="Record a deal",
    description="A deal recorded lost for a reason marked missing functionality, in one of the workspace's target "
    "industries, opens a task for the product area's owner and counts as a critical vote of the organization on "
    "the idea; `deal.lost` is published.",
)
@api_policy(WRITER_ROLES, idempotent=True)
def create_deal(request: HttpRequest, payload: DealIn, response: HttpResponse) -> Status[Deal]:
    agent = caller_agent(request)
    values = _resolved(agent.workspace_id, payload.model_dump())
    deal = record_deal(workspace=agent.workspace, values=DealValues(**values), actor=agent)
    response["Location"] = f"{request.path.rstrip('/')}/{deal.pk}"
    return Status(201, queries.get_deal_for_agent(agent, deal.pk))


@router.patch(
    "/deals/{deal_id}", response={200: DealOut, **problems(401, 403, 404, 409, 422, 429)}, summary="Change a deal"
)
@api_policy(WRITER_ROLES)
def change_deal(request: HttpRequest, deal_id: int, payload: DealPatch) -> Deal:
    agent = caller_agent(request)
    deal = queries.get_deal_for_agent(agent, deal_id)
    sent = _resolved(agent.workspace_id, payload.model_dump(exclude_unset=True))
    if "organization" in sent and sent["organization"] is None:
        raise ValidationFailed(_("A deal needs an organization."), field="organization_id")
    update_deal(deal=deal, values=DealValues(**{**_deal_values(deal), **sent}), actor=agent)
    return queries.get_deal_for_agent(agent, deal.pk)


@router.get(
    "/churn-records", response={200: ChurnRecordPage, **problems(401, 404, 422, 429)}, summary="List churn records"
)
@api_policy(ALL_ROLES)
def list_churn_records(request: HttpRequest, filters: Query[ChurnListQuery], page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    cut = queries.ChurnFilter(
        reason=filters.reason or "",
        product_area_id=filters.product_area,
        segment=queries.segment_in_workspace(agent.workspace_id, filters.segment),
        churned_from=filters.churned_from,
        churned_until=filters.churned_until,
        won_back=filters.won_back,
        idea_id=filters.idea_id,
        external_id=filters.external_id or "",
    )
    return keyset_page(queries.churn_records_for(agent.workspace_id, cut), cursor=page.cursor, limit=page.limit)


@router.get(
    "/churn-records/{churn_record_id}",
    response={200: ChurnRecordOut, **problems(401, 404, 429)},
    summary="Get a churn record",
)
@api_policy(ALL_ROLES)
def get_churn_record(request: HttpRequest, churn_record_id: int) -> ChurnRecord:
    return queries.get_churn_record_for_agent(caller_agent(request), churn_record_id)


@router.post(
    "/churn-records",
    response={201: ChurnRecordOut, **problems(401, 403, 409, 422, 429)},
    summary="Record churn",
    description="The organization becomes churned (unless won_back_on is given) and `churn.recorded` is published.",
)
@api_policy(WRITER_ROLES, idempotent=True)
def create_churn_record(request: HttpRequest, payload: ChurnRecordIn, response: HttpResponse) -> Status[ChurnRecord]:
    agent = caller_agent(request)
    values = _resolved(agent.workspace_id, payload.model_dump())
    record = record_churn(workspace=agent.workspace, values=ChurnValues(**values), actor=agent)
    response["Location"] = f"{request.path.rstrip('/')}/{record.pk}"
    return Status(201, queries.get_churn_record_for_agent(agent, record.pk))


@router.patch(
    "/churn-records/{churn_record_id}",
    response={200: ChurnRecordOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Change a churn record",
)
@api_policy(WRITER_ROLES)
def change_churn_record(request: HttpRequest, churn_record_id: int, payload: ChurnRecordPatch) -> ChurnRecord:
    agent = caller_agent(request)
    record = queries.get_churn_record_for_agent(agent, churn_record_id)
    sent = _resolved(agent.workspace_id, payload.model_dump(exclude_unset=True))
    for required in ("organization", "churned_on", "reason"):
        if required in sent and sent[required] is None:
            raise ValidationFailed(_("This field cannot be cleared."), field=required)
    update_churn(record=record, values=ChurnValues(**{**_churn_values(record), **sent}), actor=agent)
    return queries.get_churn_record_for_agent(agent, record.pk)
