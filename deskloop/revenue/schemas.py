"""API shapes for deals and churn records. Amounts are decimals as strings; dates are YYYY-MM-DD."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from deskloop.accounts.schemas import AgentRef
from deskloop.customers.schemas import OrganizationRef
from deskloop.revenue.models import ChurnReason, DealStatus
from deskloop.tickets.schemas import ProductAreaRef


class DealIdeaRef(Schema):
    """The idea a deal needed or a churn record names."""

    id: int
    title: str


class LostReasonOut(Schema):
    id: int
    name: str
    missing_functionality: bool


class DealOut(Schema):
    id: int
    external_id: str | None
    name: str
    organization: OrganizationRef
    amount: Decimal
    currency: str
    stage: str
    status: DealStatus
    lost_reason: LostReasonOut | None
    competitor: str
    industry: str
    product_area: ProductAreaRef | None
    idea: DealIdeaRef | None
    owner: AgentRef | None
    closed_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class DealIn(Schema):
    organization_id: int
    name: str = Field(..., max_length=200)
    amount: Decimal = Field(Decimal("0"), ge=0, max_digits=14, decimal_places=2)
    currency: str = Field("USD", max_length=3)
    stage: str = Field("", max_length=100)
    status: DealStatus = DealStatus.OPEN
    lost_reason_id: int | None = Field(None, description="One of GET /deals' lost reasons; only for a lost deal.")
    competitor: str = Field("", max_length=200)
    industry: str = Field("", max_length=100, description="Blank: the organization's industry.")
    product_area_id: int | None = Field(None, description="Blank: the idea's product area.")
    idea_id: int | None = None
    owner_id: int | None = Field(None, description="The agent who owns the deal.")
    closed_on: dt.date | None = Field(None, description="Blank on a won or lost deal: today.")
    external_id: str | None = Field(None, max_length=200, description="The deal's id in your CRM (unique).")


class DealPatch(Schema):
    """Only the fields sent change; send null to clear a reference."""

    organization_id: int | None = None
    name: str | None = Field(None, max_length=200)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(None, max_length=3)
    stage: str | None = Field(None, max_length=100)
    status: DealStatus | None = None
    lost_reason_id: int | None = None
    competitor: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=100)
    product_area_id: int | None = None
    idea_id: int | None = None
    owner_id: int | None = None
    closed_on: dt.date | None = None
    external_id: str | None = Field(None, max_length=200)


class DealListQuery(Schema):
    status: DealStatus | None = None
    product_area: int | None = Field(None, description="A product area's id; the areas below it are included.")
    segment: int | None = Field(None, description="A saved segment's id: deals of organizations in it.")
    lost_reason_id: int | None = None
    idea_id: int | None = None
    closed_from: dt.date | None = None
    closed_until: dt.date | None = None
    external_id: str | None = None


class ChurnRecordOut(Schema):
    id: int
    external_id: str | None
    organization: OrganizationRef
    churned_on: dt.date
    mrr_lost: Decimal
    reason: ChurnReason
    product_area: ProductAreaRef | None
    idea: DealIdeaRef | None
    notes: str
    won_back_on: dt.date | None
    created_at: dt.datetime


class ChurnRecordPage(Schema):
    items: list[ChurnRecordOut]
    next_cursor: str | None


class ChurnRecordIn(Schema):
    organization_id: int
    churned_on: dt.date
    reason: ChurnReason
    mrr_lost: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    product_area_id: int | None = Field(None, description="Blank: the idea's product area.")
    idea_id: int | None = None
    notes: str = Field("", max_length=10000)
    won_back_on: dt.date | None = None
    external_id: str | None = Field(None, max_length=200)


class ChurnRecordPatch(Schema):
    """Only the fields sent change; send null to clear a reference or the win-back date."""

    organization_id: int | None = None
    churned_on: dt.date | None = None
    reason: ChurnReason | None = None
    mrr_lost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    product_area_id: int | None = None
    idea_id: int | None = None
    notes: str | None = Field(None, max_length=10000)
    won_back_on: dt.date | None = None
    external_id: str | None = Field(None, max_length=200)


class ChurnListQuery(Schema):
    reason: ChurnReason | None = None
    product_area: int | None = Field(None, description="A product area's id; the areas below it are included.")
    segment: int | None = Field(None, description="A saved segment's id: records of organizations in it.")
    churned_from: dt.date | None = None
    churned_until: dt.date | None = None
    won_back: bool | None = None
    idea_id: int | None = None
    external_id: str | None = None
