"""Rate limits of the public self-service endpoints: per client address and per workspace, per minute.

Every public endpoint that costs work or sends mail (help-center search, suggestions, the request form, magic
sign-in links, article feedback) asks ``refuse_if_over_limit`` first. The counters are rows bumped by one atomic
statement (``core.plain_sql.count_in_window``), so concurrent requests cannot pass a limit and every web process
sees the same counts; with Redis as the cache this still holds, because the database, not the cache, counts.
Per address stops one client; per workspace caps what many addresses together can make one workspace cost.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from deskloop.core.client_ip import client_ip
from deskloop.core.models import PublicRateCounter
from deskloop.core.plain_sql import count_in_window

WINDOW_SECONDS = 60


def _window() -> int:
    return int(time.time() // WINDOW_SECONDS)


def seconds_over_limit(request: HttpRequest, *, workspace_id: int, bucket: str) -> int:
    """Count this request in ``bucket`` ("search", "submit", "signin_link", "feedback", "vote", "survey"); the seconds to wait
    when it is over a limit, else 0."""
    per_address, per_workspace = settings.DESKLOOP_PUBLIC_RATE_LIMITS[bucket]
    address = hashlib.sha256(client_ip(request).encode()).hexdigest()[:48]
    address_key, workspace_key = f"{bucket}:ip:{address}", f"{bucket}:ws:{workspace_id}"
    counts = count_in_window(PublicRateCounter, [address_key, workspace_key], _window())
    if counts[address_key] > per_address or counts[workspace_key] > per_workspace:
        return WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
    return 0


def too_many_requests(retry_after: int, *, as_json: bool) -> HttpResponse:
    """429 with Retry-After: JSON for scripts (suggestions), a short page otherwise."""
    message = _("Too many requests. Wait a minute and try again.")
    response: HttpResponse
    if as_json:
        response = JsonResponse({"title": message, "status": 429, "code": "rate_limited"}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def purge_public_rate_counters(now: float | None = None) -> int:
    """Delete the counters of windows that have ended; returns how many."""
    window = int((time.time() if now is None else now) // WINDOW_SECONDS)
    deleted, _by_model = PublicRateCounter.objects.filter(window_start__lt=window).delete()
    return deleted
