"""Writes for organizations and contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import NotFound, PermissionDenied, ValidationFailed
from deskloop.core.plain_sql import insert_row, prepared_cursor
from deskloop.customers.models import Contact, ContactEmail, LifecycleStage, Organization, OrganizationDomain
from deskloop.customers.queries import identities_with_contacts, identity_with_contact


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
    # With the organization: a ticket opened for this contact indexes its name (search.index_written_ticket).
    # One join prepared once per process (the ORM compiled it on every API create).
    existing = identity_with_contact(workspace.pk, address)
    if existing is not None:
        contact = existing.contact
        if name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name"])
        return contact
    return _create_contact_for_email(workspace=workspace, address=address, name=name, locale=locale)


def create_contact_for_unknown_email(*, workspace: Workspace, email: str, name: str = "") -> Contact:
    """``find_or_create_contact`` for a caller that has just looked ``email`` up and found no contact (the email
    pipeline does, to see whether the sender is blocked): the same result without looking it up again. A contact
    created for it meanwhile is returned as it is."""
    return _insert_contact_for_email(workspace=workspace, address=normalize_email(email), name=name)


def find_or_create_contacts(*, workspace: Workspace, wanted: Sequence[tuple[str, str]]) -> list[Contact]:
    """``find_or_create_contact`` for several (address, name) pairs, in their order: the known ones are read in
    one query instead of one each (an email's copied recipients)."""
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
            contact = known[address] = _insert_contact_for_email(workspace=workspace, address=address, name=name)
        elif name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name"])
        found.append(contact)
    return found


def _create_contact_for_email(*, workspace: Workspace, address: str, name: str, locale: str) -> Contact:
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
        return (
            ContactEmail.objects.select_related("contact__organization").get(workspace=workspace, email=address).contact
        )


def _insert_contact_for_email(*, workspace: Workspace, address: str, name: str) -> Contact:
    """``_create_contact_for_email`` in plain statements, for the email pipeline (one message after another):
    the same rows and the same answer to a lost race, without the ORM's per-statement CPU and a savepoint.
    (find_or_create_contact keeps the ORM path its callers' query counts are pinned to.)"""
    # No savepoint: the identity's INSERT ... ON CONFLICT DO NOTHING does not fail when a concurrent delivery
    # created the address meanwhile; it inserts nothing, and the contact made here for it is dropped again.
    with transaction.atomic(savepoint=False):
        contact = Contact(
            workspace=workspace,
            name=(name or "")[:200],
            organization=_organization_of_domain(workspace.pk, address),
        )
        insert_row(contact)
        identity = ContactEmail(workspace=workspace, contact=contact, email=address, is_primary=True)
        if not insert_row(identity, ignore_conflicts=True):
            Contact.objects.filter(pk=contact.pk).delete()
            return (
                ContactEmail.objects.select_related("contact__organization")
                .get(workspace=workspace, email=address)
                .contact
            )
    # Its one identity is known: display_name and primary_email answer without a query (a CC event names a
    # contact without a name by its address). Adding an address through contact.emails clears this cache.
    identities = ContactEmail.objects.filter(contact=contact)
    identities._result_cache = [identity]
    identities._prefetch_done = True  # type: ignore[attr-defined]
    cache_name = ContactEmail._meta.get_field("contact").remote_field.cache_name
    contact._prefetched_objects_cache = {cache_name: identities}  # type: ignore[attr-defined]
    return contact


def _organization_of_domain(workspace_id: int, address: str) -> Organization | None:
    """``organization_for_domain``, with a plain query for the (usually absent) match."""
    domain = address.rsplit("@", 1)[-1].lower()
    quote = connection.ops.quote_name
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('organization_id')} FROM {quote(OrganizationDomain._meta.db_table)} "  # noqa: S608
            f"WHERE {quote('workspace_id')} = %s AND {quote('domain')} = %s",
            [workspace_id, domain],
        )
        row = cursor.fetchone()
    return Organization.objects.get(pk=row[0]) if row is not None else None


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


def _require_writer(actor: Agent) -> None:
    if not actor.can_write:
        raise PermissionDenied(_("Your role cannot change contacts or organizations."))


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
    _require_writer(actor)
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
    _require_writer(actor)
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
    _require_writer(actor)
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
    _require_writer(actor)
    with transaction.atomic():
        ContactEmail.objects.filter(contact_id=identity.contact_id).update(is_primary=False)
        ContactEmail.objects.filter(pk=identity.pk).update(is_primary=True)


def update_organization(
    *,
    actor: Agent,
    organization: Organization,
    name: str,
    domains: list[str],
    plan: str = "",
    mrr: Decimal | int = 0,
    customer_since: dt.date | None = None,
    industry: str = "",
    lifecycle_stage: str = LifecycleStage.CUSTOMER,
    owner: Agent | None = None,
    notes: str = "",
) -> Organization:
    _require_writer(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("An organization needs a name."), field="name")
    if Decimal(mrr) < 0:
        raise ValidationFailed(_("MRR cannot be negative."), field="mrr")
    if lifecycle_stage not in LifecycleStage.values:
        raise ValidationFailed(_("Unknown lifecycle stage."), field="lifecycle_stage")
    if owner is not None and owner.workspace_id != organization.workspace_id:
        raise ValidationFailed(_("The owner must be an agent of this workspace."), field="owner")
    cleaned_domains = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
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
        organization.name = name
        organization.plan = plan.strip()[:100]
        organization.mrr = Decimal(mrr)
        organization.customer_since = customer_since
        organization.industry = industry.strip()[:100]
        organization.lifecycle_stage = lifecycle_stage
        organization.owner = owner
        organization.notes = notes
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
    return organization


def mark_email_bouncing(*, workspace: Workspace, email: str, since: dt.datetime) -> ContactEmail | None:
    """Record that mail to ``email`` bounces (a delivery status notification said so). Keeps the first date
    of the current bouncing spell; returns the identity, or None when no contact of the workspace has it."""
    identity = ContactEmail.objects.filter(workspace=workspace, email=(email or "").strip().lower()).first()
    if identity is None:
        return None
    if identity.bouncing_since is None:
        identity.bouncing_since = since
        identity.save(update_fields=["bouncing_since"])
    return identity


def mark_emails_bouncing(*, workspace_id: int, emails: Sequence[str], since: dt.datetime) -> set[str]:
    """``mark_email_bouncing`` for several addresses in one statement (a bounce names several recipients).
    Returns the addresses a contact of the workspace has (each marked, keeping the first date of its spell)."""
    addresses = sorted({(email or "").strip().lower() for email in emails})
    if not addresses:
        return set()
    quote = connection.ops.quote_name
    column = quote(ContactEmail._meta.get_field("bouncing_since").column)
    since_value = ContactEmail._meta.get_field("bouncing_since").get_db_prep_save(since, connection)
    with prepared_cursor() as cursor:
        # One UPDATE ... RETURNING instead of a SELECT and an UPDATE per address; an identity bouncing already
        # keeps its date (COALESCE) and is still returned.
        cursor.execute(
            f"UPDATE {quote(ContactEmail._meta.db_table)} SET {column} = COALESCE({column}, %s) "  # noqa: S608
            f"WHERE {quote('workspace_id')} = %s AND {quote('email')} IN ({', '.join(['%s'] * len(addresses))}) "
            f"RETURNING {quote('email')}",
            [since_value, workspace_id, *addresses],
        )
        return {str(row[0]) for row in cursor.fetchall()}
