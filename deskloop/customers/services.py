"""Writes for organizations and contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent, Workspace
from deskloop.core import outbox
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.core.plain_sql import Filters, fill_null_returning, insert_row, related_rows
from deskloop.customers.models import Contact, ContactEmail, LifecycleStage, Organization, OrganizationDomain
from deskloop.customers.queries import identities_with_contacts

PHONE_MAX = 50


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


# A domain's organization, read with every contact created (each new sender of an email): prepared once.
_DOMAINS = related_rows(OrganizationDomain, related=("organization",), where=("workspace_id", "domain"))


def organization_for_domain(*, workspace: Workspace, email: str) -> Organization | None:
    domain = email.rsplit("@", 1)[-1].lower()
    for _domain, organization in _DOMAINS.fetch([workspace.pk, domain]):
        return organization  # type: ignore[no-any-return]
    return None


def find_or_create_contact(*, workspace: Workspace, email: str, name: str = "", locale: str = "") -> Contact:
    """The contact who owns ``email`` in this workspace, created (and matched to an organization by domain)
    if none does. Safe under concurrency: a lost race re-reads the winner's row."""
    return find_or_create_contacts(workspace=workspace, wanted=[(email, name)], locale=locale)[0]


def find_or_create_contacts(
    *, workspace: Workspace, wanted: Sequence[tuple[str, str]], locale: str = ""
) -> list[Contact]:
    """``find_or_create_contact`` for several (address, name) pairs, in their order: the known ones are read in
    one query (with their organization: a ticket opened for one indexes its name), the others created."""
    addresses = [normalize_email(email) for email, _name in wanted]
    if not addresses:
        return []
    known: dict[str, Contact] = {}
    by_pk: dict[int, Contact] = {}
    for identity, contact, organization in identities_with_contacts(len(addresses)).fetch([workspace.pk, *addresses]):
        contact.organization = organization
        # Two addresses of one contact share one instance, so a name given for the first is seen by the second.
        known[identity.email] = by_pk.setdefault(contact.pk, contact)
    found: list[Contact] = []
    for address, (_email, name) in zip(addresses, wanted, strict=True):
        contact = known.get(address)
        if contact is None:
            contact = known[address] = _create_contact_for_email(
                workspace=workspace, address=address, name=name, locale=locale
            )
        elif name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name"])
        found.append(contact)
    return found


def _create_contact_for_email(*, workspace: Workspace, address: str, name: str, locale: str) -> Contact:
    # No savepoint: the identity's INSERT ... ON CONFLICT DO NOTHING does not fail when a concurrent writer
    # created the address meanwhile; it inserts nothing, and the contact made here for it is dropped again.
    with transaction.atomic(savepoint=False):
        contact = Contact(
            workspace=workspace,
            name=(name or "")[:200],
            locale=locale,
            organization=organization_for_domain(workspace=workspace, email=address),
        )
        insert_row(contact)
        identity = ContactEmail(workspace=workspace, contact=contact, email=address, is_primary=True)
        if insert_row(identity, ignore_conflicts=True):
            return contact
        Contact.objects.filter(pk=contact.pk).delete()
        return (
            ContactEmail.objects.select_related("contact__organization").get(workspace=workspace, email=address).contact
        )


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
    portal_shares_tickets: bool = False,
    external_id: str | None = None,
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
            portal_shares_tickets=portal_shares_tickets,
            external_id=(external_id or "").strip()[:200] or None,
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
    """A contact with an email address, or with only a phone number (a caller who gave no address)."""
    phone = " ".join(phone.split())
    if not email.strip() and phone:
        return _create_phone_contact(workspace=workspace, name=name, phone=phone, organization=organization)
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


def _create_phone_contact(*, workspace: Workspace, name: str, phone: str, organization: Organization | None) -> Contact:
    if len(phone) > PHONE_MAX:
        raise ValidationFailed(_("A phone number has at most %(max)d characters.") % {"max": PHONE_MAX}, field="phone")
    if organization is not None and organization.workspace_id != workspace.pk:
        raise ValidationFailed(_("The organization must belong to this workspace."), field="organization")
    return Contact.objects.create(workspace=workspace, name=name[:200], phone=phone, organization=organization)


CUSTOMERS_WRITERS_ONLY = gettext_noop("Your role cannot change contacts or organizations.")


