"""Delete for good the tickets that have been in the trash longer than DESKLOOP_TRASH_DAYS (30 by default).

Idempotent: safe from cron or the scheduler (run_periodic also calls it hourly).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deskloop.tickets.services.lifecycle import purge_trash


class Command(BaseCommand):
    help = "Delete tickets that have been in the trash longer than the retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_trash()
        self.stdout.write(f"Purged {purged} ticket(s) from the trash.")
