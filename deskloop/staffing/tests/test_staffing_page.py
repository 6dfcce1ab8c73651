"""A manager plans next month's staffing from the workspace's own tickets: /staffing/ and its API.

The history is hand-checkable: for six weeks and two days, every weekday 3 email tickets at 09:00 and 1 at 10:00 Berlin time
(08:00 and 09:00 UTC in winter). The forecast is then exactly 3 and 1, its error on the last 4 weeks 0%, and with an
8-minute handle time and a 4-hour target the work of 09:00 (3 x 8 = 24 minutes) spreads over 09:00-12:59: a fraction
of one agent, one scheduled, in hours 09-13 of each weekday, none at night or at the weekend.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client

from deskloop.conftest import Cast, api_client, problem_body, signed_in_client
from deskloop.service_levels.models import SlaPolicy
from deskloop.tickets.services.tickets import NewTicket, open_ticket

NOW = dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC)  # a Wednesday, 13:00 in Berlin
WRITERS = 4  # the cast's owner, admin and two agents: no calendars yet, so always on shift


@pytest.fixture
def history(acme: Cast) -> Iterator[Cast]:
    acme.workspace.time_zone = "Europe/Berlin"
    acme.workspace.save(update_fields=["time_zone"])
    first_monday = dt.date(2026, 1, 26)
    for day in range(44):  # up to Tuesday 10 March, the day before "now"
        date = first_monday + dt.timedelta(days=day)
        if date.weekday() >= 5:
            continue
        for utc_hour, count in ((8, 3), (9, 1)):
            for index in range(count):
                _ticket(acme, dt.datetime.combine(date, dt.time(utc_hour, 10 * index), tzinfo=dt.UTC), "email")
    with time_machine.travel(NOW, tick=False):
        yield acme


def _ticket(cast: Cast, at: dt.datetime, channel: str) -> None:
    open_ticket(
        workspace=cast.workspace,
        ticket=NewTicket(requester=cast.customer, subject="Where is my order?", channel=channel, created_at=at),
    )


def _cells(html: str) -> dict[tuple[int, int], str]:
    found = re.findall(r'<td data-weekday="(\d)" data-hour="(\d+)"[^>]*>([^<]*)</td>', html)
    return {(int(weekday), int(hour)): text for weekday, hour, text in found}


def test_admin_sees_agents_needed_per_hour_of_the_week_next_to_the_roster(history: Cast) -> None:
    response = signed_in_client(history.admin).get("/staffing/")
    assert response.status_code == 200
    html = response.content.decode()
    cells = _cells(html)
    assert len(cells) == 168
    for weekday in range(5):
        for hour in range(24):
            needed = 1 if 9 <= hour <= 13 else 0
            assert cells[(weekday, hour)] == f"{needed}/{WRITERS}", (weekday, hour)
    assert cells[(5, 9)] == f"0/{WRITERS}"
    assert 'title="3.0 tickets forecast"' in html
    assert "MAPE 0.0 % per hour, over the 40 hours that had tickets" in html  # 20 weekdays x 2 hours
    assert "0 hours of the week have fewer agents on the roster than needed." in html
    assert '<a href="/staffing/" aria-current="page">Staffing</a>' in html


def test_inputs_in_the_url_and_the_sla_target_change_the_plan(history: Cast) -> None:
    client = signed_in_client(history.owner)
    # 30-minute tickets: 09:00 brings 1.5 agent-hours of work; within 4 hours that is 0.375 agents, 1 scheduled.
    assert _cells(client.get("/staffing/?handle_minutes=30").content.decode())[(0, 9)] == f"1/{WRITERS}"
    # The SLA policy promises a first response within the hour: the same work must be done in its own hour,
    # 1.5 agents on tickets, 1.5 / (1 - 30% shrinkage) = 2.14, so 3 scheduled.
    SlaPolicy.objects.create(workspace=history.workspace, name="Standard", first_response_minutes=60)
    html = client.get("/staffing/?handle_minutes=30").content.decode()
    assert 'name="target_minutes" min="0.1" max="10080" step="0.1" value="60.0"' in html
    assert _cells(html)[(0, 9)] == f"3/{WRITERS}"
    assert _cells(client.get("/staffing/?handle_minutes=30&shrinkage=0").content.decode())[(0, 9)] == f"2/{WRITERS}"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("channel=fax", "The channel must be email or live."),
        ("shrinkage=95", "Shrinkage must be from 0 to 90 %."),
        ("weeks=two", "Weeks ahead must be a whole number from 1 to 8."),
        ("handle_minutes=0", "Handle time must be from 0.1 to 480 minutes."),
    ],
)
def test_bad_inputs_are_refused_with_the_reason(acme: Cast, query: str, message: str) -> None:
    response = signed_in_client(acme.admin).get(f"/staffing/?{query}")
    assert response.status_code == 422
    assert response.content.decode() == message


@pytest.mark.parametrize("role", ["agent", "light_agent", "viewer"])
def test_only_admins_and_owners_plan_staffing(acme: Cast, role: str) -> None:
    agent = getattr(acme, role)
    client = signed_in_client(agent)
    assert client.get("/staffing/").status_code == 403
    assert 'href="/staffing/"' not in client.get("/").content.decode()
    assert api_client(agent).get("/api/v1/staffing/forecast").status_code == 403


def test_api_sizes_live_chat_by_erlang_c(history: Cast) -> None:
    for day in (dt.date(2026, 3, 2), dt.date(2026, 3, 9)):  # two Mondays of chats: 3 at 09:00 Berlin
        for index in range(3):
            _ticket(history, dt.datetime.combine(day, dt.time(8, 5 * index), tzinfo=dt.UTC), "widget")
    response = api_client(history.admin).get("/api/v1/staffing/forecast?channel=live&weeks=2")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["time_zone"] == "Europe/Berlin"
    assert body["start"] == "2026-03-12"
    assert body["inputs"] == {
        "channel": "live",
        "weeks": 2,
        "handle_minutes": 6.0,
        "target_minutes": 1.0,
        "service_level": 80.0,
        "shrinkage": 30.0,
        "occupancy": 85.0,
    }
    monday_nine = body["hours"][9]
    assert (monday_nine["weekday"], monday_nine["hour"], monday_nine["forecast"]) == (0, 9, 3.0)
    # 3 chats an hour x 6 minutes = 0.3 erlangs. One agent answers 73% within a minute (1 - 0.3 e^-0.117), two
    # answer 97%: 2 on chats, 2 / 0.7 = 2.9, 3 scheduled.
    assert monday_nine["agents_needed"] == 3
    assert monday_nine["roster"] == WRITERS
    assert body["hours"][10]["agents_needed"] == 0
    assert body["accuracy"] is None  # two weeks of chats: not enough to hold four back


def test_api_refuses_bad_inputs_with_a_problem(acme: Cast) -> None:
    response = api_client(acme.admin).get("/api/v1/staffing/forecast?occupancy=5")
    assert response.status_code == 422
    assert problem_body(response)["detail"] == "The occupancy cap must be from 10 to 100 %."


def test_a_workspace_without_tickets_gets_an_empty_plan(acme: Cast) -> None:
    client: Client = signed_in_client(acme.admin)
    with time_machine.travel(dt.datetime(2020, 1, 1, tzinfo=dt.UTC), tick=False):
        html = client.get("/staffing/").content.decode()
    assert "Not enough history to measure the forecast yet" in html
    assert set(_cells(html).values()) == {f"0/{WRITERS}"}
