"""Presence rows are heart-beats; old ones are deleted so the table stays the size of the team."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from deskloop.tickets.models import TicketPresence

PRESENCE_RETENTION = dt.timedelta(minutes=10)


def forget_stale_presence() -> int:
    deleted, _by_model = TicketPresence.objects.filter(seen_at__lt=timezone.now() - PRESENCE_RETENTION).delete()
    return deleted
