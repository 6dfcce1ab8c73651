"""Organizations and contacts over the API: list, retrieve, create; organizations also change."""

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES, WRITER_ROLES, Agent
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import ValidationFailed
from deskloop.customers import services
from deskloop.customers.models import Contact, Organization
from deskloop.customers.schemas import (
    ContactIn,
    ContactListQuery,
    ContactOut,
    ContactPage,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationUpdateIn,
)

router = Router(tags=["customers"])


def _contacts(workspace_id: int) -> QuerySet[Contact]:
    return Contact.objects.filter(workspace_id=workspace_id).select_related("organization").prefetch_related("emails")


def _organizations(workspace_id: int) -> QuerySet[Organization]:
    return (
        Organization.objects.filter(workspace_id=workspace_id).select_related("owner__user").prefetch_related("domains")
    )


def organization_in_workspace(workspace_id: int, organization_id: int | None, field: str) -> Organization | None:
    """An id sent in a request body; another workspace's id is reported as not found, like a missing one."""
    if organization_id is None:
        return None
    found = Organization.objects.filter(workspace_id=workspace_id, pk=organization_id).first()
    if found is None:
        raise ValidationFailed(_("No such organization in this workspace."), field=field)
    return found


def owner_in_workspace(workspace_id: int, agent_id: int | None) -> Agent | None:
    if agent_id is None:
        return None
    found = Agent.objects.filter(workspace_id=workspace_id, pk=agent_id).first()
    if found is None:
        raise ValidationFailed(_("No such agent in this workspace."), field="owner_id")
    return found


@router.get("/contacts", response={200: ContactPage, **problems(401, 422, 429)}, summary="List contacts")
@api_policy(ALL_ROLES)
def list_contacts(request: HttpRequest, filters: Query[ContactListQuery], page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    contacts = _contacts(agent.workspace_id)
    if filters.email:
        contacts = contacts.filter(emails__email=filters.email.strip().lower())
    if filters.organization_id is not None:
        contacts = contacts.filter(organization_id=filters.organization_id)
    return keyset_page(contacts, cursor=page.cursor, limit=page.limit)


@router.get("/contacts/{contact_id}", response={200: ContactOut, **problems(401, 404, 429)}, summary="Get a contact")
@api_policy(ALL_ROLES)
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    agent = caller_agent(request)
    contact = _contacts(agent.workspace_id).filter(pk=contact_id).first()
    if contact is None:
        raise Http404
    return contact


@router.post("/contacts", response={201: ContactOut, **problems(401, 403, 409, 422, 429)}, summary="Create a contact")
@api_policy(WRITER_ROLES, idempotent=True)
def create_contact(request: HttpRequest, payload: ContactIn, response: HttpResponse) -> Status[Contact]:
    agent = caller_agent(request)
    contact = services.create_contact(
        workspace=agent.workspace,
        email=payload.email,
        name=payload.name,
        phone=payload.phone,
        organization=organization_in_workspace(agent.workspace_id, payload.organization_id, "organization_id"),
        locale=payload.locale,
        timezone_name=payload.time_zone,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{contact.pk}"
    return Status(201, _contacts(agent.workspace_id).get(pk=contact.pk))


@router.get("/organizations", response={200: OrganizationPage, **problems(401, 422, 429)}, summary="List organizations")
@api_policy(ALL_ROLES)
def list_organizations(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    return keyset_page(_organizations(agent.workspace_id), cursor=page.cursor, limit=page.limit)


@router.get(
    "/organizations/{organization_id}",
    response={200: OrganizationOut, **problems(401, 404, 429)},
    summary="Get an organization",
)
@api_policy(ALL_ROLES)
def get_organization(request: HttpRequest, organization_id: int) -> Organization:
    agent = caller_agent(request)
    organization = _organizations(agent.workspace_id).filter(pk=organization_id).first()
    if organization is None:
        raise Http404
    return organization


@router.post(
    "/organizations",
    response={201: OrganizationOut, **problems(401, 403, 409, 422, 429)},
    summary="Create an organization",
)
@api_policy(WRITER_ROLES, idempotent=True)
def create_organization(request: HttpRequest, payload: OrganizationIn, response: HttpResponse) -> Status[Organization]:
    agent = caller_agent(request)
    organization = services.create_organization(
        workspace=agent.workspace,
        name=payload.name,
        domains=payload.domains,
        plan=payload.plan,
        mrr=payload.mrr,
        customer_since=payload.customer_since,
        industry=payload.industry,
        lifecycle_stage=payload.lifecycle_stage,
        owner=owner_in_workspace(agent.workspace_id, payload.owner_id),
        portal_shares_tickets=payload.portal_shares_tickets,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{organization.pk}"
    return Status(201, _organizations(agent.workspace_id).get(pk=organization.pk))


@router.patch(
    "/organizations/{organization_id}",
    response={200: OrganizationOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Change an organization",
    description="Only the fields sent change (the domains, when sent, replace the list; customer_since and owner_id "
    "are cleared only on the organization page).",
)
@api_policy(WRITER_ROLES)
def update_organization(request: HttpRequest, organization_id: int, payload: OrganizationUpdateIn) -> Organization:
    agent = caller_agent(request)
    organization = _organizations(agent.workspace_id).filter(pk=organization_id).first()
    if organization is None:
        raise Http404
    values = services.OrganizationValues(
        name=organization.name if payload.name is None else payload.name,
        domains=[d.domain for d in organization.domains.all()] if payload.domains is None else payload.domains,
        plan=organization.plan if payload.plan is None else payload.plan,
        mrr=organization.mrr if payload.mrr is None else payload.mrr,
        customer_since=payload.customer_since or organization.customer_since,
        industry=organization.industry if payload.industry is None else payload.industry,
        lifecycle_stage=payload.lifecycle_stage or organization.lifecycle_stage,
        owner=organization.owner
        if payload.owner_id is None
        else owner_in_workspace(agent.workspace_id, payload.owner_id),
        notes=organization.notes,
        portal_shares_tickets=(
            organization.portal_shares_tickets
            if payload.portal_shares_tickets is None
            else payload.portal_shares_tickets
        ),
    )
    services.update_organization(actor=agent, organization=organization, values=values)
    return _organizations(agent.workspace_id).get(pk=organization.pk)
