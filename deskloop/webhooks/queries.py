"""Reads for the webhooks settings pages, always inside the caller's workspace."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.webhooks.models import Delivery, DeliveryAttempt, DeliveryState, Endpoint


def endpoints_for_agent(agent: Agent) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(workspace_id=agent.workspace_id).annotate(
        delivered_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DELIVERED)),
        failed_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        pending_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
    )


def get_endpoint_for_agent(agent: Agent, endpoint_id: int) -> Endpoint:
    endpoint = Endpoint.objects.filter(workspace_id=agent.workspace_id, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint")
    return endpoint


def deliveries_for_endpoint(endpoint: Endpoint) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint=endpoint, workspace_id=endpoint.workspace_id).order_by("-created_at", "-id")


def get_delivery_for_agent(agent: Agent, delivery_id: int) -> Delivery:
    delivery = (
        Delivery.objects.filter(workspace_id=agent.workspace_id, pk=delivery_id)
        .select_related("endpoint")
        .prefetch_related(Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number", "id")))
        .first()
    )
    if delivery is None:
        raise Http404("No such delivery")
    return delivery
