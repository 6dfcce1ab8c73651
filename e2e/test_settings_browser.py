"""Settings in a real Chromium: Adam invites a colleague who joins from the emailed link; Maria creates an API
token, sees it once, and calls the API with it from curl.

The live server runs in this process, so mail sent by its requests lands in Django's locmem outbox
(``django.core.mail.outbox``), exactly where a test reads it; SITE_URL points at the live server so the link in
the email is the one a person would click.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page

from deskloop.accounts.models import Agent, ApiToken
from deskloop.conftest import Cast
from e2e.conftest import DESKTOP, PHONE, expect, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for_mail(count: int) -> None:
    # The email is sent after the request's transaction commits, in the server thread.
    deadline = time.monotonic() + 5
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(mail.outbox) == count


def test_an_admin_invites_a_colleague_who_joins_from_the_email(
    acme: Cast, live_url: str, page: Page, browser: Browser, settings: object
) -> None:
    settings.SITE_URL = live_url  # type: ignore[attr-defined]
    sign_in(page, live_url, acme.admin)
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email address").fill("nina@example.org")
    page.get_by_label("Role").select_option(label="Agent")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.locator("#toasts")).to_contain_text("An invitation was emailed to nina@example.org.")
    expect(page.locator('tr[data-invitation="nina@example.org"]')).to_contain_text("Adam Admin")
    _wait_for_mail(1)
    [message] = mail.outbox
    assert message.to == ["nina@example.org"]
    link = re.search(rf"{re.escape(live_url)}/invitations/[\w-]+/", message.body)
    assert link is not None
    assert link.group(0) in message.alternatives[0][0]  # type: ignore[attr-defined]

    # Nina opens the link in her own browser, on her phone.
    with open_page(browser, viewport=PHONE) as nina:
        nina.goto(link.group(0))
        expect(nina.get_by_role("heading", level=1)).to_have_text("Join Acme")
        assert nina.evaluate("document.documentElement.scrollWidth <= window.innerWidth") is True
        nina.get_by_label("Your name").fill("Nina Novak")
        nina.get_by_label("Choose a password").fill("short")
        nina.get_by_label("Password again").fill("short")
        nina.get_by_role("button", name="Create account and join").click()
        expect(nina.get_by_text("This password is too short. It must contain at least 10 characters.")).to_be_visible()
        expect(nina.get_by_label("Choose a password")).to_have_attribute("aria-invalid", "true")
        nina.get_by_label("Choose a password").fill("nina's long passphrase")
        nina.get_by_label("Password again").fill("nina's long passphrase")
        nina.get_by_role("button", name="Create account and join").click()
        nina.wait_for_url(f"{live_url}/")
        expect(nina.locator(".agent-menu-who")).to_contain_text("Nina Novak")
        agent = Agent.objects.select_related("user").get(workspace=acme.workspace, user__email="nina@example.org")
        assert (agent.role, agent.user.name, agent.is_active) == ("agent", "Nina Novak", True)

        # The link worked once.
        nina.goto(link.group(0))
        expect(nina.locator("[data-invitation-error]")).to_have_text(
            "This invitation has already been used. Sign in with your email and password."
        )
    page.reload()
    expect(page.get_by_text("No open invitations.")).to_be_visible()


def test_an_agent_creates_a_token_sees_it_once_and_calls_the_api(acme: Cast, live_url: str, page: Page) -> None:
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/settings/")
    page.get_by_role("link", name="API tokens").click()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Token name").fill("Reporting script")
    page.get_by_role("button", name="Create token").click()

    secret_box = page.locator("[data-new-token]")
    expect(secret_box).to_contain_text("Copy it now: it is shown only once.")
    secret = page.locator("[data-secret]").inner_text().strip()
    token = ApiToken.objects.get(agent=acme.agent)
    assert secret.startswith(token.prefix)
    assert page.evaluate("window.__sameDocument") is True  # created over htmx, no page load
    expect(page.locator(f'tr[data-token="{token.prefix}"]')).to_contain_text("Never")

    completed = subprocess.run(  # noqa: S603 (fixed arguments, our own live server)
        ["/usr/bin/curl", "-sS", "-H", f"Authorization: Bearer {secret}", f"{live_url}/api/v1/me"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    me = json.loads(completed.stdout)
    assert (me["agent"]["email"], me["workspace"]["slug"]) == ("maria@acme.example", "acme")

    page.reload()
    expect(page.locator("[data-new-token]")).to_have_count(0)
    assert secret not in page.content()
    row = page.locator(f'tr[data-token="{token.prefix}"]')
    expect(row).not_to_contain_text("Never")  # last used is now shown
    row.get_by_role("button", name="Revoke token Reporting script").click()
    expect(page.locator("#toasts")).to_contain_text("The token “Reporting script” was revoked.")
    revoked = subprocess.run(  # noqa: S603
        [
            "/usr/bin/curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            f"Authorization: Bearer {secret}",
            f"{live_url}/api/v1/me",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert revoked.stdout == "401"

    # The same screen on a phone: the settings list becomes a strip and nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator(".settings-nav")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") is True
    page.set_viewport_size(DESKTOP)
