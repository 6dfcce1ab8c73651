"""A reviewer scores a conversation from the weekly sample, and the agent sees it under "My reviews"."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Browser, Page

from deskloop.conftest import Cast
from deskloop.quality.models import Review
from deskloop.quality.sampling import last_complete_week
from deskloop.quality.tests.stories import UTC, scorecard_with_criteria, solved_conversation

from .conftest import expect, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_scores_a_sampled_conversation_and_the_agent_sees_it(
    page: Page, browser: Browser, live_url: str, acme: Cast
) -> None:
    scorecard_with_criteria(acme, sample_size=1)
    wednesday = dt.datetime.combine(last_complete_week(acme.workspace) + dt.timedelta(days=2), dt.time(10), UTC)
    ticket = solved_conversation(
        acme, acme.agent, replied_at=wednesday, solved_at=wednesday + dt.timedelta(hours=2), subject="Refund missing"
    )

    sign_in(page, live_url, acme.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quality").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.get_by_role("button", name="Draw this week's sample").click()
    expect(page.get_by_text("1 conversation proposed.")).to_be_visible()
    row = page.locator(f'[data-proposed-ticket="{ticket.number}"]')
    expect(row).to_contain_text("Maria Agent")
    row.get_by_role("link", name="Review").click()

    panel = page.locator("#quality-review")
    expect(panel.get_by_role("heading", name="Review this conversation")).to_be_visible()
    panel.get_by_label("Agent reviewed").select_option(label="Maria Agent")
    panel.get_by_label("Empathy").select_option(label="4 – Excellent")
    panel.get_by_label("Correctness").select_option(label="2 – Fair")
    panel.get_by_label("Tone").select_option(label="Not applicable")
    panel.get_by_label("Comment for the agent").fill("Warm, but the refund steps were out of date.")
    panel.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review saved.")).to_be_visible()
    expect(page.locator("#quality-review [data-review-score]")).to_have_text("63%")
    assert list(Review.objects.values_list("agent_id", "score")) == [(acme.agent.pk, 63)]

    page.goto(f"{live_url}/quality/")
    expect(row.locator("td").nth(3)).to_contain_text("63%")

    with open_page(browser) as agent_page:
        sign_in(agent_page, live_url, acme.agent)
        agent_page.get_by_role("navigation", name="Main").get_by_role("link", name="Quality").click()
        expect(agent_page.get_by_role("heading", name="My reviews")).to_be_visible()
        review = agent_page.locator("#my-reviews [data-my-review]")
        expect(review).to_have_count(1)
        expect(review).to_contain_text("Refund missing")
        expect(review.locator("[data-review-score]")).to_have_text("63%")
        expect(review).to_contain_text("Warm, but the refund steps were out of date.")
        expect(review.get_by_role("row", name="Correctness")).to_contain_text("2 / 4")
