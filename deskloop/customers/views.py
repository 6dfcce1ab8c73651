"""Contacts and organizations pages for agents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import WRITER_ROLES, Agent
from deskloop.accounts.queries import active_agent_choices
from deskloop.core.refusals import refusal
from deskloop.customers import queries, services
from deskloop.customers.forms import ContactEmailForm, ContactForm, OrganizationForm
from deskloop.customers.models import ContactEmail, Organization

PAGE_SIZE = 50


def _organization_choices(agent: Agent) -> list[tuple[object, str]]:
    return list(Organization.objects.filter(workspace_id=agent.workspace_id).order_by("name").values_list("id", "name"))


def _organization_or_none(agent: Agent, organization_id: int | None) -> Organization | None:
    return queries.get_organization_for_agent(agent, organization_id) if organization_id else None


@agent_view()
@require_GET
def contact_list(request: AgentRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    page = Paginator(queries.contacts_for_agent(request.agent, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "customers/contact_list.html", {"page": page, "query": query})


@agent_view(roles=WRITER_ROLES)
@require_http_methods(["GET", "POST"])
def contact_create(request: AgentRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, organization_choices=_organization_choices(request.agent))
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["email"]:
            form.add_error("email", _("A new contact needs an email address."))
        else:
            with refusal(form):
                contact = services.create_contact(
                    workspace=request.agent.workspace,
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    organization=_organization_or_none(request.agent, form.cleaned_data["organization"]),
                    locale=form.cleaned_data["locale"],
                    timezone_name=form.cleaned_data["time_zone"],
                )
                return redirect("customers:contact", contact_id=contact.pk)
    return render(request, "customers/contact_form.html", {"form": form}, status=400 if form.errors else 200)


@agent_view()
@require_http_methods(["GET", "POST"])
def contact_detail(request: AgentRequest, contact_id: int) -> HttpResponse:
    contact = queries.get_contact_for_agent(request.agent, contact_id)
    initial = {
        "name": contact.name,
        "phone": contact.phone,
        "organization": contact.organization_id,
        "locale": contact.locale,
        "time_zone": contact.time_zone,
    }
    form = ContactForm(request.POST or None, initial=initial, organization_choices=_organization_choices(request.agent))
    status = 200
    if request.method == "POST":
        if not request.agent.can_write:
            return HttpResponse(status=403)
        if form.is_valid():
            with refusal(form):
                services.update_contact(
                    actor=request.agent,
                    contact=contact,
                    name=form.cleaned_data["name"],
                    phone=form.cleaned_data["phone"],
                    organization=_organization_or_none(request.agent, form.cleaned_data["organization"]),
                    locale=form.cleaned_data["locale"],
                    timezone_name=form.cleaned_data["time_zone"],
                )
                return redirect("customers:contact", contact_id=contact.pk)
        status = 400
    return render(
        request,
        "customers/contact_detail.html",
        {"contact": contact, "form": form, "email_form": ContactEmailForm()},
        status=status,
    )


@agent_view(roles=WRITER_ROLES)
@require_POST
def contact_email_add(request: AgentRequest, contact_id: int) -> HttpResponse:
    contact = queries.get_contact_for_agent(request.agent, contact_id)
    email_form = ContactEmailForm(request.POST)
    if email_form.is_valid():
        with refusal(email_form):
            services.add_contact_email(actor=request.agent, contact=contact, email=email_form.cleaned_data["email"])
            return redirect("customers:contact", contact_id=contact.pk)
    form = ContactForm(initial={"name": contact.name}, organization_choices=_organization_choices(request.agent))
    return render(
        request,
        "customers/contact_detail.html",
        {"contact": contact, "form": form, "email_form": email_form},
        status=400,
    )


@agent_view(roles=WRITER_ROLES)
@require_POST
def contact_email_action(request: AgentRequest, contact_id: int, email_id: int) -> HttpResponse:
    contact = queries.get_contact_for_agent(request.agent, contact_id)
    identity = ContactEmail.objects.filter(contact=contact, pk=email_id).first()
    if identity is None:
        raise Http404("No such email address")
    with refusal() as refused:
        if request.POST.get("action") == "primary":
            services.set_primary_email(actor=request.agent, identity=identity)
        else:
            services.remove_contact_email(actor=request.agent, identity=identity)
        return redirect("customers:contact", contact_id=contact.pk)
    form = ContactForm(initial={"name": contact.name}, organization_choices=_organization_choices(request.agent))
    return render(
        request,
        "customers/contact_detail.html",
        {"contact": contact, "form": form, "email_form": ContactEmailForm(), "email_error": refused.message},
        status=400,
    )


@agent_view()
@require_GET
def organization_list(request: AgentRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    with refusal() as refused:
        segment = queries.segment_from_param(request.agent.workspace_id, request.GET.get("segment"))
    if refused:
        return HttpResponse(refused.message, status=refused.status, content_type="text/plain; charset=utf-8")
    organizations = queries.organizations_for_agent(request.agent, query=query, segment=segment)
    page = Paginator(organizations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/organization_list.html",
        {
            "page": page,
            "query": query,
            "segment": segment,
            "segments": list(queries.segments_of(request.agent.workspace_id)),
        },
    )


def _organization_kwargs(form: OrganizationForm, agent: Agent) -> dict[str, Any]:
    owner_id = form.cleaned_data["owner"]
    owner = Agent.objects.filter(workspace_id=agent.workspace_id, pk=owner_id).first() if owner_id else None
    return {
        "name": form.cleaned_data["name"],
        "domains": form.domain_list(),
        "plan": form.cleaned_data["plan"],
        "mrr": form.cleaned_data["mrr"] or Decimal(0),
        "customer_since": form.cleaned_data["customer_since"],
        "industry": form.cleaned_data["industry"],
        "lifecycle_stage": form.cleaned_data["lifecycle_stage"],
        "owner": owner,
        "portal_shares_tickets": form.cleaned_data["portal_shares_tickets"],
    }


@agent_view(roles=WRITER_ROLES)
@require_http_methods(["GET", "POST"])
def organization_create(request: AgentRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, owner_choices=active_agent_choices(request.agent.workspace_id))
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            organization = services.create_organization(
                workspace=request.agent.workspace, **_organization_kwargs(form, request.agent)
            )
            return redirect("customers:organization", organization_id=organization.pk)
    return render(request, "customers/organization_form.html", {"form": form}, status=400 if form.errors else 200)


@agent_view()
@require_http_methods(["GET", "POST"])
def organization_detail(request: AgentRequest, organization_id: int) -> HttpResponse:
    organization = queries.get_organization_for_agent(request.agent, organization_id)
    initial = {
        "name": organization.name,
        "domains": ", ".join(d.domain for d in organization.domains.all()),
        "plan": organization.plan,
        "mrr": organization.mrr,
        "customer_since": organization.customer_since,
        "industry": organization.industry,
        "lifecycle_stage": organization.lifecycle_stage,
        "owner": organization.owner_id,
        "notes": organization.notes,
        "portal_shares_tickets": organization.portal_shares_tickets,
    }
    form = OrganizationForm(
        request.POST or None, initial=initial, owner_choices=active_agent_choices(request.agent.workspace_id)
    )
    status = 200
    if request.method == "POST":
        if not request.agent.can_write:
            return HttpResponse(status=403)
        if form.is_valid():
            with refusal(form):
                values = services.OrganizationValues(
                    notes=form.cleaned_data["notes"], **_organization_kwargs(form, request.agent)
                )
                services.update_organization(actor=request.agent, organization=organization, values=values)
                return redirect("customers:organization", organization_id=organization.pk)
        status = 400
    contacts = queries.contacts_for_agent(request.agent).filter(organization=organization)[:100]
    return render(
        request,
        "customers/organization_detail.html",
        {"organization": organization, "form": form, "contacts": contacts},
        status=status,
    )
