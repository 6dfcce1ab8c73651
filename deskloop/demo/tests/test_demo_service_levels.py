"""The demo's SLA policies and the clocks of its history: some targets met, some missed, the figures stored."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.models import Agent
from deskloop.conftest import signed_in_client
from deskloop.demo.seed import seed_demo
from deskloop.service_levels.models import SlaPolicy, SlaTarget
from deskloop.tickets.models import Ticket

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_the_demo_history_met_and_missed_its_targets(db: None) -> None:
    with time_machine.travel(NOW, tick=False):
        report = seed_demo(tickets=120)
        workspace = report.workspace
        assert list(SlaPolicy.objects.filter(workspace=workspace).values_list("name", flat=True)) == [
            "Enterprise",
            "Standard",
        ]
        first = SlaTarget.objects.filter(workspace=workspace, metric="first_response", stopped_at__isnull=False)
        met, missed = first.filter(breached_at__isnull=True).count(), first.filter(breached_at__isnull=False).count()
        assert met > 10
        assert missed > 0
        replied = Ticket.objects.filter(workspace=workspace, first_response_at__isnull=False)
        assert not replied.filter(first_response_business_minutes__isnull=True).exists()
        assert SlaTarget.objects.filter(workspace=workspace, metric="next_response").exists()
        admin = Agent.objects.filter(workspace=workspace, role="admin").order_by("pk")[0]
        page = signed_in_client(admin).get("/settings/sla/")
    assert page.status_code == 200
    assert "Enterprise" in page.content.decode()
