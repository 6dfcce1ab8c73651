"""The ticket page in a real Chromium: open a ticket, reply, change the status, merge two tickets."""

from __future__ import annotations

import os
import time

import pytest
from django.db import OperationalError
from playwright.sync_api import Page

from deskloop.accounts.models import Agent
from deskloop.conftest import Cast
from deskloop.tickets.models import Message, Ticket, TicketPresence
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from e2e.conftest import PHONE, expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# ``acme`` comes before ``page`` in every signature: fixtures tear down in reverse order, so the browser (which
# heart-beats presence every few seconds) is closed before the database is flushed, not after.

SCREENSHOTS = os.environ.get("DESKLOOP_SCREENSHOTS", "")


def _presence_gone(agent: Agent) -> bool:
    try:
        return not TicketPresence.objects.filter(agent=agent).exists()
    except OperationalError as exc:
        # SQLite's in-memory test database shares one cache between connections: while the live server's thread
        # writes the row, reading its table fails at once ("table is locked") instead of waiting. Ask again.
        if "locked" not in str(exc):
            raise
        return False


def _leave(page: Page, agent: Agent) -> None:
    """Close the ticket page and wait until its "left the ticket" beacon has been handled, so no request is still
    using the database when it is flushed after the test."""
    page.goto("about:blank")
    deadline = time.monotonic() + 5
    while not _presence_gone(agent) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)


def test_reply_and_status_change_without_a_reload(acme: Cast, live_url: str, page: Page) -> None:
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice shows the wrong VAT number")
    page.evaluate("window.__sameDocument = true")  # lost if anything below reloads the page

    page.keyboard.press("r")
    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.type("We have corrected the VAT number on your invoice.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#conversation [data-message]")).to_have_count(2)
    expect(page.locator("#conversation")).to_contain_text("We have corrected the VAT number on your invoice.")
    expect(page.locator("#composer-body")).to_have_value("")
    # A first reply opens a new ticket.
    expect(page.locator("[data-ticket-status]")).to_have_text("Open")

    page.keyboard.press("s")
    expect(page.locator("#prop-status")).to_be_focused()
    page.locator("#prop-status").select_option(label="Solved")
    expect(page.locator("[data-ticket-status]")).to_have_text("Solved")
    expect(page.locator("#ticket-history")).to_contain_text("changed Status from “Open” to “Solved”")
    assert page.evaluate("window.__sameDocument") is True
    assert Ticket.objects.get(pk=acme.ticket.pk).status.name == "Solved"
    assert Message.objects.filter(ticket=acme.ticket, author_agent=acme.agent).count() == 1

    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/ticket-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=f"{SCREENSHOTS}/ticket-phone.png", full_page=True)
    _leave(page, acme.agent)


def test_merge_two_tickets(acme: Cast, live_url: str, page: Page) -> None:
    duplicate = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(
            requester=acme.customer, subject="VAT number still wrong", body_text="Following up on the VAT number."
        ),
    )[0]
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/tickets/{duplicate.number}/")
    page.get_by_role("button", name="Merge into…").click()
    page.get_by_label("Ticket number to merge into").fill(str(acme.ticket.number))
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_url(f"{live_url}/tickets/{acme.ticket.number}/")
    expect(page.locator("#conversation")).to_contain_text("Following up on the VAT number.")
    expect(page.locator("#conversation")).to_contain_text(
        f"Ticket #{duplicate.number} (VAT number still wrong) was merged into this ticket."
    )

    page.goto(f"{live_url}/tickets/{duplicate.number}/")
    banner = page.locator("[data-merged-banner]")
    expect(banner).to_contain_text("This ticket was merged into")
    banner.get_by_role("link").click()
    page.wait_for_url(f"{live_url}/tickets/{acme.ticket.number}/")
    _leave(page, acme.agent)
