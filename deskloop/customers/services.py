"""Writes for organizations and contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact, ContactEmail, LifecycleStage, Organization, OrganizationDomain


def normalize_email(address: str) -> str:
    """Lower-case and validate an address; raise ValidationFailed with a human message otherwise."""
    cleaned = (address or "").strip().lower()
    try:
        validate_email(cleaned)
    except ValidationError as exc:
        raise ValidationFailed(
            _("“%(email)s” is not a valid email address.") % {"email": address}, field="email"
        ) from exc
    return cleaned


def organization_for_domain(*, workspace: Workspace, email: str) -> Organization | None:
    domain = email.rsplit("@", 1)[-1].lower()
    match = OrganizationDomain.objects.filter(workspace=workspace, domain=domain).select_related("organization").first()
    return match.organization if match else None


def find_or_create_contact(*, workspace: Workspace, email: str, name: str = "", locale: str = "") -> Contact:
    """The contact who owns ``email`` in this workspace, created (and matched to an organization by domain)
    if none does. Safe under concurrency: a lost race re-reads the winner's row."""
    address = normalize_email(email)
    existing = ContactEmail.objects.filter(workspace=workspace, email=address).select_related("contact").first()
    if existing is not None:
        contact = existing.contact
        if name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name"])
        return contact
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                workspace=workspace,
                name=(name or "")[:200],
                locale=locale,
                organization=organization_for_domain(workspace=workspace, email=address),
            )
            ContactEmail.objects.create(workspace=workspace, contact=contact, email=address, is_primary=True)
            return contact
    except IntegrityError:
        return ContactEmail.objects.select_related("contact").get(workspace=workspace, email=address).contact


def create_organization(
    *,
    workspace: Workspace,
    name: str,
    domains: list[str] | None = None,
    plan: str = "",
    mrr: Decimal | int = 0,
    customer_since: dt.date | None = None,
    industry: str = "",
    lifecycle_stage: str = LifecycleStage.CUSTOMER,
    owner: Agent | None = None,
) -> Organization:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("An organization needs a name."), field="name")
    if Decimal(mrr) < 0:
        raise ValidationFailed(_("MRR cannot be negative."), field="mrr")
    if lifecycle_stage not in LifecycleStage.values:
        raise ValidationFailed(_("Unknown lifecycle stage."), field="lifecycle_stage")
    if owner is not None and owner.workspace_id != workspace.pk:
        raise ValidationFailed(_("The owner must be an agent of this workspace."), field="owner")
    cleaned_domains = sorted({d.strip().lower().lstrip("@") for d in (domains or []) if d.strip()})
    with transaction.atomic():
        if Organization.objects.filter(workspace=workspace, name__iexact=name).exists():
            raise ValidationFailed(_("An organization with this name already exists."), field="name")
        taken = OrganizationDomain.objects.filter(workspace=workspace, domain__in=cleaned_domains).first()
        if taken is not None:
            raise ValidationFailed(
                _("The domain %(domain)s already belongs to another organization.") % {"domain": taken.domain},
                field="domains",
            )
        organization = Organization.objects.create(
            workspace=workspace,
            name=name,
            plan=plan,
            mrr=Decimal(mrr),
            customer_since=customer_since,
            industry=industry,
            lifecycle_stage=lifecycle_stage,
            owner=owner,
        )
        OrganizationDomain.objects.bulk_create(
            [OrganizationDomain(workspace=workspace, organization=organization, domain=d) for d in cleaned_domains]
        )
    return organization


def create_contact(
    *,
    workspace: Workspace,
    email: str,
    name: str = "",
    phone: str = "",
    organization: Organization | None = None,
    locale: str = "",
    timezone_name: str = "",
) -> Contact:
    address = normalize_email(email)
    if organization is not None and organization.workspace_id != workspace.pk:
        raise ValidationFailed(_("The organization must belong to this workspace."), field="organization")
    with transaction.atomic():
        if ContactEmail.objects.filter(workspace=workspace, email=address).exists():
            raise ValidationFailed(_("A contact with this email already exists."), field="email")
        contact = Contact.objects.create(
            workspace=workspace,
            name=name[:200],
            phone=phone,
            organization=organization or organization_for_domain(workspace=workspace, email=address),
            locale=locale,
            time_zone=timezone_name,
        )
        ContactEmail.objects.create(workspace=workspace, contact=contact, email=address, is_primary=True)
    return contact
