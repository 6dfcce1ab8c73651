"""The demo's survey answers: the results page shows NPS and CSAT with their margins on first run."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.models import Agent
from deskloop.conftest import signed_in_client
from deskloop.demo.seed import seed_demo
from deskloop.surveys.models import SurveyResponse
from deskloop.surveys.services.invitations import send_due_nps_invitations

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_the_demo_has_six_months_of_nps_and_csat_answers(db: None) -> None:
    with time_machine.travel(NOW, tick=False):
        report = seed_demo(tickets=120)
        answers = SurveyResponse.objects.filter(workspace=report.workspace)
        assert answers.filter(kind="nps").count() > 20
        assert answers.filter(kind="csat", ticket__isnull=False).count() > 20
        oldest = answers.filter(kind="nps").order_by("created_at").first()
        assert oldest is not None
        assert oldest.created_at < NOW - dt.timedelta(days=120)
        # The schedule finds nobody due: the demo does not email its fictional customers on first run.
        assert send_due_nps_invitations() == 0
        viewer = Agent.objects.get(workspace=report.workspace, role="viewer")
        page = signed_in_client(viewer).get("/surveys/")
    assert page.status_code == 200
    assert page.context["nps"].n == answers.filter(kind="nps").count()
    assert page.context["csat"].margin_95 is not None
