"""The reports over the API: the same numbers as the pages, as JSON and as CSV, and the same refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
import time_machine

from deskloop.conftest import Cast, api_client, problem_body
from deskloop.reports.tests.story import NOW, RANGE, Story, build_story


@pytest.fixture
def story(acme: Cast) -> Iterator[Story]:
    with time_machine.travel(NOW, tick=False):
        yield build_story(acme)


def test_the_sla_report_as_json_with_drill_down_urls(acme: Cast, story: Story) -> None:
    response = api_client(acme.admin).get("/api/v1/reports/sla", RANGE)
    assert response.status_code == 200
    body = response.json()
    assert body["report"] == "sla"
    assert body["filters"] == RANGE
    [section] = body["sections"]
    assert section["columns"] == ["Target", "Policy", "Achieved", "Breached", "Running", "Achievement"]
    first = section["rows"][0]
    assert [cell["value"] for cell in first] == ["First response", "Standard", 3, 1, 1, 0.75]
    breached_url = first[3]["tickets_url"]
    assert breached_url.startswith("/reports/tickets/?")
    assert f"policy={story.policy.pk}" in breached_url
    assert "sla_outcome=breached" in breached_url


def test_the_agent_report_as_csv(acme: Cast, story: Story) -> None:
    response = api_client(acme.viewer).get("/api/v1/reports/agents", {**RANGE, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["section", "Agent", "Tickets", "Solved"]
    assert rows[1] == [
        "agents", "Maria Agent", "3", "3", "4", "3", "0.5 h", "5.0 h", "33.3% (1/3)", "50.0% (1/2)", "85.0 (2)",
    ]  # fmt: skip
    assert len(rows) == 3


def test_the_volume_report_takes_its_options(acme: Cast, story: Story) -> None:
    body = (
        api_client(acme.owner)
        .get("/api/v1/reports/volume", {**RANGE, "dimension": "request_type", "interval": "month"})
        .json()
    )
    assert body["options"] == {"dimension": "request_type", "interval": "month"}
    rows = [[cell["text"] for cell in row] for row in body["sections"][0]["rows"]]
    assert rows == [
        ["Problem", "2", "2"],
        ["Question", "2", "2"],
        ["Bug", "1", "1"],
        ["All tickets", "6", "6"],
    ]


def test_bad_filters_are_a_400_problem_and_agents_are_refused(acme: Cast, umbrella: Cast) -> None:
    response = api_client(acme.admin).get("/api/v1/reports/volume", {"team": umbrella.support.pk})
    assert response.status_code == 400
    assert problem_body(response)["detail"] == "No such team in this workspace."
    assert api_client(acme.admin).get("/api/v1/reports/times", {"interval": "hour"}).status_code == 400
    assert api_client(acme.agent).get("/api/v1/reports/volume").status_code == 403
