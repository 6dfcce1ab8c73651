"""The demo's self-service month: the deflection report and the "Before writing" panel show something on first run."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.models import Agent
from deskloop.conftest import signed_in_client
from deskloop.demo.seed import seed_demo
from deskloop.knowledge.models import RequestOutcome, RequestSession

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_the_demo_has_a_judged_month_of_request_sessions(db: None) -> None:
    with time_machine.travel(NOW, tick=False):
        report = seed_demo(tickets=120)
        viewer = Agent.objects.get(workspace=report.workspace, role="viewer")
        client = signed_in_client(viewer)
        page = client.get("/knowledge/deflection/?from=2025-05-01&to=2025-06-02")
        assert page.status_code == 200
        figures = page.context["report"]
        assert figures.suggestions.judged > 0
        assert figures.holdout.judged > 0
        assert figures.suggestions.deflected + figures.holdout.deflected > 0
        assert "data processing agreement" in {row.query for row in figures.no_answer}
        submitted = RequestSession.objects.filter(workspace=report.workspace, outcome=RequestOutcome.SUBMITTED).first()
        assert submitted is not None
        assert submitted.ticket is not None
        ticket_page = client.get(f"/tickets/{submitted.ticket.number}/").content.decode()
    assert "data-request-sessions" in ticket_page
    assert not RequestSession.objects.filter(workspace=report.workspace, outcome=RequestOutcome.OPEN).exists()
