from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from deskloop.core.health import task_queue_health
from deskloop.core.outages import DATABASE_ERRORS
from deskloop.core.plain_sql import database_answers
from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy


def _healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and supervisors: 200 when the database answers and no due task waits longer than
    ``DESKLOOP_HEALTH_TASK_DELAY_SECONDS`` (a worker is claiming tasks); 503 with the reason otherwise."""
    try:
        queue = task_queue_health(timezone.now())
        if queue is None:
            database_answers()
    except DATABASE_ERRORS:
        return JsonResponse({"status": "unhealthy", "database": "unavailable"}, status=503)
    report: dict[str, Any] = {"status": "ok", "database": "ok"}
    if queue is None:
        return JsonResponse(report)
    report["tasks"] = {"due": queue.due, "oldest_due_seconds": queue.oldest_due_seconds}
    limit = settings.DESKLOOP_HEALTH_TASK_DELAY_SECONDS
    if queue.oldest_due_seconds is not None and queue.oldest_due_seconds > limit:
        report["status"] = "unhealthy"
        report["problem"] = "tasks_not_claimed"
        report["detail"] = f"A task has been due for more than {limit} s: no task worker is claiming tasks."
        return JsonResponse(report, status=503)
    return JsonResponse(report)


healthz = attach_policy(_healthz, RoutePolicy(tenancy=Tenancy.PUBLIC, roles=frozenset()))
