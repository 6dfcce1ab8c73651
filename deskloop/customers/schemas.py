"""API shapes for organizations and contacts. Strings are plain text; clients escape them when rendering."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from deskloop.accounts.schemas import AgentRef
from deskloop.customers.models import Contact, LifecycleStage, Organization


class OrganizationRef(Schema):
    id: int
    name: str


class ContactRef(Schema):
    id: int
    name: str
    email: str

    @staticmethod
    def resolve_name(obj: Contact) -> str:
        return obj.display_name

    @staticmethod
    def resolve_email(obj: Contact) -> str:
        return obj.primary_email


class ContactEmailOut(Schema):
    email: str
    is_primary: bool
    verified: bool

    @staticmethod
    def resolve_verified(obj: object) -> bool:
        return getattr(obj, "verified_at", None) is not None


class ContactOut(Schema):
    id: int
    name: str
    email: str
    emails: list[ContactEmailOut]
    phone: str
    organization: OrganizationRef | None
    locale: str
    time_zone: str
    is_blocked: bool
    created_at: dt.datetime

    @staticmethod
    def resolve_email(obj: Contact) -> str:
        return obj.primary_email

    @staticmethod
    def resolve_emails(obj: Contact) -> list[object]:
        return list(obj.emails.all())


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactIn(Schema):
    email: str = Field(..., max_length=254, description="The contact's primary email address.")
    name: str = Field("", max_length=200)
    phone: str = Field("", max_length=50)
    organization_id: int | None = Field(None, description="Defaults to the organization owning the email domain.")
    locale: str = Field("", max_length=10)
    time_zone: str = Field("", max_length=64)


class OrganizationOut(Schema):
    id: int
    name: str
    domains: list[str]
    plan: str
    mrr: Decimal
    customer_since: dt.date | None
    industry: str
    lifecycle_stage: LifecycleStage
    owner: AgentRef | None
    portal_shares_tickets: bool = Field(..., description="Its contacts see each other's tickets in the portal.")
    created_at: dt.datetime

    @staticmethod
    def resolve_domains(obj: Organization) -> list[str]:
        return sorted(d.domain for d in obj.domains.all())


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class OrganizationIn(Schema):
    name: str = Field(..., max_length=200)
    domains: list[str] = Field(default_factory=list, description="Email domains whose senders belong to it.")
    plan: str = Field("", max_length=100)
    mrr: Decimal = Field(Decimal(0), max_digits=12, decimal_places=2, description="Monthly recurring revenue.")
    customer_since: dt.date | None = None
    industry: str = Field("", max_length=100)
    lifecycle_stage: LifecycleStage = LifecycleStage.CUSTOMER
    owner_id: int | None = Field(None, description="An agent of this workspace.")
    portal_shares_tickets: bool = Field(False, description="Its contacts see each other's tickets in the portal.")


class OrganizationUpdateIn(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=200)
    domains: list[str] | None = None
    plan: str | None = Field(None, max_length=100)
    mrr: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    customer_since: dt.date | None = None
    industry: str | None = Field(None, max_length=100)
    lifecycle_stage: LifecycleStage | None = None
    owner_id: int | None = None
    portal_shares_tickets: bool | None = None


class ContactListQuery(Schema):
    email: str | None = Field(None, description="Exact email address (any of the contact's identities).")
    organization_id: int | None = None
