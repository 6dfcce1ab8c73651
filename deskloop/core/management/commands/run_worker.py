"""The task worker: django-tasks' database worker (``db_worker``, same options) that outlives database outages.

``db_worker`` exits at the first error it does not expect from the database, and a supervisor that restarts it
only helps until its restart limit; tasks then pile up unseen. Here the worker's loop is restarted in-process:
a lost connection is closed, the worker pauses with a growing, jittered backoff (up to a minute) until the
database answers, logs the outage once, and goes on. A task that the outage interrupted is put back in the queue
(tasks are idempotent: they take ids and are safe to run twice), so it is not left "running" forever.

    python manage.py run_worker                  # what `make run` and docs/operations.md start
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from deskloop.core.outages import DATABASE_ERRORS, Backoff, DatabaseOutage, wait_for_database

log = logging.getLogger("deskloop.worker")


class ResilientWorker(Worker):
    """``Worker`` whose loop survives the database going away and coming back."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.interrupted_task_id: Any = None

    def run(self) -> None:
        outage = DatabaseOutage(process=f"task worker {self.worker_id}", log=log)
        backoff = Backoff(first_seconds=1.0, max_seconds=60.0)
        while self.running:
            try:
                super().run()
                return
            except DATABASE_ERRORS as exc:
                outage.failed(exc)
            # Only the first start waits a random moment against a thundering herd; the backoff's jitter does
            # that after an outage.
            self.startup_delay = False
            if not wait_for_database(outage, backoff, keep_waiting=lambda: self.running):
                return
            self._requeue_interrupted_task()

    def run_task(self, db_task_result: DBTaskResult[Any, Any]) -> None:
        # Cleared only when the task's outcome was recorded: when recording fails, the outage caught in run()
        # knows which task it interrupted.
        self.interrupted_task_id = db_task_result.pk
        super().run_task(db_task_result)
        self.interrupted_task_id = None

    def _requeue_interrupted_task(self) -> None:
        if self.interrupted_task_id is None:
            return
        requeued = DBTaskResult.objects.filter(pk=self.interrupted_task_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None
        )
        if requeued:
            log.warning("task %s was interrupted by the outage; it is queued again", self.interrupted_task_id)
        self.interrupted_task_id = None


class Command(DatabaseWorkerCommand):
    help = "Run the background task worker; it waits out database outages instead of exiting."

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        # The same steps as db_worker's handle(), with the resilient worker.
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the reloader's child runs the worker
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
