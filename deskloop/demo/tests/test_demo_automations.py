"""The demo workspace shows automations at work: sensible rules, and runs on the open tickets they match."""

from __future__ import annotations

import datetime as dt

from deskloop.automations.models import AutomationRule, AutomationRun, RunOutcome
from deskloop.demo.seed import seed_demo
from deskloop.tickets.models import EventKind, TicketEvent


def test_the_demo_has_rules_and_their_runs(db: None) -> None:
    report = seed_demo(now=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tickets=60)

    names = list(AutomationRule.objects.filter(workspace=report.workspace).values_list("name", flat=True))
    assert names == [
        "Payment problems go to Billing, high priority",
        "Crashes are bugs",
        "Pending for 5 days: solved, with a note",
        "SLA breached: urgent, and tell the lead",
    ]
    runs = AutomationRun.objects.filter(workspace=report.workspace)
    assert sorted(runs.values_list("rule__name", "ticket__subject")) == [
        ("Payment problems go to Billing, high priority", "Nos habéis cobrado dos veces la suscripción"),
        ("Payment problems go to Billing, high priority", "We were charged twice this month"),
        ("Payment problems go to Billing, high priority", "Оплата картой не проходит"),
    ]
    assert set(runs.values_list("outcome", flat=True)) == {RunOutcome.APPLIED}
    on_history = TicketEvent.objects.filter(workspace=report.workspace, kind=EventKind.AUTOMATION).count()
    assert on_history == runs.count()
