"""Spam in a real Chromium: mail the filter suspects waits in the Spam view with its reason, and "Not spam" brings it
back to the inbox in one click and teaches the filter."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from deskloop.channels.email.models import SpamLesson
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.channels.email.tests.corpus import real
from deskloop.conftest import Cast
from deskloop.tickets.models import Ticket
from e2e.conftest import expect, sign_in
from e2e.test_ticket_browser import _leave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFINANCE_SPAM = "mikel-mail/spec/fixtures/emails/error_emails/content_transfer_encoding_text-html.eml"


def test_a_suspected_spam_is_rescued_from_the_spam_view_with_one_click(acme: Cast, live_url: str, page: Page) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    number = ingest_raw(mailbox=mailbox, raw=real(REFINANCE_SPAM), via="imap").ticket_number
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/?view=spam")
    row = page.locator(f'[data-ticket-number="{number}"]')
    expect(row).to_contain_text("We will help you refinance your home.")
    row.get_by_role("link").first.click()
    page.wait_for_url(f"{live_url}/tickets/{number}/")
    expect(page.locator("[data-spam-reason]")).to_contain_text("This ticket is in Spam because the spam filter's score")
    page.get_by_role("button", name="Not spam (undo)").click()
    expect(page.locator("[data-spam-banner]")).to_have_count(0)
    page.goto(f"{live_url}/?view=all")
    expect(page.locator(f'[data-ticket-number="{number}"]')).to_have_count(1)
    assert Ticket.objects.get(workspace=acme.workspace, number=number).is_spam is False
    assert SpamLesson.objects.get(ticket__number=number, workspace=acme.workspace).is_spam is False
    _leave(page, acme.agent)
