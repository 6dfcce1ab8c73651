"""Queue webhook deliveries whose retry time has come; for cron or the periodic scheduler. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deskloop.webhooks.services import send_due_deliveries


class Command(BaseCommand):
    help = "Queue pending webhook deliveries that are due (lost retries, worker downtime)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"queued: {send_due_deliveries()}")
