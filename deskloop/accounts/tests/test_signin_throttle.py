"""Sign-in throttling, told through the sign-in form: nobody can guess one agent's password from one place, spray
many accounts from one address, or lock an agent out from everywhere; the client address is the one behind the
trusted proxy only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.conf import LazySettings
from django.db import connection
from django.test import Client
from django.utils import timezone

from deskloop.accounts.models import Role
from deskloop.accounts.services import add_agent
from deskloop.conftest import PASSWORD, Cast

EMAIL = "maria@acme.example"


def sign_in(email: str, password: str, ip: str, forwarded_for: str | None = None) -> int:
    extra = {"REMOTE_ADDR": ip}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post("/login/", {"email": email, "password": password}, **extra).status_code


@pytest.fixture(autouse=True)
def limits(settings: LazySettings) -> Iterator[None]:
    settings.DESKLOOP_LOGIN_ATTEMPTS = 5
    settings.DESKLOOP_LOGIN_IP_ATTEMPTS = 30
    settings.DESKLOOP_LOGIN_ACCOUNT_ATTEMPTS = 50
    settings.DESKLOOP_LOGIN_WINDOW_SECONDS = 300
    settings.DESKLOOP_TRUSTED_PROXIES = []
    # Every story starts a second into a five-minute window, so none is cut by a new window.
    window_start = timezone.now().replace(minute=5, second=1, microsecond=0)
    with time_machine.travel(window_start, tick=True):
        yield


def test_guessing_from_one_address_is_stopped_there_but_not_elsewhere(acme: Cast) -> None:
    assert [sign_in(EMAIL, "wrong", "203.0.113.7") for _ in range(5)] == [400] * 5
    # Even the right password is not checked from there any more.
    assert sign_in(EMAIL, PASSWORD, "203.0.113.7") == 429
    # Maria, at home: signs in.
    assert sign_in(EMAIL, PASSWORD, "198.51.100.20") == 302


def test_a_successful_sign_in_forgets_the_misses_before_it(acme: Cast) -> None:
    assert [sign_in(EMAIL, "wrong", "203.0.113.7") for _ in range(4)] == [400] * 4
    assert sign_in(EMAIL, PASSWORD, "203.0.113.7") == 302
    assert [sign_in(EMAIL, "wrong", "203.0.113.7") for _ in range(5)] == [400] * 5


def test_spraying_many_accounts_from_one_address_is_stopped(acme: Cast) -> None:
    statuses = [sign_in(f"person{i}@acme.example", "Winter2026!", "203.0.113.7") for i in range(30)]
    assert statuses == [400] * 30
    # The 31st account, and even a real one with its password, is refused from that address.
    assert sign_in("person31@acme.example", "Winter2026!", "203.0.113.7") == 429
    assert sign_in(EMAIL, PASSWORD, "203.0.113.7") == 429
    assert sign_in(EMAIL, PASSWORD, "198.51.100.20") == 302


def test_a_guess_from_many_addresses_cannot_lock_the_agent_out(acme: Cast) -> None:
    # 60 addresses, one wrong guess each: past the account's limit of 50.
    assert {sign_in(EMAIL, "wrong", f"192.0.2.{i}") for i in range(1, 61)} == {400}
    # Now every address has one try: an attacker's second guess from an address is refused...
    assert sign_in(EMAIL, "wrong", "198.18.0.1") == 400
    assert sign_in(EMAIL, "wrong", "198.18.0.1") == 429
    # ...and Maria, from her own address, gets in.
    assert sign_in(EMAIL, PASSWORD, "198.51.100.20") == 302


def test_ipv6_clients_are_counted_by_their_64_block(acme: Cast) -> None:
    assert [sign_in(EMAIL, "wrong", f"2001:db8:1:2::{i}") for i in range(1, 6)] == [400] * 5
    assert sign_in(EMAIL, "wrong", "2001:db8:1:2::99") == 429
    assert sign_in(EMAIL, PASSWORD, "2001:db8:1:3::1") == 302


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(acme: Cast) -> None:
    # No trusted proxy: a client inventing X-Forwarded-For is still counted by its own address.
    statuses = [sign_in(EMAIL, "wrong", "203.0.113.7", forwarded_for=f"10.9.9.{i}") for i in range(6)]
    assert statuses == [400] * 5 + [429]


def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_address(
    acme: Cast, settings: LazySettings
) -> None:
    settings.DESKLOOP_TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]
    proxy = "10.0.0.5"
    # The attacker at 203.0.113.7 varies what it writes on the left; the proxies append the real hops.
    statuses = [sign_in(EMAIL, "wrong", proxy, forwarded_for=f"1.2.3.{i}, 203.0.113.7, 10.0.0.9") for i in range(6)]
    assert statuses == [400] * 5 + [429]
    # Another client behind the same proxy is a different address: Maria gets in.
    assert sign_in(EMAIL, PASSWORD, proxy, forwarded_for="198.51.100.20") == 302
    # A peer outside the trusted networks cannot claim to be someone else.
    assert sign_in(EMAIL, PASSWORD, "203.0.113.7", forwarded_for="198.51.100.20") == 429


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's in-memory test database cannot wait for locks")
def test_concurrent_guesses_check_exactly_the_limit(transactional_db: None) -> None:
    from deskloop.accounts.services import create_workspace

    workspace = create_workspace(name="Race", slug="race")
    add_agent(workspace=workspace, email="racer@race.example", name="Racer", role=Role.AGENT, password=PASSWORD)
    start = threading.Barrier(16)

    def guess(_index: int) -> int:
        try:
            client = Client()
            start.wait(timeout=10)
            return client.post(
                "/login/", {"email": "racer@race.example", "password": "wrong"}, REMOTE_ADDR="203.0.113.7"
            ).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(16) as pool:
        statuses = sorted(pool.map(guess, range(16)))
    assert statuses == [400] * 5 + [429] * 11
