from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from deskloop.core.plain_sql import database_answers
from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy


def _healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database accepts a query."""
    database_answers()
    return JsonResponse({"status": "ok"})


healthz = attach_policy(_healthz, RoutePolicy(tenancy=Tenancy.PUBLIC, roles=frozenset()))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 page, except for a body over the upload limits: 413 with a page saying what to do."""
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        limit_mb = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024):.1f}"
        return render(request, "core/request_too_large.html", {"limit_mb": limit_mb}, status=413)
    return defaults.bad_request(request, exception or Exception())
