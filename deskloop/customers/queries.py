"""Reads of contacts and organizations, always inside the caller's workspace."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.customers.models import Contact, ContactEmail, Organization, OrganizationDomain


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


def organizations_for_agent(agent: Agent, *, query: str = "") -> QuerySet[Organization]:
    organizations = (
        Organization.objects.filter(workspace_id=agent.workspace_id)
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
