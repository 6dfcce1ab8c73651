"""The demo's reports have figures on first run: volume, times in business and calendar hours, the backlog and the
agents' performance, each number leading to its tickets."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.models import Agent
from deskloop.conftest import signed_in_client
from deskloop.demo.seed import seed_demo

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_the_demo_reports_are_not_empty(db: None) -> None:
    with time_machine.travel(NOW, tick=False):
        workspace = seed_demo(tickets=120).workspace
        owner = signed_in_client(Agent.objects.get(workspace=workspace, role="owner"))
        sections = {}
        for path in ("/reports/volume/", "/reports/times/", "/reports/backlog/", "/reports/agents/"):
            response = owner.get(path)
            assert response.status_code == 200
            sections.update({s.key: s for s in response.context["sections"]})
        drilled = owner.get(sections["first_response"].table.rows[0][1].href)
    total = sections["volume"].table.rows[-1][-1]
    assert total.value > 20
    whole_range = sections["first_response"].table.rows[0]
    assert whole_range[1].value > 10
    assert all(cell.value is not None and cell.value >= 0 for cell in whole_range[2:])
    assert sections["resolution"].table.rows[0][2].value is not None
    assert sections["backlog"].table.rows[-1][1].value > 0
    assert len(sections["agents"].table.rows) >= 3
    assert drilled.context["page"].paginator.count == whole_range[1].value
