"""Automations in a real Chromium: Adam builds "priority urgent when the subject contains 'outage'", tries it against
the open tickets ("Would match 2 tickets"), saves it, and the next outage ticket arrives urgent with the run on its
history."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from deskloop.automations.models import AutomationRule
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from e2e.conftest import expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ticket(cast: Cast, subject: str) -> Ticket:
    return open_ticket(
        workspace=cast.workspace, ticket=NewTicket(requester=cast.customer, subject=subject, body_text="Help")
    )[0]


def test_an_admin_builds_previews_and_saves_a_rule_that_then_acts(acme: Cast, live_url: str, page: Page) -> None:
    _ticket(acme, "Outage in Paris")
    _ticket(acme, "Partial outage of the API")
    sign_in(page, live_url, acme.admin)
    page.goto(f"{live_url}/settings/")
    page.get_by_role("link", name="Automations").click()
    page.get_by_role("link", name="New rule").click()

    page.get_by_label("Name").fill("Outage is urgent")
    page.locator('select[name="condition_field"]').select_option(label="Subject")
    page.locator('select[name="condition_operator"]').select_option(label="contains")
    page.locator('input[name="condition_value"]').fill("outage")
    page.locator('select[name="action_type"]').select_option(label="Set priority")
    page.locator('input[name="action_value"]').fill("urgent")
    page.get_by_role("button", name="Preview: which tickets would match?").click()

    preview = page.locator("#automation-preview")
    expect(preview).to_contain_text("Would match 2 tickets")
    expect(preview).to_contain_text("Partial outage of the API")
    assert AutomationRule.objects.count() == 0
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#toasts")).to_contain_text("Rule saved. It acts with your rights from now on.")

    arrived = _ticket(acme, "Total outage in Berlin")
    page.goto(f"{live_url}/tickets/{arrived.number}/")
    expect(page.get_by_text("Automation “Outage is urgent”: set priority to Urgent")).to_be_visible()
    assert Ticket.objects.get(pk=arrived.pk).priority == "urgent"

    page.goto(f"{live_url}/settings/automations/")
    page.get_by_role("link", name="Run log").click()
    expect(page.locator("table")).to_contain_text(f"#{arrived.number}")
    expect(page.locator("table")).to_contain_text("Applied")
