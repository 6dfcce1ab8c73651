"""The deflection report in a real Chromium: an agent narrows it to one channel (the URL keeps it), follows a number
down to the sessions behind it, and from a session to the ticket, whose page says what the customer saw first."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from playwright.sync_api import Page

from deskloop.conftest import Cast
from deskloop.knowledge.models import RequestChannel, RequestOutcome, RequestSession
from deskloop.knowledge.services.articles import create_article
from deskloop.knowledge.services.request_sessions import (
    record_article_opened,
    record_submitted,
    record_suggestions_shown,
    start_request_session,
)
from deskloop.tickets.services.tickets import NewTicket, open_ticket
from e2e.conftest import expect, sign_in
from e2e.test_ticket_browser import _leave

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _customer_writes_anyway(cast: Cast) -> int:
    vat = create_article(
        actor=cast.agent, workspace=cast.workspace, locale="en", title="Change your VAT number", body_html="<p>x</p>"
    )
    session = start_request_session(
        workspace=cast.workspace, channel=RequestChannel.WIDGET, locale="en", contact=cast.customer
    )
    RequestSession.objects.filter(pk=session.pk).update(in_holdout=False)
    session.refresh_from_db()
    record_suggestions_shown(session=session, query="invoice has the old VAT number", article_ids=[vat.pk])
    record_article_opened(session=session, article=vat)
    with transaction.atomic():
        ticket = open_ticket(
            workspace=cast.workspace,
            ticket=NewTicket(requester=cast.customer, subject="Old VAT number again", body_text="Still wrong."),
        )[0]
        record_submitted(session=session, ticket=ticket)
    return ticket.number


def test_from_the_report_to_the_sessions_to_the_ticket(acme: Cast, live_url: str, page: Page) -> None:
    number = _customer_writes_anyway(acme)
    # A portal session that was deflected: the channel filter must leave it out.
    RequestSession.objects.create(
        workspace=acme.workspace, channel=RequestChannel.PORTAL, outcome=RequestOutcome.VERIFIED_DEFLECTION
    )
    sign_in(page, live_url, acme.viewer)
    page.goto(f"{live_url}/knowledge/deflection/")
    expect(page.get_by_role("heading", name="Deflection")).to_be_visible()
    page.get_by_label("Channel").select_option("widget")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(lambda url: "channel=widget" in url)
    suggestions = page.locator('tr[data-arm="suggestions"]')
    expect(suggestions).to_contain_text("Suggestions shown 1 1 0 1 0 0 0.0%")
    expect(page.get_by_role("region", name="Articles read that do not deflect")).to_contain_text(
        "Change your VAT number"
    )

    # The "wrote anyway" figure leads to the session and its steps.
    suggestions.get_by_role("cell").nth(3).get_by_role("link").click()
    page.wait_for_url(lambda url: "/knowledge/deflection/sessions/" in url and "outcome=wrote" in url)
    session = page.locator("li.session")
    expect(session).to_have_count(1)
    expect(session).to_contain_text("invoice has the old VAT number")
    expect(session).to_contain_text("Article opened: Change your VAT number")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [(row["channel"], row["outcome"], row["ticket_number"]) for row in rows] == [
        ("widget", "submitted", str(number))
    ]

    session.get_by_role("link", name=f"#{number}").click()
    page.wait_for_url(f"{live_url}/tickets/{number}/")
    panel = page.get_by_role("region", name="Before writing")
    expect(panel).to_contain_text("The customer saw: Change your VAT number opened")
    expect(panel).to_contain_text("Typed: “invoice has the old VAT number”")
    _leave(page, acme.viewer)
