from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from deskloop.core.plain_sql import database_answers
from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy


def _healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database accepts a query."""
    database_answers()
    return JsonResponse({"status": "ok"})


healthz = attach_policy(_healthz, RoutePolicy(tenancy=Tenancy.PUBLIC, roles=frozenset()))
