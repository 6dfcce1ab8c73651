"""Judge ended request sessions (left, returned, verified deflection); for cron or the periodic scheduler.
Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deskloop.knowledge.services.deflection_sweep import judge_request_sessions


class Command(BaseCommand):
    help = "Judge request sessions that have ended: left after a suggestion, returned, or a verified deflection."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"judged: {judge_request_sessions()}")