def update_contact(
    *,
    actor: Agent,
    contact: Contact,
    name: str,
    phone: str = "",
    organization: Organization | None = None,
    locale: str = "",
    timezone_name: str = "",
) -> Contact:
    require_role(actor, Capability.WRITE, CUSTOMERS_WRITERS_ONLY)
    if contact.workspace_id != actor.workspace_id:
        raise NotFound(_("Contact not found."))
    if organization is not None and organization.workspace_id != contact.workspace_id:
        raise ValidationFailed(_("The organization must belong to this workspace."), field="organization")
    if timezone_name:
        _check_timezone(timezone_name)
    contact.name = (name or "").strip()[:200]
    contact.phone = (phone or "").strip()[:50]
    contact.organization = organization
    contact.locale = (locale or "").strip()[:10]
    contact.time_zone = timezone_name
    contact.save(update_fields=["name", "phone", "organization", "locale", "time_zone"])
    return contact


def _check_timezone(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(_("“%(tz)s” is not a known time zone.") % {"tz": name}, field="time_zone") from exc


def add_contact_email(*, actor: Agent, contact: Contact, email: str) -> ContactEmail:
    require_role(actor, Capability.WRITE, CUSTOMERS_WRITERS_ONLY)
    address = normalize_email(email)
    with transaction.atomic():
        owner = (
            ContactEmail.objects.filter(workspace_id=contact.workspace_id, email=address)
            .select_related("contact")
            .first()
        )
        if owner is not None:
            raise ValidationFailed(
                _("%(email)s already belongs to %(name)s.") % {"email": address, "name": owner.contact.display_name},
                field="email",
            )
        return ContactEmail.objects.create(
            workspace_id=contact.workspace_id,
            contact=contact,
            email=address,
            is_primary=not contact.emails.exists(),
        )


def remove_contact_email(*, actor: Agent, identity: ContactEmail) -> None:
    require_role(actor, Capability.WRITE, CUSTOMERS_WRITERS_ONLY)
    with transaction.atomic():
        others = ContactEmail.objects.filter(contact_id=identity.contact_id).exclude(pk=identity.pk)
        if not others.exists():
            raise ValidationFailed(_("A contact keeps at least one email address."), field="email")
        identity.delete()
        if identity.is_primary:
            replacement = others.order_by("id").first()
            if replacement is not None:
                replacement.is_primary = True
                replacement.save(update_fields=["is_primary"])


def set_primary_email(*, actor: Agent, identity: ContactEmail) -> None:
    require_role(actor, Capability.WRITE, CUSTOMERS_WRITERS_ONLY)
    with transaction.atomic():
        ContactEmail.objects.filter(contact_id=identity.contact_id).update(is_primary=False)
        ContactEmail.objects.filter(pk=identity.pk).update(is_primary=True)


@dataclass(frozen=True)
class OrganizationValues:
    """Everything an agent edits on an organization: ``update_organization`` writes them all at once."""

    name: str
    domains: Sequence[str]
    plan: str = ""
    mrr: Decimal | int = 0
    customer_since: dt.date | None = None
    industry: str = ""
    lifecycle_stage: str = LifecycleStage.CUSTOMER
    owner: Agent | None = None
    notes: str = ""
    # Its contacts see each other's tickets in the customer portal.
    portal_shares_tickets: bool = False


def update_organization(*, actor: Agent, organization: Organization, values: OrganizationValues) -> Organization:
    require_role(actor, Capability.WRITE, CUSTOMERS_WRITERS_ONLY)
    name = (values.name or "").strip()
    if not name:
        raise ValidationFailed(_("An organization needs a name."), field="name")
    if Decimal(values.mrr) < 0:
        raise ValidationFailed(_("MRR cannot be negative."), field="mrr")
    if values.lifecycle_stage not in LifecycleStage.values:
        raise ValidationFailed(_("Unknown lifecycle stage."), field="lifecycle_stage")
    owner = values.owner
    if owner is not None and owner.workspace_id != organization.workspace_id:
        raise ValidationFailed(_("The owner must be an agent of this workspace."), field="owner")
    cleaned_domains = sorted({d.strip().lower().lstrip("@") for d in values.domains if d.strip()})
    with transaction.atomic():
        clash = Organization.objects.filter(workspace_id=organization.workspace_id, name__iexact=name).exclude(
            pk=organization.pk
        )
        if clash.exists():
            raise ValidationFailed(_("An organization with this name already exists."), field="name")
        taken = (
            OrganizationDomain.objects.filter(workspace_id=organization.workspace_id, domain__in=cleaned_domains)
            .exclude(organization=organization)
            .first()
        )
        if taken is not None:
            raise ValidationFailed(
                _("The domain %(domain)s already belongs to another organization.") % {"domain": taken.domain},
                field="domains",
            )
        previous_stage = Organization.objects.filter(pk=organization.pk).values_list("lifecycle_stage", flat=True)[0]
        organization.name = name
        organization.plan = values.plan.strip()[:100]
        organization.mrr = Decimal(values.mrr)
        organization.customer_since = values.customer_since
        organization.industry = values.industry.strip()[:100]
        organization.lifecycle_stage = values.lifecycle_stage
        organization.owner = owner
        organization.notes = values.notes
        organization.portal_shares_tickets = values.portal_shares_tickets
        organization.save()
        OrganizationDomain.objects.filter(organization=organization).exclude(domain__in=cleaned_domains).delete()
        existing = set(OrganizationDomain.objects.filter(organization=organization).values_list("domain", flat=True))
        OrganizationDomain.objects.bulk_create(
            [
                OrganizationDomain(workspace_id=organization.workspace_id, organization=organization, domain=d)
                for d in cleaned_domains
                if d not in existing
            ]
        )
        _publish_lifecycle_change(organization, previous_stage)
    return organization


LIFECYCLE_CHANGED = "organization.lifecycle_changed"


def set_lifecycle_stage(*, organization: Organization, lifecycle_stage: str) -> Organization:
    """Move the organization to ``lifecycle_stage`` because something the system recorded says so (a churn record,
    a won deal), not an agent's edit; publishes ``organization.lifecycle_changed`` when the stage changes."""
    if lifecycle_stage not in LifecycleStage.values:
        raise ValidationFailed(_("Unknown lifecycle stage."), field="lifecycle_stage")
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        previous_stage = locked.lifecycle_stage
        if previous_stage != lifecycle_stage:
            Organization.objects.filter(pk=organization.pk).update(lifecycle_stage=lifecycle_stage)
            _publish_lifecycle_change(organization, previous_stage, lifecycle_stage)
    organization.lifecycle_stage = lifecycle_stage
    return organization


def _publish_lifecycle_change(organization: Organization, previous: str, current: str | None = None) -> None:
    # Apps above customers react (a churned organization that is a customer again is won back) without customers
    # knowing them.
    current = current or organization.lifecycle_stage
    if previous != current:
        outbox.publish(
            workspace_id=organization.workspace_id,
            name=LIFECYCLE_CHANGED,
            payload={"organization_id": organization.pk, "old_stage": previous, "stage": current},
        )


def mark_emails_bouncing(*, workspace_id: int, emails: Sequence[str], since: dt.datetime) -> set[str]:
    """Record that mail to these addresses bounces (a delivery status notification said so), keeping the first
    date of each address's current bouncing spell. Returns the addresses a contact of the workspace has."""
    addresses = sorted({(email or "").strip().lower() for email in emails})
    if not addresses:
        return set()
    # An identity bouncing already keeps its date and is still returned: one statement for all of them.
    filters: Filters = [("workspace_id", [workspace_id]), ("email", addresses)]
    return {str(email) for email in fill_null_returning(ContactEmail, "bouncing_since", since, filters, "email")}


def clear_email_bouncing(*, identity: ContactEmail) -> None:
    """Mail from the address arrived again: it works, so it is no longer treated as bouncing (acknowledgements and
    replies reach it again). A bouncing spell ends here; a new bounce starts a new one."""
    if identity.bouncing_since is None:
        return
    ContactEmail.objects.filter(pk=identity.pk).update(bouncing_since=None)
    identity.bouncing_since = None


def mark_email_verified(*, workspace: Workspace, email: str) -> None:
    """The address's owner proved they read its mail (they used a sign-in link sent to it): note when, once."""
    ContactEmail.objects.filter(workspace=workspace, email=normalize_email(email), verified_at__isnull=True).update(
        verified_at=timezone.now()
    )
