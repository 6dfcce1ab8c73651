"""The agents' knowledge base in a real Chromium: write an article with an image, publish it, edit it, restore
revision 1; then find it from a ticket's reply composer and insert its link into the reply."""

from __future__ import annotations

import re
import time

import pytest
from django.db import OperationalError
from playwright.sync_api import Page

from deskloop.conftest import Cast
from deskloop.knowledge.models import Article, ArticleState
from deskloop.tickets.models import TicketPresence
from e2e.conftest import expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def _leave_ticket(page: Page, cast: Cast) -> None:
    """Close the ticket page and let its "left the ticket" beacon land before the database is flushed."""
    page.goto("about:blank")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if not TicketPresence.objects.filter(agent=cast.agent).exists():
                break
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
        time.sleep(0.05)
    time.sleep(0.1)


def test_an_agent_writes_publishes_edits_and_restores_an_article_then_links_it_from_a_reply(
    acme: Cast, live_url: str, page: Page
) -> None:
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/knowledge/")
    page.get_by_role("link", name="New article").click()
    page.get_by_label("Title").fill("Change the VAT number on invoices")
    page.get_by_label("Body (HTML)").fill("<p>Open Billing and edit the VAT number.</p>")
    expect(page.locator("[data-editor-preview]")).to_contain_text("Open Billing and edit the VAT number.")
    page.get_by_role("button", name="Save article").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the VAT number on invoices")
    article = Article.objects.get(workspace=acme.workspace)

    # An image, uploaded and put into the text where the cursor is.
    body = page.get_by_label("Body (HTML)")
    body.click()
    body.press("End")
    page.get_by_label("Image", exact=True).set_input_files(
        files=[{"name": "billing.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Upload and insert").click()
    expect(body).to_have_value(re.compile(r'<img src="/knowledge/images/[0-9a-f-]+/" alt="billing.png">$'))
    expect(page.locator('[data-editor-preview] img[alt="billing.png"]')).to_have_count(1)
    page.get_by_label("State").select_option("published")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("[data-public-url]")).to_contain_text(f"/help/acme/en/articles/{article.pk}-")
    image = page.locator('[data-editor-preview] img[alt="billing.png"]')
    page.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=image.element_handle())
    translation = article.translations.get()
    assert translation.state == ArticleState.PUBLISHED
    assert 'alt="billing.png"' in translation.body_html

    # An edit, then revision 1 back.
    page.get_by_label("Body (HTML)").fill("<p>Write to billing@acme.example instead.</p>")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Body (HTML)")).to_have_value("<p>Write to billing@acme.example instead.</p>")
    page.get_by_role("link", name="Revision history").click()
    expect(page.locator("[data-revision]")).to_have_count(3)
    page.get_by_role("link", name="Compare 1 with the current text").click()
    expect(page.locator('[data-diff="removed"]').first).to_contain_text("Open Billing and edit the VAT number.")
    expect(page.locator('[data-diff="added"]')).to_contain_text(["Write to billing@acme.example instead."])
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.get_by_label("Body (HTML)")).to_have_value("<p>Open Billing and edit the VAT number.</p>")
    translation.refresh_from_db()
    assert translation.body_html == "<p>Open Billing and edit the VAT number.</p>"
    assert translation.revisions.order_by("-number").first().note == "restored from 1"  # type: ignore[union-attr]

    # From a ticket's composer: find it and insert its link into the reply.
    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    page.get_by_text("Insert an article").click()
    page.get_by_label("Search the knowledge base").fill("VAT number")
    hit = page.locator(f'[data-found-article="{article.pk}"]')
    expect(hit).to_contain_text("Change the VAT number on invoices")
    page.locator("#composer-body").fill("Hello Carmen, this explains it:")
    hit.get_by_role("button", name="Insert link").click()
    url = f"/help/acme/en/articles/{article.pk}-change-the-vat-number-on-invoices/"
    expect(page.locator("#composer-body")).to_have_value(
        re.compile(
            r"^Hello Carmen, this explains it:\nChange the VAT number on invoices: http\S+" + re.escape(url) + "$"
        )
    )
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#conversation")).to_contain_text(url)
    _leave_ticket(page, acme)
