"""Webhook settings pages for admins: endpoints, their delivery log with attempts, replay."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.refusals import refusal
from deskloop.webhooks import queries, services
from deskloop.webhooks.forms import EndpointForm
from deskloop.webhooks.models import WebhookEvent

PAGE_SIZE = 50


@agent_view(roles=ADMIN_ROLES)
@require_GET
def endpoint_list(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "webhooks/endpoint_list.html",
        {"endpoints": queries.endpoints_for_agent(request.agent), "workspace": request.agent.workspace},
    )


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def endpoint_create(request: AgentRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None, initial={"events": WebhookEvent.values, "is_active": True})
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            endpoint = services.create_endpoint(
                actor=request.agent,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                is_active=form.cleaned_data["is_active"],
            )
            messages.success(request, _("Endpoint created. Use the signing secret below to verify deliveries."))
            return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form}, status=400 if form.errors else 200)


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: AgentRequest, endpoint_id: int) -> HttpResponse:
    endpoint = queries.get_endpoint_for_agent(request.agent, endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.update_endpoint(
                actor=request.agent,
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                is_active=form.cleaned_data["is_active"],
            )
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)
    recent = queries.deliveries_for_endpoint(endpoint)[:10]
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {"endpoint": endpoint, "form": form, "deliveries": recent},
        status=400 if form.errors else 200,
    )


@agent_view(roles=ADMIN_ROLES)
@require_POST
def endpoint_delete(request: AgentRequest, endpoint_id: int) -> HttpResponse:
    endpoint = queries.get_endpoint_for_agent(request.agent, endpoint_id)
    services.delete_endpoint(actor=request.agent, endpoint=endpoint)
    messages.success(request, _("Endpoint deleted."))
    return redirect("webhooks:endpoints")


@agent_view(roles=ADMIN_ROLES)
@require_POST
def endpoint_rotate_secret(request: AgentRequest, endpoint_id: int) -> HttpResponse:
    endpoint = queries.get_endpoint_for_agent(request.agent, endpoint_id)
    services.rotate_secret(actor=request.agent, endpoint=endpoint)
    messages.success(request, _("A new signing secret is in use. Update your receiver."))
    return redirect("webhooks:endpoint", endpoint_id=endpoint.pk)


@agent_view(roles=ADMIN_ROLES)
@require_GET
def delivery_list(request: AgentRequest, endpoint_id: int) -> HttpResponse:
    endpoint = queries.get_endpoint_for_agent(request.agent, endpoint_id)
    page = Paginator(queries.deliveries_for_endpoint(endpoint), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/delivery_list.html", {"endpoint": endpoint, "page": page})


@agent_view(roles=ADMIN_ROLES)
@require_GET
def delivery_detail(request: AgentRequest, delivery_id: int) -> HttpResponse:
    delivery = queries.get_delivery_for_agent(request.agent, delivery_id)
    return render(request, "webhooks/delivery_detail.html", {"delivery": delivery, "endpoint": delivery.endpoint})


@agent_view(roles=ADMIN_ROLES)
@require_POST
def delivery_replay(request: AgentRequest, delivery_id: int) -> HttpResponse:
    delivery = queries.get_delivery_for_agent(request.agent, delivery_id)
    services.replay_delivery(actor=request.agent, delivery=delivery)
    messages.success(request, _("The delivery was queued to be sent again."))
    return redirect("webhooks:delivery", delivery_id=delivery.pk)
