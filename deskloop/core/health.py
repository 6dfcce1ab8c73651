"""What ``/healthz`` knows about the background work: how many tasks are due and how long the oldest has waited.

A task due for longer than ``DESKLOOP_HEALTH_TASK_DELAY_SECONDS`` means no worker is claiming tasks (all dead, or
all stuck): the health check then fails, so a supervisor or a load balancer's probe notices what the web pages
would not. One aggregate over the ready tasks, which the task table's partial index (status = READY) covers;
nothing about the tasks themselves (their arguments are personal data) leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, F, Min, When
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import task_backends
from django_tasks_db.models import DBTaskResult, get_date_max


@dataclass(frozen=True)
class TaskQueueHealth:
    due: int
    oldest_due_seconds: int | None  # None when nothing is due


def task_queue_health(now: datetime) -> TaskQueueHealth | None:
    """The database task queue's due tasks, or None when tasks go to another backend (Redis), whose own
    monitoring applies."""
    if not isinstance(task_backends["default"], DatabaseBackend):
        return None
    # A task enqueued without a delay has run_after = the largest date: it is due since it was enqueued.
    due_since = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    found = DBTaskResult.objects.ready().aggregate(due=Count("pk"), oldest=Min(due_since))
    oldest = found["oldest"]
    return TaskQueueHealth(
        due=found["due"], oldest_due_seconds=None if oldest is None else max(0, int((now - oldest).total_seconds()))
    )
