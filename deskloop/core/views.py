from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import defaults

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


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 page, except for a body over the upload limits: 413 with a page saying what to do."""
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        limit_mb = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024):.1f}"
        return render(request, "core/request_too_large.html", {"limit_mb": limit_mb}, status=413)
    return defaults.bad_request(request, exception or Exception())
