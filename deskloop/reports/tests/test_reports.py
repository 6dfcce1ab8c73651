"""Each report's numbers on the fixed month of ``story`` (counted by hand there), and their links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from deskloop.conftest import Cast, signed_in_client
from deskloop.reports.pages import Section
from deskloop.reports.tests.story import NOW, RANGE, Story, build_story


@pytest.fixture
def story(acme: Cast) -> Iterator[Story]:
    with time_machine.travel(NOW, tick=False):
        yield build_story(acme)


def _sections(client: Any, path: str, **params: object) -> dict[str, Section]:
    response = client.get(path, {**RANGE, **params})
    assert response.status_code == 200, response.content
    return {section.key: section for section in response.context["sections"]}


def _texts(section: Section) -> list[list[str]]:
    return [[cell.text for cell in row] for row in section.table.rows]


def _drilled(client: Any, href: str) -> list[int]:
    response = client.get(href)
    assert response.status_code == 200
    return sorted(t.number for t in response.context["page"].object_list)


def test_volume_by_channel_per_week_with_links_to_the_tickets(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.admin)
    section = _sections(client, "/reports/volume/", dimension="channel", interval="week")["volume"]
    assert section.table.columns == ["Channel", "2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "Total"]
    assert _texts(section) == [
        ["Email", "1", "1", "1", "1", "4"],
        ["Web", "0", "1", "0", "0", "1"],
        ["Widget", "0", "0", "1", "0", "1"],
        ["All tickets", "1", "2", "2", "1", "6"],
    ]
    email_week = section.table.rows[0][3]
    assert _drilled(client, email_week.href) == story.numbers("t5")
    assert _drilled(client, section.table.rows[3][2].href) == story.numbers("t2", "t3")
    # The chart's bars link to the same tickets as the totals row.
    assert 'data-bar="2026-03-02"' in section.chart
    assert section.table.rows[3][2].href.replace("&", "&amp;") in section.chart


def test_volume_by_product_area_counts_sub_areas_in_their_top_area(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.admin)
    section = _sections(client, "/reports/volume/", dimension="product_area", interval="month")["volume"]
    assert _texts(section) == [["Billing", "3", "3"], ["Login", "1", "1"], ["All tickets", "6", "6"]]
    assert _drilled(client, section.table.rows[0][2].href) == story.numbers("t1", "t2", "t5")


def test_first_response_and_resolution_median_and_p90(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.viewer)
    sections = _sections(client, "/reports/times/", interval="month")
    first = sections["first_response"]
    # Business minutes 10, 30, 60, 90 and calendar 10, 30, 60, 120: nearest rank gives the 2nd and the 4th.
    assert _texts(first)[0] == ["Whole range", "4", "0.5 h", "1.5 h", "0.5 h", "2.0 h"]
    assert [c.value for c in first.table.rows[0][1:]] == [4, 30, 90, 30, 120]
    assert _drilled(client, first.table.rows[0][1].href) == story.numbers("t1", "t2", "t3", "t5")
    resolution = sections["resolution"]
    # Business 90, 300, 480; calendar 90, 600, 1440.
    assert [c.value for c in resolution.table.rows[0][1:]] == [3, 300, 480, 600, 1440]
    assert _drilled(client, resolution.table.rows[0][1].href) == story.numbers("t1", "t2", "t5")


def test_sla_achievement_per_metric_and_policy(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.owner)
    section = _sections(client, "/reports/sla/")["sla"]
    assert _texts(section) == [
        ["First response", "Standard", "3", "1", "1", "75.0%"],
        ["Resolution", "Standard", "2", "1", "1", "66.7%"],
    ]
    assert _drilled(client, section.table.rows[0][3].href) == story.numbers("t3")
    assert _drilled(client, section.table.rows[1][2].href) == story.numbers("t2", "t5")
    assert _drilled(client, section.table.rows[1][4].href) == story.numbers("t3")


def test_backlog_by_age_is_about_now(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.admin)
    with time_machine.travel(NOW, tick=False):
        sections = _sections(client, "/reports/backlog/")
        by_age = sections["backlog"]
        assert _texts(by_age) == [
            ["Under a day", "1"],
            ["1-3 days", "0"],
            ["3-7 days", "0"],
            ["7-30 days", "3"],
            ["Over 30 days", "0"],
            ["All open tickets", "4"],
        ]
        assert _drilled(client, by_age.table.rows[3][1].href) == story.numbers("t3", "t4", "t6")
        assert _texts(sections["backlog_status"]) == [["New", "2"], ["Open", "1"], ["Pending", "1"], ["On hold", "0"]]
        assert _drilled(client, sections["backlog_status"].table.rows[2][1].href) == story.numbers("t6")


def test_agent_performance(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.admin)
    section = _sections(client, "/reports/agents/")["agents"]
    assert _texts(section) == [
        ["Maria Agent", "3", "3", "4", "3", "0.5 h", "5.0 h", "33.3% (1/3)", "50.0% (1/2)", "85.0 (2)"],
        ["Boris Billing", "2", "0", "1", "1", "1.5 h", "—", "— (0/0)", "100.0% (1/1)", "—"],
    ]
    maria = section.table.rows[0]
    assert _drilled(client, maria[1].href) == story.numbers("t1", "t2", "t5")
    assert _drilled(client, maria[3].href) == story.numbers("t1", "t2", "t5")
    assert _drilled(client, maria[7].href) == story.numbers("t1")
    assert _drilled(client, maria[8].href) == story.numbers("t5")
    # Quality: the conversations of the reviews written in the range (T8's review is from February).
    assert _drilled(client, maria[9].href) == story.numbers("t1", "t2")


def test_top_problems_by_product_area_against_the_period_before(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.admin)
    section = _sections(client, "/reports/problems/")["problems"]
    assert _texts(section) == [
        ["Billing", "3", "1", "+2", "refund (2), vat (2)"],
        ["Billing > Invoices", "2", "1", "+1", "refund (1), vat (1)"],
        ["Login", "1", "0", "+1", ""],
    ]
    # The previous period is the 20 days before 1 March: T8 (15 February).
    assert _drilled(client, section.table.rows[0][2].href) == story.numbers("t8")
    assert _drilled(client, section.table.rows[0][4].href) == story.numbers("t2", "t5")


@pytest.mark.parametrize("path", ["/reports/", "/reports/volume/", "/reports/agents/"])
def test_bad_report_urls_are_400_with_the_message(acme: Cast, path: str) -> None:
    response = signed_in_client(acme.admin).get(path, {"until": "yesterday"})
    assert response.status_code == 400
    assert response.context["error"] == "Give the date as YYYY-MM-DD."
    wrong = signed_in_client(acme.admin).get("/reports/volume/", {"dimension": "mood"})
    assert (wrong.status_code, wrong.context["error"]) == (400, "Unknown dimension: mood.")


def test_the_menu_shows_reports_to_managers_only(acme: Cast) -> None:
    assert b'href="/reports/"' in signed_in_client(acme.viewer).get("/").content
    assert b'href="/reports/"' not in signed_in_client(acme.agent).get("/").content
    assert signed_in_client(acme.agent).get("/reports/volume/").status_code == 403
