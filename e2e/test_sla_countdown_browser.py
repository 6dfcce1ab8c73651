"""The SLA countdown in a real browser: the inbox counts a ticket's first-response deadline down every second and
turns it red at the breach, without a reload. The server's clock is travelled (time-machine, ticking): the page
counts from the server's now it was sent, not from the browser's own clock, which is months away."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import Page, expect

from deskloop.conftest import Cast
from deskloop.service_levels.models import SlaPolicy
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from e2e.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENED = dt.datetime(2026, 3, 27, 8, 0, tzinfo=dt.UTC)


def test_inbox_countdown_turns_red_at_the_breach(page: Page, live_url: str, acme: Cast) -> None:
    with time_machine.travel(OPENED, tick=True) as traveller:
        SlaPolicy.objects.create(workspace=acme.workspace, name="One minute", first_response_minutes=1)
        ticket = open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(requester=acme.customer, subject="Checkout is down", body_text="Nobody can pay."),
        )[0]
        sign_in(page, live_url, acme.agent)
        # Twenty seconds before the deadline (the live server runs in this process: its clock moved too).
        traveller.move_to(OPENED + dt.timedelta(seconds=40))
        page.goto(f"{live_url}/?view=all")
        row = page.locator(f'tr[data-ticket-number="{ticket.number}"]')
        badge = row.locator(".sla-badge")
        expect(badge).to_have_attribute("data-sla-due", re.compile(r"^2026-03-27T08:01:00[.0-9]*\+00:00$"))
        expect(badge).to_have_attribute("data-sla-state", "running")
        expect(badge).to_have_text(re.compile(r"^0:00:\d\d left$"))
        first_text = badge.inner_text()
        # It counts down without a reload...
        expect(badge).not_to_have_text(first_text, timeout=5_000)
        # ...and turns red once the deadline passes.
        expect(badge).to_have_attribute("data-sla-state", "breached", timeout=40_000)
        expect(badge).to_have_text(re.compile(r"^breached 0:00:\d\d ago$"))
        expect(badge).to_have_css("color", "rgb(180, 35, 24)")
        # The ticket without a policy clock (the cast's, opened before the policy existed) shows no badge.
        expect(page.locator(f'tr[data-ticket-number="{acme.ticket.number}"] .sla-badge')).to_have_count(0)
