from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy


def _healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database accepts a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


healthz = attach_policy(_healthz, RoutePolicy(tenancy=Tenancy.PUBLIC, roles=frozenset()))
