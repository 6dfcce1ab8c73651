"""Queue outgoing emails whose (retry) time has come; for cron or the periodic scheduler. Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deskloop.channels.email.outbound_sending import send_due_emails


class Command(BaseCommand):
    help = "Queue outgoing emails that are due (retries, lost tasks, worker downtime)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"queued: {send_due_emails()}")
