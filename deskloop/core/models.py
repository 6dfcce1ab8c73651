"""Abstract bases shared by every domain model."""

from __future__ import annotations

from django.db import models


class WorkspaceOwned(models.Model):
    """A row that belongs to exactly one workspace (tenant). Every query is scoped by this column."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxEvent(models.Model):
    """A domain event (``ticket.created``) written in the same transaction as the change it describes.

    Consumers (outbound webhooks, later notifications) are fed from this table after commit, so an event is
    never announced for a change that rolled back, and never lost when a worker dies mid-delivery.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dispatched_at", "id"], name="outbox_undispatched")]
