"""The customer portal in a real Chromium: a customer signs in with the link read from the outgoing mail, types a
request, sees the articles suggested as they type, opens one and says it solved the problem; another customer
submits anyway and the agent finds the ticket; the form also works without JavaScript and on a phone."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page

from deskloop.conftest import Cast
from deskloop.customers.services import find_or_create_contact
from deskloop.knowledge.models import HelpCenter, RequestEventKind, RequestOutcome, RequestSession
from deskloop.knowledge.services.articles import create_article
from deskloop.knowledge.suggestions import suggest_articles
from deskloop.tickets.models import Ticket
from e2e.conftest import PHONE, expect, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Suggestions come after a pause in typing and a ranking on the server: on a loaded 2-core machine that can take
# longer than expect()'s default 5 s (a wait, not a speed claim: speed is measured in bench/).
SUGGESTIONS_WAIT_MS = 20_000
LINK = re.compile(r"https?://\S+?(/portal/[\w-]+/signin/[\w-]+/)")


def _help_center(cast: Cast) -> None:
    # No holdout, so every session of the test is shown suggestions (the holdout has its own tests).
    HelpCenter.objects.create(workspace=cast.workspace, holdout_percent=0)
    for title, body in (
        (
            "Export your tickets to a CSV file",
            "Open Reports, choose Export, pick CSV and the date range; the CSV file is emailed to you.",
        ),
        ("Change your invoice address", "Owners change the billing address and VAT number under Settings > Billing."),
        ("Set up two-factor authentication", "Open your profile, choose Security and scan the QR code."),
    ):
        create_article(
            actor=cast.admin,
            workspace=cast.workspace,
            locale="en",
            title=title,
            body_html=f"<p>{body}</p>",
            publish=True,
        )
    # The first ranking of a workspace loads the model and builds its index; done here, so the browser's first
    # suggestion is not the one that waits for it on a busy machine.
    suggest_articles(workspace_id=cast.workspace.pk, query="export tickets to CSV", locale="en")


def portal_sign_in(page: Page, live_url: str, email: str) -> None:
    """Ask for a link on the portal's sign-in page, read it from the mail that went out, and follow it."""
    page.goto(f"{live_url}/portal/acme/")
    expect(page.get_by_role("heading", name="Sign in to see your requests")).to_be_visible()
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    sent = [message for message in mail.outbox if email in message.to]
    assert len(sent) == 1
    found = LINK.search(sent[0].body)
    assert found is not None, sent[0].body
    page.goto(live_url + found.group(1))
    page.get_by_role("button", name="Continue to Acme support").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()


def test_a_customer_is_answered_by_a_suggested_article(page: Page, live_url: str, acme: Cast) -> None:
    _help_center(acme)
    portal_sign_in(page, live_url, "carmen@globex-acme.example")
    expect(page.get_by_role("link", name="#1 Invoice shows the wrong VAT number")).to_be_visible()
    page.get_by_role("link", name="New request", exact=True).first.click()
    page.get_by_label("Subject").fill("Export")
    page.get_by_label("Description").press_sequentially("How do I export my tickets to a CSV file?", delay=10)
    suggestion = page.get_by_role("link", name="Export your tickets to a CSV file")
    expect(suggestion).to_be_visible(timeout=SUGGESTIONS_WAIT_MS)
    with page.expect_popup() as opened:
        suggestion.click()
    article = opened.value
    expect(article.get_by_role("heading", name="Export your tickets to a CSV file")).to_be_visible()
    article.get_by_role("button", name="This solved my problem").click()
    expect(article.get_by_role("heading", name="Glad it helped")).to_be_visible()

    session = RequestSession.objects.get(contact=acme.customer)
    assert session.outcome == RequestOutcome.SOLVED_BY_ARTICLE
    kinds = list(session.events.values_list("kind", flat=True))
    assert kinds[-2:] == [RequestEventKind.ARTICLE_OPENED, RequestEventKind.SOLVED]
    assert RequestEventKind.SUGGESTIONS_SHOWN in kinds
    assert Ticket.objects.filter(workspace=acme.workspace).count() == 1  # no new ticket


def test_another_customer_submits_anyway_and_the_agent_sees_the_ticket(
    browser: Browser, page: Page, live_url: str, acme: Cast
) -> None:
    _help_center(acme)
    find_or_create_contact(workspace=acme.workspace, email="gus@globex-acme.example", name="Gus")
    portal_sign_in(page, live_url, "gus@globex-acme.example")
    page.get_by_role("link", name="New request", exact=True).first.click()
    page.get_by_label("Subject").fill("CSV export is empty")
    page.get_by_label("Description").press_sequentially("The CSV export file has no rows since Monday.", delay=10)
    expect(page.get_by_role("link", name="Export your tickets to a CSV file")).to_be_visible(
        timeout=SUGGESTIONS_WAIT_MS
    )
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    ticket = Ticket.objects.get(subject="CSV export is empty")
    session = RequestSession.objects.get(contact__emails__email="gus@globex-acme.example")
    assert (session.outcome, session.ticket_id) == (RequestOutcome.SUBMITTED, ticket.pk)
    shown = session.events.filter(kind=RequestEventKind.SUGGESTIONS_SHOWN).exclude(suggested_article_ids=[])
    assert shown.exists()
    with open_page(browser) as agent_page:
        sign_in(agent_page, live_url, acme.agent)
        agent_page.goto(f"{live_url}/tickets/{ticket.number}/")
        expect(agent_page.get_by_role("heading", name="CSV export is empty")).to_be_visible()
        expect(agent_page.get_by_text("The CSV export file has no rows since Monday.", exact=True)).to_be_visible()
        # The "Before writing" panel: the suggestion the customer saw before submitting anyway.
        panel = agent_page.locator("[data-request-sessions]")
        expect(panel.get_by_text("Export your tickets to a CSV file")).to_be_visible()


def test_the_request_form_works_without_javascript_and_on_a_phone(
    browser: Browser, live_server: object, live_url: str, acme: Cast
) -> None:
    with open_page(browser, java_script_enabled=False, viewport=PHONE) as page:
        portal_sign_in(page, live_url, "carmen@globex-acme.example")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        page.get_by_role("link", name="New request", exact=True).first.click()
        page.get_by_label("Subject").fill("Printer offline")
        page.get_by_label("Description").fill("The label printer says offline.")
        page.get_by_role("button", name="Send request").click()
        expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert Ticket.objects.filter(subject="Printer offline", requester=acme.customer, channel="web").count() == 1
