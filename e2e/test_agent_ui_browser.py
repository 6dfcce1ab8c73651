"""Issue #9, found by using Deskloop as a new agent would: the composer's presence, the @mention list, the status
box after a refused change, the inbox filters, the "New ticket" page."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import OperationalError
from playwright.sync_api import Browser, Page, Response

from deskloop.accounts.models import Agent
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket, TicketPresence
from deskloop.tickets.services.configuration import create_custom_field
from deskloop.tickets.services.tickets import TicketChanges, update_ticket
from e2e.conftest import expect, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _beat_saying(replying: str) -> Callable[[Response], bool]:
    """The heart-beat that carries ``replying`` (another beat may already be on its way when the test acts)."""

    def matches(response: Response) -> bool:
        request = response.request
        return (
            "/presence/" in response.url
            and request.method == "POST"
            and f"replying={replying}" in (request.post_data or "")
        )

    return matches


def _presence_exists(**lookup: object) -> bool:
    """Whether a presence row matches, read from the test's own thread. On SQLite the live server shares the test's
    in-memory database, which refuses a read of a table another thread is writing at that moment ("database table
    is locked"; the page's heart-beats keep writing presence): such a read is tried again, a real error is not."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return TicketPresence.objects.filter(**lookup).exists()
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _leave(page: Page, agent: Agent) -> None:
    """Close the ticket page and let its "left" beacon finish before the database is flushed."""
    page.goto("about:blank")
    deadline = time.monotonic() + 5
    while _presence_exists(agent=agent) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)


def _replying(agent: Agent) -> bool:
    return _presence_exists(agent=agent, is_replying=True)


def test_leaving_the_composer_ends_replying(acme: Cast, live_url: str, browser: Browser, page: Page) -> None:
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    with page.expect_response(_beat_saying("1")):
        page.locator("#composer-body").fill("Let me check the invoice")
    assert _replying(acme.agent)

    with page.expect_response(_beat_saying("0")):
        page.keyboard.press("Escape")  # leaves the composer, the draft stays
    assert not _replying(acme.agent)
    with open_page(browser) as other:
        sign_in(other, live_url, acme.admin)
        other.goto(f"{live_url}/tickets/{acme.ticket.number}/")
        expect(other.locator("#presence")).to_contain_text("Maria Agent is viewing")
        _leave(other, acme.admin)

    with page.expect_response(_beat_saying("1")):
        page.locator("#composer-body").focus()  # back to the draft: replying again
    assert _replying(acme.agent)
    with page.expect_response(_beat_saying("0")):
        page.locator("#composer-body").fill("")
    assert not _replying(acme.agent)
    _leave(page, acme.agent)


def test_a_refused_solve_shows_the_real_status_again(acme: Cast, live_url: str, page: Page) -> None:
    create_custom_field(actor=acme.admin, label="Root cause", field_type="text", required_on_solve=True)
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    status = page.locator("#prop-status")
    expect(status.locator("option:checked")).to_have_text("New")

    status.select_option(label="Solved")
    expect(page.locator("#properties-errors")).to_contain_text("Root cause")
    expect(page.locator("#prop-status option:checked")).to_have_text("New")
    expect(page.locator("[data-ticket-status]")).to_have_text("New")
    assert Ticket.objects.get(pk=acme.ticket.pk).status.name == "New"
    _leave(page, acme.agent)


def test_new_ticket_for_a_customer_found_by_typing(acme: Cast, live_url: str, page: Page) -> None:
    sign_in(page, live_url, acme.agent)
    page.get_by_role("link", name="New ticket").click()
    page.get_by_label("Find a customer").fill("globex")
    page.get_by_label("Carmen Customer").check()
    page.get_by_label("Phone call: log what the customer said").check()
    page.get_by_label("Subject").fill("Called about the VAT number")
    page.get_by_label("First message").fill("She asked whether the corrected invoice was sent.")
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Called about the VAT number")
    ticket = Ticket.objects.get(subject="Called about the VAT number")
    assert (ticket.requester_id, ticket.channel) == (acme.customer.pk, "phone")
    _leave(page, acme.agent)


def test_changing_one_filter_keeps_every_value_of_another(acme: Cast, live_url: str, page: Page) -> None:
    update_ticket(ticket=acme.ticket, changes=TicketChanges(add_tags=["billing", "vip"]), agent=acme.admin)
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/?view=all&tag=billing&tag=vip&channel=email&channel=phone")
    page.locator("#filter-priority").select_option("high")
    page.wait_for_url(lambda url: "priority=high" in url)
    query = parse_qs(urlsplit(page.url).query)
    assert sorted(query["tag"]) == ["billing", "vip"]
    assert sorted(query["channel"]) == ["email", "phone"]
    assert query["priority"] == ["high"]


def test_the_mention_list_is_chosen_with_the_keyboard(acme: Cast, live_url: str, page: Page) -> None:
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    body = page.locator("#composer-body")
    body.click()
    body.press_sequentially("Please check @b")
    listbox = page.get_by_role("listbox", name="Agents")
    expect(listbox).to_be_visible()
    expect(body).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option", selected=True)).to_have_text("Boris Billing")
    page.keyboard.press("Enter")
    expect(body).to_have_value("Please check @boris ")
    expect(listbox).to_be_hidden()

    body.press_sequentially("and @")  # every agent matches: the arrows move through them
    first = listbox.get_by_role("option", selected=True)
    expect(first).to_have_count(1)
    first_name = first.inner_text()
    page.keyboard.press("ArrowDown")
    expect(listbox.get_by_role("option", selected=True)).not_to_have_text(first_name)
    page.keyboard.press("ArrowUp")
    expect(listbox.get_by_role("option", selected=True)).to_have_text(first_name)
    page.keyboard.press("Escape")  # closes the list, the caret stays in the composer
    expect(listbox).to_be_hidden()
    expect(body).to_be_focused()
    expect(body).to_have_value("Please check @boris and @")
    _leave(page, acme.agent)
