"""Outbound webhooks: endpoints a workspace registers, and every delivery with its attempts (the delivery log)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.core.models import WorkspaceOwned


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_UPDATED = "ticket.updated", _("Ticket updated")
    TICKET_MERGED = "ticket.merged", _("Tickets merged")
    TICKET_DELETED = "ticket.deleted", _("Ticket deleted")
    MESSAGE_CREATED = "message.created", _("Message created")
    IDEA_STATUS_CHANGED = "idea.status_changed", _("Idea status changed")
    SURVEY_RESPONSE_CREATED = "survey.response_created", _("Survey answered")
    DEAL_LOST = "deal.lost", _("Deal lost")
    CHURN_RECORDED = "churn.recorded", _("Churn recorded")
    SLA_WARNING = "ticket.sla_warning", _("SLA target about to be breached")
    SLA_BREACHED = "ticket.sla_breached", _("SLA target breached")


class Endpoint(WorkspaceOwned):
    """A URL that receives signed POSTs for the events it subscribes to."""

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Kept in clear text: it is the HMAC key, needed to sign every delivery; admins may read it.
    secret = models.CharField(max_length=100)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return event in self.events


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(WorkspaceOwned):
    """One event for one endpoint. It is retried with backoff until delivered or given up."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # Sent as X-Deskloop-Delivery; stable across retries and replays so receivers can de-duplicate.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=60)
    outbox_event = models.ForeignKey("core.OutboxEvent", on_delete=models.SET_NULL, null=True, blank=True)
    # The JSON document POSTed, fixed at creation so retries and replays send the same bytes.
    body = models.TextField()
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # When the next attempt is due; None when nothing is scheduled (delivered or given up).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A replay sends once and is not retried automatically.
    is_replay = models.BooleanField(default=False)
    last_response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The outbox may hand an event over twice (sweep + task); one delivery per endpoint regardless.
            models.UniqueConstraint(
                fields=["endpoint", "outbox_event"],
                condition=models.Q(outbox_event__isnull=False),
                name="webhook_delivery_once_per_event",
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "created_at", "id"], name="webhook_delivery_log"),
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id}"


class DeliveryAttempt(WorkspaceOwned):
    """One HTTP request made for a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    is_replay = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    # First bytes of the response body, for debugging a receiver; never rendered as HTML.
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["number", "id"]
