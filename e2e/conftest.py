"""Shared fixtures for the browser tests: a live Django server, one Chromium per module, a fresh page per test.

Usage in a test module::

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

    def test_something(page, live_url, acme):
        sign_in(page, live_url, acme.agent)
        page.goto(f"{live_url}/")

The browser is Debian's chromium (never a downloaded one). Each test gets its own browser context, so cookies
and storage never leak between tests, while the expensive browser process is started once per module.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from deskloop.accounts.models import Agent
from deskloop.conftest import PASSWORD, Cast, build_cast

# Playwright's sync API runs an asyncio loop in this thread; Django then refuses ORM calls from test code
# ("You cannot call this from an async context") although nothing here is actually async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Short enough that a broken page fails fast, long enough for a loaded 2-core machine.
DEFAULT_TIMEOUT_MS = 10_000
# Assertions wait as long as actions do. Playwright's expect() waits 5 s by default: on CI's two busy cores an
# iframe's first htmx answer took longer once (the widget's "My conversations" tab on PostgreSQL), though it passes
# in well under a second on a quiet machine.
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)

__all__ = ["DESKTOP", "PASSWORD", "PHONE", "expect", "sign_in"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def open_page(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a browser context of its own (``options`` for ``new_context``: a phone viewport, no JavaScript),
    in English and UTC like the ``page`` fixture; closed afterwards, with the requests it started let finish."""
    context = browser.new_context(**{"viewport": DESKTOP, "locale": "en-US", "timezone_id": "UTC", **options})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
        _wait_for_live_server_requests()


@pytest.fixture
def page(browser: Browser, live_server: object, transactional_db: None) -> Iterator[Page]:
    # Depending on the live server and the database makes pytest close the page BEFORE it flushes the database.
    # Otherwise a request the page still makes (htmx polls the inbox counts) can hold a lock while the flush's
    # TRUNCATE waits for it, and PostgreSQL reports a deadlock in the teardown.
    with open_page(browser) as new_page:
        yield new_page


def _wait_for_live_server_requests(timeout: float = 5.0) -> None:
    """Let requests the closed page started finish: the live server runs each one in a thread of this process,
    and a request still running its queries must not meet the flush."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [t for t in threading.enumerate() if "process_request_thread" in t.name and t.is_alive()]
        if not busy:
            return
        time.sleep(0.02)


@pytest.fixture
def live_url(live_server: object) -> str:
    """The live server's base URL without a trailing slash, e.g. ``http://localhost:41234``."""
    return str(live_server.url).rstrip("/")  # type: ignore[attr-defined]


@pytest.fixture
def acme(transactional_db: None) -> Cast:
    """The same cast as deskloop/conftest.py, committed to the database so the live server sees it."""
    return build_cast("acme", "Acme", "acme.example")


@pytest.fixture
def umbrella(transactional_db: None) -> Cast:
    return build_cast("umbrella", "Umbrella", "umbrella.example")


def sign_in(page: Page, live_url: str, agent: Agent | str, password: str = PASSWORD) -> None:
    """Sign in through the real login form and wait until the inbox (or the ``next`` page) is shown."""
    email = agent if isinstance(agent, str) else agent.user.email
    page.goto(f"{live_url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    # The inbox fetches its view counts right after it loads. A click racing that request once left CI's busy
    # PostgreSQL leg on the inbox for 10 s after a click on "Settings"; tests act on the page once it is quiet.
    page.wait_for_load_state("networkidle")
