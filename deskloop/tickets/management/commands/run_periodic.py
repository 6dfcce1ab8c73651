"""The one scheduler process: runs Deskloop's periodic jobs on their intervals until stopped.

Every job is an idempotent function, so running two schedulers by mistake, or restarting one mid-way, does no harm;
it only repeats work. `--once` runs every job once and exits (for cron, or for tests). A database outage pauses
the scheduler (deskloop.core.outages) until the database answers again, with one log line when it starts and one
when it ends.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand

from deskloop.core.outages import DATABASE_ERRORS, Backoff, DatabaseOutage, wait_for_database
from deskloop.core.periodic import registered_jobs

log = logging.getLogger("deskloop.scheduler")


@dataclass
class Job:
    name: str
    every_seconds: int
    run: Callable[[], int]
    next_at: float = 0.0


def jobs() -> list[Job]:
    # Apps register their jobs in AppConfig.ready() (deskloop.core.periodic), so the scheduler runs mail polling
    # without importing the channels that own it.
    return [Job(job.name, job.every_seconds, job.run) for job in registered_jobs()]


class Command(BaseCommand):
    help = "Run periodic jobs (outbox sweep, presence cleanup, trash purge, mail polling) until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Run every job once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        schedule = jobs()
        if options["once"]:
            for job in schedule:
                self.stdout.write(f"{job.name}: {job.run()}")
            return
        stopping = False

        def stop(_signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        outage = DatabaseOutage(process="scheduler", log=log)
        backoff = Backoff(first_seconds=1.0, max_seconds=60.0)
        while not stopping:
            try:
                self._run_due(schedule)
            except DATABASE_ERRORS as exc:
                # The job that met the outage keeps its turn: it runs first once the database answers.
                outage.failed(exc)
                wait_for_database(outage, backoff, keep_waiting=lambda: not stopping)
                continue
            time.sleep(1)

    def _run_due(self, schedule: list[Job]) -> None:
        now = time.monotonic()
        for job in schedule:
            if now < job.next_at:
                continue
            try:
                done = job.run()
                if done:
                    self.stdout.write(f"{job.name}: {done}")
            except DATABASE_ERRORS:
                raise
            except Exception as exc:  # one failing job must not stop the others
                self.stderr.write(f"{job.name} failed: {exc!r}")
            job.next_at = now + job.every_seconds
