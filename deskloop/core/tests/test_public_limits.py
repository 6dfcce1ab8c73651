"""Public endpoints' limits: per client address and per workspace, counted atomically in the database."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from deskloop.core.public_limits import purge_public_rate_counters, seconds_over_limit, too_many_requests

pytestmark = pytest.mark.django_db


def _from(ip: str):
    return RequestFactory().get("/", REMOTE_ADDR=ip)


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"search": (3, 5)})
def test_one_address_then_the_workspace_are_limited():
    answers = [seconds_over_limit(_from("192.0.2.1"), workspace_id=1, bucket="search") for _ in range(4)]
    assert [answer > 0 for answer in answers] == [False, False, False, True]
    # Other addresses still pass until the workspace's own limit (5 counted requests, 4 already) is reached.
    assert seconds_over_limit(_from("192.0.2.2"), workspace_id=1, bucket="search") == 0
    assert seconds_over_limit(_from("192.0.2.3"), workspace_id=1, bucket="search") > 0
    # Another workspace has its own count.
    assert seconds_over_limit(_from("192.0.2.4"), workspace_id=2, bucket="search") == 0


def test_the_refusal_says_when_to_come_back():
    response = too_many_requests(17, as_json=True)
    assert response.status_code == 429
    assert response["Retry-After"] == "17"
    assert purge_public_rate_counters(now=0) == 0
