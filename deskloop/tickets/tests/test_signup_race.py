"""Two people open the sign-up page of an empty installation and send it at the very same moment: exactly one gets
the workspace; the other is told that the installation has one already (not a 500, not a second workspace).

Real HTTP against the live server (each request in its own thread with its own database connection) on
PostgreSQL. The two requests are held so that both are past the page's own "sign-up open?" check before either
creates anything, which is exactly the window the lock in ``open_workspace`` closes.
"""

from __future__ import annotations

import contextlib
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar
from typing import Any

import pytest
from django.conf import settings

from deskloop.accounts.models import Agent, Role, User, Workspace
from deskloop.conftest import PASSWORD
from deskloop.tickets.services import setup
from deskloop.tickets.views import signup as signup_view

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL: on SQLite the test database is in memory and the live server shares its one "
        "connection between threads, so two sign-ups cannot race there (set DATABASE_URL=$(scripts/pg-throwaway "
        "start PORT) to run it)",
    ),
    pytest.mark.django_db(transaction=True),
]

# How long the first sign-up waits at its creation for the second to arrive there too. Without the lock both
# arrive at once; with it the second is blocked before its check, the wait runs out and the first goes on alone.
# The outcome asserted does not depend on it.
MEET_TIMEOUT_S = 3


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Someone with a cookie jar (the CSRF cookie) talking to the live server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects)
        self.csrf_token = ""

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(f"{self.base_url}{path}", data=body, timeout=60) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def open_signup(self) -> None:
        status, _location, html = self.request("/signup/")
        assert status == 200
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert match is not None
        self.csrf_token = match.group(1)

    def sign_up(self, name: str, email: str) -> tuple[int, str, str]:
        form = {"name": name, "owner_name": name, "owner_email": email, "password": PASSWORD, "language": "en"}
        return self.request("/signup/", {**form, "csrfmiddlewaretoken": self.csrf_token})


def hold(real: Callable[..., Any], barrier: threading.Barrier, *, timeout: float | None) -> Callable[..., Any]:
    def held(**kwargs: Any) -> Any:
        # A broken barrier (the other caller never came) is the serialized case: go on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=timeout)
        return real(**kwargs)

    return held


def test_two_simultaneous_sign_ups_make_one_workspace_and_the_other_is_refused(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both requests are past the view's check and inside the service before either goes further...
    monkeypatch.setattr(signup_view, "open_workspace", hold(setup.open_workspace, threading.Barrier(2), timeout=60))
    # ...and, when nothing serializes them, both have seen "no workspace yet" when they create theirs.
    monkeypatch.setattr(
        setup, "create_workspace", hold(setup.create_workspace, threading.Barrier(2), timeout=MEET_TIMEOUT_S)
    )
    people = {"Acme Rockets": "olivia@acme-rockets.test", "Beta Balloons": "bea@beta-balloons.test"}
    browsers = {name: Browser(str(live_server.url)) for name in people}
    for browser in browsers.values():
        browser.open_signup()

    answers: dict[str, tuple[int, str, str]] = {}

    def send(name: str) -> None:
        answers[name] = browsers[name].sign_up(name, people[name])

    threads = [threading.Thread(target=send, args=(name,)) for name in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Workspace.objects.count() == 1
    winner = Workspace.objects.get().name
    loser = next(name for name in people if name != winner)
    assert answers[winner][:2] == (302, "/")
    status, _location, html = answers[loser]
    assert status == 422
    assert "This installation has a workspace already; ask its admin for an invitation." in html
    owner = Agent.objects.select_related("user").get()
    assert (owner.role, owner.user.email) == (Role.OWNER, people[winner])
    # The refused person has no account either, and the page is gone for everyone now.
    assert not User.objects.filter(email=people[loser]).exists()
    assert Browser(str(live_server.url)).request("/signup/")[0] == 404
