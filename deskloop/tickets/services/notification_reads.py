"""An agent's notifications as they read them: the list, the unread count, and marking them read."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from deskloop.accounts.models import Agent
from deskloop.tickets.models import Notification

NOTIFICATIONS_SHOWN = 100


def notifications_for(agent: Agent) -> list[Notification]:
    """The agent's latest notifications in their current workspace, newest first, with their tickets."""
    return list(
        Notification.objects.filter(workspace_id=agent.workspace_id, agent_id=agent.pk)
        .select_related("ticket")
        .order_by("-created_at", "-id")[:NOTIFICATIONS_SHOWN]
    )


def unread_notification_count(agent: Agent) -> int:
    return Notification.objects.filter(workspace_id=agent.workspace_id, agent_id=agent.pk, read_at__isnull=True).count()


def mark_notifications_read(*, agent: Agent, notification_ids: Sequence[int] | None = None) -> int:
    """Mark the agent's own notifications read: the given ones, or all unread when ``notification_ids`` is None.

    Ids of anyone else's notifications are ignored (never touched). Returns how many became read.
    """
    unread = Notification.objects.filter(workspace_id=agent.workspace_id, agent_id=agent.pk, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    with transaction.atomic():
        return unread.update(read_at=timezone.now())
