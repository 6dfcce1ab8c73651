"""The manager's reports in a real Chromium: a viewer (the manager's read-only seat) opens the volume report for a
bookmarked range, clicks a bar of the chart, lands on the tickets behind it and exports them as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page

from deskloop.conftest import Cast
from deskloop.reports.tests.story import RANGE, build_story
from e2e.conftest import expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_a_bar_of_the_chart_to_the_tickets_and_their_csv(acme: Cast, live_url: str, page: Page) -> None:
    story = build_story(acme)
    sign_in(page, live_url, acme.viewer)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(lambda url: url.endswith("/reports/"))
    page.goto(f"{live_url}/reports/volume/?since={RANGE['since']}&until={RANGE['until']}&interval=week")
    expect(page.get_by_role("heading", name="Tickets by channel")).to_be_visible()
    table = page.locator('section[data-section="volume"] table')
    totals = table.locator("tbody tr").last
    expect(totals.get_by_role("rowheader")).to_have_text("All tickets")
    expect(totals.get_by_role("cell")).to_have_text(["1", "2", "2", "1", "6"])

    # The week of 2 March: T2 (email) and T3 (web).
    page.locator('svg a[data-bar="2026-03-02"]').click()
    page.wait_for_url(lambda url: "/reports/tickets/" in url and "bucket=2026-03-02" in url)
    rows = page.locator("tr[data-ticket]")
    expect(rows).to_have_count(2)
    expect(page.locator("[data-count]")).to_have_attribute("data-count", "2")
    assert sorted(int(n) for n in rows.evaluate_all("rows => rows.map(r => r.dataset.ticket)")) == story.numbers(
        "t2", "t3"
    )

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [(row["number"], row["channel"], row["assignee"]) for row in exported] == [
        (str(story.t3.number), "web", "Boris Billing"),
        (str(story.t2.number), "email", "Maria Agent"),
    ]
    assert exported[1]["subject"].startswith("'=HYPERLINK")
