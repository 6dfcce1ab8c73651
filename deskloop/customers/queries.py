"""Reads of contacts and organizations, always inside the caller's workspace."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.core.plain_sql import JoinedRows
from deskloop.customers.models import Contact, ContactEmail, Organization, OrganizationDomain, Segment
from deskloop.customers.segments import organization_q


def contacts_for_agent(agent: Agent, *, query: str = "") -> QuerySet[Contact]:
    contacts = (
        Contact.objects.filter(workspace_id=agent.workspace_id)
        .select_related("organization")
        .prefetch_related(Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "id")))
    )
    query = query.strip()
    if query:
        contacts = contacts.filter(
            Q(name__icontains=query) | Q(emails__email__icontains=query) | Q(organization__name__icontains=query)
        ).distinct()
    return contacts.order_by("name", "id")


def get_contact_for_agent(agent: Agent, contact_id: int) -> Contact:
    contact = contacts_for_agent(agent).filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact")
    return contact


def organizations_for_agent(agent: Agent, *, query: str = "", segment: Segment | None = None) -> QuerySet[Organization]:
    organizations = (
        Organization.objects.filter(
            organization_q(segment, path="") if segment is not None else Q(), workspace_id=agent.workspace_id
        )
        .select_related("owner__user")
        .prefetch_related(Prefetch("domains", queryset=OrganizationDomain.objects.order_by("domain")))
        .annotate(contact_count=Count("contacts", distinct=True))
    )
    query = query.strip()
    if query:
        organizations = organizations.filter(Q(name__icontains=query) | Q(domains__domain__icontains=query)).distinct()
    return organizations.order_by("name", "id")


def get_organization_for_agent(agent: Agent, organization_id: int) -> Organization:
    organization = organizations_for_agent(agent).filter(pk=organization_id).first()
    if organization is None:
        raise Http404("No such organization")
    return organization


_IDENTITY_JOINS: dict[int, JoinedRows] = {}


def identities_with_contacts(count: int) -> JoinedRows:
    """``ContactEmail ... select_related("contact__organization")`` for ``count`` addresses, as a join prepared
    once per number of addresses (an email's copied recipients are looked up on every message)."""
    joined = _IDENTITY_JOINS.get(count)
    if joined is None:

        def tail(quote: Callable[[str], str]) -> str:
            identities, contacts = quote(ContactEmail._meta.db_table), quote(Contact._meta.db_table)
            return (
                f"FROM {identities} e INNER JOIN {contacts} c ON c.{quote('id')} = e.{quote('contact_id')} "
                f"LEFT JOIN {quote(Organization._meta.db_table)} o ON o.{quote('id')} = c.{quote('organization_id')} "
                f"WHERE e.{quote('workspace_id')} = %s AND e.{quote('email')} IN ({', '.join(['%s'] * count)})"
            )

        joined = _IDENTITY_JOINS[count] = JoinedRows([(ContactEmail, "e"), (Contact, "c"), (Organization, "o")], tail)
    return joined


def identity_with_contact(workspace_id: int, address: str) -> ContactEmail | None:
    """The workspace's identity for ``address`` (compared as given) with its contact and the contact's
    organization loaded: an inbound email's sender, looked up on every message."""
    for identity, contact, organization in identities_with_contacts(1).fetch([workspace_id, address]):
        contact.organization = organization
        identity.contact = contact
        found: ContactEmail = identity
        return found
    return None


def segments_of(workspace_id: int) -> QuerySet[Segment]:
    return Segment.objects.filter(workspace_id=workspace_id).select_related("owner__user").order_by("name", "id")


def segment_from_param(workspace_id: int, raw: str | None) -> Segment | None:
    """The ``segment=<id>`` of a list's query string: None when absent, the workspace's segment, or a refusal (a
    malformed id is a ValidationFailed, another workspace's segment is NotFound: both change nothing)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationFailed(_("The segment must be a number."), field="segment")
    segment = segments_of(workspace_id).filter(pk=int(raw)).first()
    if segment is None:
        raise NotFound(_("No such segment in this workspace."))
    return segment


def segments_with_counts(workspace_id: int) -> list[tuple[Segment, int]]:
    """Each saved segment with how many organizations it holds today (one COUNT per segment: a workspace saves a
    handful, and each condition is an indexed or short scan of its organizations)."""
    return [
        (segment, Organization.objects.filter(organization_q(segment, path=""), workspace_id=workspace_id).count())
        for segment in segments_of(workspace_id)
    ]
