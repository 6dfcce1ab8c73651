"""Customers' voice in a real Chromium: a customer votes and posts from the widget's Ideas tab inside a host
application with a strict Content-Security-Policy; an agent votes for a customer from the ticket page; a customer
signs in to the portal by the mailed link and votes on the public board with JavaScript turned off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from deskloop.channels.widget.tests.conftest import ACME_SECRET, signed_claims
from deskloop.conftest import Cast
from deskloop.ideas.models import Idea, IdeaBoard, IdeaTicket, IdeaVote, Importance, VoteSource
from deskloop.ideas.services.ideas import create_idea
from deskloop.ideas.services.votes import Voter, cast_vote
from e2e.conftest import expect, open_page, sign_in
from e2e.test_portal_browser import portal_sign_in
from e2e.test_widget_browser import _open_host, _violations, help_center, host_url  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ideas(cast: Cast) -> dict[str, Idea]:
    export = create_idea(workspace=cast.workspace, title="Export invoices as CSV", author_agent=cast.agent)
    dark = create_idea(workspace=cast.workspace, title="Dark mode", author_agent=cast.agent)
    cast_vote(idea=dark, voter=Voter(contact=cast.customer), source=VoteSource.PORTAL)
    return {"export": export, "dark": dark}


def test_a_customer_votes_and_posts_from_the_widget(help_center: Cast, host_url: str, page: Page) -> None:  # noqa: F811
    acme = help_center
    ideas = _ideas(acme)
    console, panel = _open_host(page, host_url)
    claims = signed_claims("acme", ACME_SECRET, user_id="c-9", email="nia@startup.example", name="Nia")
    page.evaluate("claims => { window.Deskloop('identify', claims); window.Deskloop('open'); }", claims)
    expect(panel.locator("body")).to_have_attribute("data-identified", "Nia")
    panel.get_by_role("tab", name="Ideas").click()
    rows = panel.locator(".w-ideas-list li")
    expect(rows.first).to_contain_text("Dark mode")
    expect(rows.nth(1)).to_contain_text("Export invoices as CSV")

    panel.get_by_role("button", name="Vote for Export invoices as CSV").click()
    expect(panel.get_by_role("status")).to_have_text("Your vote is counted.")
    expect(panel.get_by_role("button", name="Take back my vote for Export invoices as CSV")).to_be_visible()
    vote = IdeaVote.objects.get(idea=ideas["export"])
    assert (vote.source, vote.contact.primary_email) == (VoteSource.WIDGET, "nia@startup.example")

    panel.get_by_label("Your idea in a few words").fill("Pay invoices by SEPA")
    panel.get_by_role("button", name="Post idea").click()
    expect(panel.get_by_role("status")).to_contain_text("“Pay invoices by SEPA” is on the board, with your vote.")
    posted = Idea.objects.get(title="Pay invoices by SEPA")
    assert (posted.author_contact_id, posted.vote_count) == (vote.contact_id, 1)
    assert _violations(page) == []
    assert console == []


def test_an_agent_votes_for_the_customer_from_the_ticket(acme: Cast, live_url: str, page: Page) -> None:
    ideas = _ideas(acme)
    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/tickets/{acme.ticket.number}/")
    panel = page.locator("#ticket-ideas")
    expect(panel).to_contain_text("No idea is linked to this ticket.")
    panel.get_by_text("Vote for this customer").click()
    panel.get_by_label("Find an idea").fill("export")
    panel.get_by_label("Export invoices as CSV").check()
    panel.get_by_label("Importance").select_option(label="Critical")
    expect(panel.get_by_label("Customer")).to_have_value(str(acme.customer.pk))
    panel.get_by_role("button", name="Record the vote").click()

    expect(page.locator("#ticket-ideas [role=status]")).to_have_text(
        "Vote recorded for Carmen Customer on “Export invoices as CSV”."
    )
    expect(page.locator(f'#ticket-ideas [data-linked-idea="{ideas["export"].pk}"]')).to_contain_text("Under review")
    vote = IdeaVote.objects.get(idea=ideas["export"])
    assert (vote.contact_id, vote.source, vote.importance, vote.ticket_id, vote.cast_by_id) == (
        acme.customer.pk,
        VoteSource.AGENT,
        Importance.CRITICAL,
        acme.ticket.pk,
        acme.agent.pk,
    )
    assert IdeaTicket.objects.filter(idea=ideas["export"], ticket=acme.ticket).exists()


def test_a_customer_votes_on_the_public_board_without_javascript(acme: Cast, live_url: str, browser: Browser) -> None:
    ideas = _ideas(acme)
    IdeaBoard.objects.update_or_create(workspace=acme.workspace, defaults={"is_public": True})
    with open_page(browser, java_script_enabled=False) as page:
        page.goto(f"{live_url}/board/acme/")
        expect(page.get_by_role("link", name="Export invoices as CSV")).to_be_visible()
        expect(page.get_by_role("link", name="Sign in to vote").first).to_be_visible()
        portal_sign_in(page, live_url, "ivan@globex-acme.example")
        page.get_by_role("link", name="Ideas").click()
        page.get_by_label("How important is it to you?").nth(1).select_option(label="Important")
        page.get_by_role("button", name="Vote for Export invoices as CSV").click()
        expect(page.get_by_role("status")).to_contain_text("Your vote is counted.")
        expect(page.locator(f'[data-idea="{ideas["export"].pk}"]')).to_contain_text("You voted")
    vote = IdeaVote.objects.get(idea=ideas["export"])
    assert (vote.source, vote.importance, vote.contact.primary_email) == (
        VoteSource.BOARD,
        Importance.IMPORTANT,
        "ivan@globex-acme.example",
    )
