"""The tickets behind a report's number (/reports/tickets/) and their CSV export, read from the URL's filters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
import time_machine

from deskloop.conftest import Cast, signed_in_client
from deskloop.reports.tests.story import NOW, RANGE, Story, build_story


@pytest.fixture
def story(acme: Cast) -> Iterator[Story]:
    with time_machine.travel(NOW, tick=False):
        yield build_story(acme)


def _numbers(response: object) -> list[int]:
    page = response.context["page"]  # type: ignore[attr-defined]
    return sorted(ticket.number for ticket in page.object_list)


def _csv(response: object) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body)))


def test_the_range_is_of_local_dates_and_leaves_out_spam_and_other_workspaces(
    acme: Cast, umbrella: Cast, story: Story
) -> None:
    client = signed_in_client(acme.admin)
    response = client.get("/reports/tickets/", RANGE)
    assert response.status_code == 200
    # T1 was created on 28 February in UTC, 1 March in Madrid: it is in; T6 and T8 are older, T7 is spam.
    assert _numbers(response) == story.numbers("t1", "t2", "t3", "t4", "t5", "base")
    assert response.context["page"].paginator.count == 6
    # From the 2nd (Madrid), T1 is out.
    assert _numbers(client.get("/reports/tickets/", {**RANGE, "since": "2026-03-02"})) == story.numbers(
        "t2", "t3", "t4", "t5", "base"
    )


def test_filters_and_drill_parameters_narrow_the_list(acme: Cast, story: Story) -> None:
    client = signed_in_client(acme.viewer)

    def numbers(**params: object) -> list[int]:
        response = client.get("/reports/tickets/", {**RANGE, **params})
        assert response.status_code == 200, response.content
        return _numbers(response)

    # A product area includes its sub-areas.
    assert numbers(product_area=story.billing.pk) == story.numbers("t1", "t2", "t5")
    assert numbers(product_area=story.invoices.pk) == story.numbers("t1", "t5")
    assert numbers(tag=story.t2.tags.get(name="vat").pk) == story.numbers("t1", "t2")
    assert numbers(channel="web") == story.numbers("t3")
    assert numbers(agent=acme.other_team_agent.pk) == story.numbers("t3", "t4")
    assert numbers(request_type="problem") == story.numbers("t1", "t5")
    assert numbers(metric="solved") == story.numbers("t1", "t2", "t5")
    assert numbers(metric="reopened") == story.numbers("t1")
    assert numbers(metric="unanswered") == story.numbers("t4", "base")
    # Week buckets start on Monday: T1 (Sunday 1 March) is in the week of 23 February, cut by the range.
    assert numbers(interval="week", bucket="2026-02-23") == story.numbers("t1")
    assert numbers(interval="week", bucket="2026-03-09", channel="email") == story.numbers("t5")
    # The backlog is about now: the range does not limit it (T6 is from February).
    assert numbers(metric="backlog") == story.numbers("t3", "t4", "t6", "base")
    assert numbers(metric="backlog", age="7-30d") == story.numbers("t3", "t4", "t6")
    assert numbers(metric="backlog", age="0-1d") == story.numbers("base")
    assert numbers(metric="sla", sla_metric="first_response", sla_outcome="breached") == story.numbers("t3")
    assert numbers(metric="sla", sla_metric="resolution", sla_outcome="achieved", policy=story.policy.pk) == (
        story.numbers("t2", "t5")
    )
    assert numbers(metric="replied", replied_by=acme.agent.pk) == story.numbers("t1", "t2", "t5")
    assert numbers(metric="replied", replied_by=acme.other_team_agent.pk) == story.numbers("t3")
    assert numbers(metric="csat_good") == story.numbers("t2", "t3")
    assert numbers(metric="csat_bad", agent=acme.agent.pk) == story.numbers("t5")


def test_the_csv_has_one_row_per_ticket_and_defuses_formulas(acme: Cast, story: Story) -> None:
    response = signed_in_client(acme.owner).get("/reports/tickets.csv", {**RANGE, "product_area": story.billing.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="tickets-2026-03-20.csv"'
    rows = _csv(response)
    assert [row["number"] for row in rows] == [str(n) for n in (story.t5.number, story.t2.number, story.t1.number)]
    t2 = rows[1]
    assert t2["subject"] == '\'=HYPERLINK("http://evil.example","Refund") please'
    assert t2["tags"] == "refund | vat"
    assert t2["product_area"] == "Billing"
    assert t2["assignee"] == "Maria Agent"
    assert t2["status_category"] == "solved"
    assert t2["first_response_business_minutes"] == "30"
    assert t2["resolution_business_minutes"] == "480"
    assert t2["created_at"] == "2026-03-02T09:00:00+00:00"
    assert rows[2]["reopen_count"] == "1"
    assert rows[0]["product_area"] == "Billing > Invoices"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-13-01"}, "Give the date as YYYY-MM-DD."),
        ({"since": "2026-03-10", "until": "2026-03-01"}, "The start date is after the end date."),
        ({"since": "2024-01-01", "until": "2026-03-01"}, "Choose a range of at most 400 days."),
        ({"channel": "fax"}, "Unknown channel: fax."),
        ({"team": "abc"}, "team must be a number."),
        ({"metric": "happiness"}, "Unknown metric: happiness."),
        ({"interval": "week", "bucket": "2026-03-04"}, "The bucket does not start a week."),
        ({"age": "ancient"}, "Unknown age: ancient."),
    ],
)
def test_bad_values_are_refused_with_a_400_and_their_message(acme: Cast, params: dict[str, str], message: str) -> None:
    client = signed_in_client(acme.admin)
    page = client.get("/reports/tickets/", params)
    assert page.status_code == 400
    assert page.context["error"] == message
    export = client.get("/reports/tickets.csv", params)
    assert (export.status_code, export.content.decode()) == (400, message)


def test_another_workspaces_ids_are_refused_like_unknown_ones(acme: Cast, umbrella: Cast) -> None:
    client = signed_in_client(acme.admin)
    for name, pk in (
        ("team", umbrella.support.pk),
        ("agent", umbrella.agent.pk),
        ("organization", umbrella.organization.pk),
    ):
        response = client.get("/reports/tickets/", {name: pk})
        assert response.status_code == 400
        assert response.context["error"] == f"No such {name} in this workspace."


def test_agents_may_not_read_reports(acme: Cast) -> None:
    for agent in (acme.agent, acme.light_agent):
        assert signed_in_client(agent).get("/reports/tickets/").status_code == 403
        assert signed_in_client(agent).get("/reports/tickets.csv").status_code == 403
