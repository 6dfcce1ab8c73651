"""The SLA sweep: a warning before the deadline and a breach at it, each recorded once on the ticket's history and
announced as ``ticket.sla_warning`` / ``ticket.sla_breached`` (which webhooks deliver and automations react to)."""

from __future__ import annotations

import pytest
import time_machine
from django.db.models import F
from django.db.models.functions import JSONObject

from deskloop.conftest import Cast
from deskloop.core import outbox
from deskloop.core.models import OutboxEvent
from deskloop.core.periodic import registered_jobs
from deskloop.service_levels.models import SlaPolicy, SlaTarget
from deskloop.service_levels.sweep import sweep
from deskloop.service_levels.tests.test_clocks import clock, dispatched, open_at, utc
from deskloop.tickets.models import EventKind, TicketEvent
from deskloop.tickets.services.messages import add_agent_reply


def test_the_sweep_warns_then_breaches_once_each_with_history_and_events(acme: Cast) -> None:
    policy = SlaPolicy.objects.create(
        workspace=acme.workspace, name="Around the clock", first_response_minutes=60, warn_before_minutes=15
    )
    dispatched()
    ticket = open_at(acme, utc(27, 8))  # first response due 09:00Z, warning from 08:45Z
    assert sweep(now=utc(27, 8, 44)) == 0
    assert (sweep(now=utc(27, 8, 45)), sweep(now=utc(27, 8, 50))) == (1, 0)
    assert (sweep(now=utc(27, 9)), sweep(now=utc(27, 9, 1))) == (1, 0)
    target = clock(ticket, "first_response")
    assert (target.warned_at, target.breached_at, target.stopped_at) == (utc(27, 8, 45), utc(27, 9), None)
    detail = {
        "metric": "first_response",
        "due_at": "2026-03-27T09:00:00+00:00",
        "policy": {"id": policy.pk, "name": policy.name},
    }
    history = TicketEvent.objects.filter(ticket=ticket, kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED])
    assert [(e.kind, e.new_value, e.via) for e in history.order_by("id")] == [
        (EventKind.SLA_WARNING, detail, "sla"),
        (EventKind.SLA_BREACHED, detail, "sla"),
    ]
    announced = OutboxEvent.objects.filter(name__startswith="ticket.sla_").order_by("id")
    base = {"ticket_id": ticket.pk, "ticket_number": ticket.number, "target_id": target.pk, **detail}
    assert [(e.name, e.payload) for e in announced] == [("ticket.sla_warning", base), ("ticket.sla_breached", base)]
    # Still running, and red: the inbox counts down to a deadline that has passed.
    ticket.refresh_from_db()
    assert ticket.sla_due_at == utc(27, 9)


def test_met_paused_and_other_workspaces_clocks_are_left_alone(acme: Cast, umbrella: Cast) -> None:
    for cast in (acme, umbrella):
        SlaPolicy.objects.create(workspace=cast.workspace, name="Hour", first_response_minutes=60)
    dispatched()
    answered = open_at(acme, utc(27, 8))
    waiting = open_at(umbrella, utc(27, 8, 30))
    with time_machine.travel(utc(27, 8, 40), tick=False):
        add_agent_reply(ticket=answered, agent=acme.agent, body_text="Done")
        dispatched()
    assert sweep(now=utc(27, 9, 10)) == 1  # Umbrella's ticket is warned (due 09:30Z), Acme's is met
    assert SlaTarget.objects.filter(warned_at__isnull=False).get().ticket_id == waiting.pk
    events = OutboxEvent.objects.filter(name="ticket.sla_warning")
    assert list(events.values_list("workspace_id", flat=True)) == [umbrella.workspace.pk]


def test_the_sweep_runs_every_minute_from_the_scheduler() -> None:
    job = next(job for job in registered_jobs() if job.name == "sla_sweep")
    assert job.every_seconds == 60


def test_the_ticket_history_says_what_was_warned_and_breached(acme: Cast) -> None:
    from deskloop.conftest import signed_in_client

    SlaPolicy.objects.create(workspace=acme.workspace, name="Gold", first_response_minutes=60, warn_before_minutes=15)
    dispatched()
    ticket = open_at(acme, utc(27, 8))
    sweep(now=utc(27, 8, 50))
    sweep(now=utc(27, 9, 5))
    with time_machine.travel(utc(27, 9, 6), tick=False):
        html = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "SLA warning: First response is due soon (Gold)" in html
    assert "SLA breached: First response is overdue (Gold)" in html


def test_inside_an_automation_chain_the_set_based_publish_refuses_and_writes_nothing(acme: Cast) -> None:
    SlaPolicy.objects.create(workspace=acme.workspace, name="Hour", first_response_minutes=60)
    dispatched()
    open_at(acme, utc(27, 8))
    before = OutboxEvent.objects.count()
    with outbox.carrying({"automation_chain": [1]}), pytest.raises(RuntimeError, match="cannot carry"):
        outbox.publish_selected("ticket.sla_breached", SlaTarget.objects.all(), payload=JSONObject(target_id=F("pk")))
    assert OutboxEvent.objects.count() == before
