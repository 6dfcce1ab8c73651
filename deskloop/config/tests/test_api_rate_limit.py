"""The per-token rate limit: exact under concurrency, one statement per call, a new window starts again."""

from __future__ import annotations

import datetime as dt
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from django.conf import LazySettings
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskloop.accounts.api import ApiTokenAuth
from deskloop.accounts.services import create_api_token
from deskloop.conftest import Cast
from deskloop.core.api_support import ApiCaller, ApiProblem, enforce_rate_limit, purge_rate_counters
from deskloop.core.models import ApiRateCounter


def caller(rate_key: str = "7:dl_abcdef") -> ApiCaller:
    return ApiCaller(token_id=7, workspace_id=1, role="agent", rate_key=rate_key, agent=None)


def test_concurrent_counts_over_the_limit_let_exactly_the_limit_through(
    transactional_db: None, settings: LazySettings
) -> None:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 5
    start = threading.Barrier(12)
    retries: list[str] = []

    def call(_index: int) -> int:
        try:
            start.wait(timeout=10)
            while True:
                try:
                    enforce_rate_limit(caller())
                    return 200
                except ApiProblem as refused:
                    return refused.status
                except OperationalError as exc:
                    # SQLite's in-memory test database shares one cache between connections, whose table locks
                    # fail at once instead of waiting (a file database, as deployed, waits: busy_timeout). The
                    # statement did not run, so nothing was counted: run it again.
                    if connection.vendor != "sqlite" or "locked" not in str(exc):
                        raise
                    retries.append(str(exc))
        finally:
            connection.close()

    # All twelve in one window.
    with time_machine.travel(timezone.now().replace(second=5), tick=True), ThreadPoolExecutor(12) as pool:
        statuses = sorted(pool.map(call, range(12)))
    assert statuses == [200] * 5 + [429] * 7
    assert ApiRateCounter.objects.get().hits == 12


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's in-memory test database cannot wait for locks")
def test_concurrent_requests_over_the_limit_get_429_beyond_it(
    transactional_db: None, acme: Cast, settings: LazySettings
) -> None:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 5
    _token, secret = create_api_token(agent=acme.agent, name="parallel script")
    start = threading.Barrier(12)

    def call(_index: int) -> int:
        try:
            client = Client(headers={"authorization": f"Bearer {secret}"})
            start.wait(timeout=10)
            return client.get("/api/v1/me").status_code
        finally:
            connection.close()

    with time_machine.travel(timezone.now().replace(second=5), tick=True), ThreadPoolExecutor(12) as pool:
        statuses = sorted(pool.map(call, range(12)))
    assert statuses == [200] * 5 + [429] * 7


def test_counting_a_request_is_one_statement_that_cannot_fail(db: None, settings: LazySettings) -> None:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 2
    with time_machine.travel(timezone.now().replace(second=1), tick=False):
        for expected in (1, 2):
            with CaptureQueriesContext(connection) as queries:
                enforce_rate_limit(caller())
            assert len(queries.captured_queries) == 1
            assert ApiRateCounter.objects.get(rate_key="7:dl_abcdef").hits == expected
        with pytest.raises(ApiProblem) as refused:
            enforce_rate_limit(caller())
        assert (refused.value.status, refused.value.headers) == (429, {"Retry-After": "59"})
        # Another token has its own count.
        enforce_rate_limit(caller("8:dl_ghijkl"))


def test_a_new_minute_starts_the_count_again_and_ended_windows_are_purged(db: None, settings: LazySettings) -> None:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 1
    minute = timezone.now().replace(second=30, microsecond=0)
    with time_machine.travel(minute, tick=False):
        enforce_rate_limit(caller())
    with time_machine.travel(minute + dt.timedelta(minutes=1), tick=False):
        enforce_rate_limit(caller())  # not refused: a new window
        assert ApiRateCounter.objects.get().hits == 1
        assert purge_rate_counters() == 0
    with time_machine.travel(minute + dt.timedelta(minutes=2), tick=False):
        assert purge_rate_counters() == 1
    assert not ApiRateCounter.objects.exists()


def test_a_request_stamped_with_an_earlier_minute_counts_in_the_current_one(db: None, settings: LazySettings) -> None:
    # Two workers' clocks may differ by a little: a late request must not reset the count of the new minute.
    settings.DESKLOOP_API_RATE_PER_MINUTE = 100
    minute = timezone.now().replace(second=0, microsecond=0)
    with time_machine.travel(minute + dt.timedelta(seconds=1), tick=False):
        enforce_rate_limit(caller())
        enforce_rate_limit(caller())
    with time_machine.travel(minute - dt.timedelta(seconds=1), tick=False):
        enforce_rate_limit(caller())
    row = ApiRateCounter.objects.get()
    assert (row.window_start, row.hits) == (int(minute.timestamp()) // 60, 3)


def test_the_token_is_found_by_one_query(acme: Cast, settings: LazySettings) -> None:
    settings.DESKLOOP_API_RATE_PER_MINUTE = 100
    _token, secret = create_api_token(agent=acme.agent, name="script")
    ApiTokenAuth().authenticate(RequestFactory().get("/"), secret)  # records last use
    with CaptureQueriesContext(connection) as queries:
        found = ApiTokenAuth().authenticate(RequestFactory().get("/"), secret)
    assert found.agent == acme.agent
    # The token with its agent, user and workspace; the rate count. last_used_at is written once a minute.
    assert len(queries.captured_queries) == 2


def test_a_deactivated_agent_or_user_loses_api_access_at_once(acme: Cast) -> None:
    _token, secret = create_api_token(agent=acme.agent, name="script")
    client = Client(headers={"authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/me").status_code == 200
    type(acme.agent).objects.filter(pk=acme.agent.pk).update(is_active=False)
    assert client.get("/api/v1/me").status_code == 401
    type(acme.agent).objects.filter(pk=acme.agent.pk).update(is_active=True)
    type(acme.agent.user).objects.filter(pk=acme.agent.user_id).update(is_active=False)
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's in-memory test database cannot wait for locks")
def test_a_live_server_under_concurrent_requests_lets_exactly_the_limit_through(
    live_server: Any, acme: Cast, settings: LazySettings
) -> None:
    # The threaded server handles each request on its own thread and database connection, as gunicorn's
    # workers do: 60 requests at once against a limit of 25.
    settings.DESKLOOP_API_RATE_PER_MINUTE = 25
    _token, secret = create_api_token(agent=acme.agent, name="parallel script")
    start = threading.Barrier(20)

    def call(_index: int) -> int:
        request = urllib.request.Request(  # noqa: S310 (the test server's http:// URL)
            f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
        )
        if _index < 20:
            start.wait(timeout=10)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the test server)
                return int(response.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    with time_machine.travel(timezone.now().replace(second=5), tick=True), ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(call, range(60)))
    assert statuses == [200] * 25 + [429] * 35
