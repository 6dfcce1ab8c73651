"""Time rules from the scheduler's side: "pending for 5 days: solved, with a note", run by `run_periodic --once` at
fixed moments (time-machine), once per ticket per window."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command

from deskloop.automations.models import AutomationRun, RunOutcome
from deskloop.automations.services import RuleDraft, create_rule
from deskloop.conftest import Cast
from deskloop.tickets.models import Message, MessageKind, Status, StatusCategory, Ticket
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _run_scheduler() -> int:
    out = StringIO()
    call_command("run_periodic", "--once", stdout=out)
    done = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    return int(done["run_time_rules"])


def _pending_for_five_days(cast: Cast) -> None:
    solved = default_status(cast.workspace.pk, StatusCategory.SOLVED)
    create_rule(
        actor=cast.admin,
        draft=RuleDraft(
            name="Pending for 5 days: solved",
            kind="time",
            time_condition={"status_category": "pending", "hours_since": "updated_at", "hours": 120},
            actions=[
                {"type": "set_status", "value": solved.pk},
                {"type": "add_note", "text": "Solved after 5 days without an answer from the customer."},
            ],
        ),
    )


def _waiting_ticket(cast: Cast, subject: str) -> Ticket:
    pending = Status.objects.get(workspace=cast.workspace, category=StatusCategory.PENDING)
    ticket = open_ticket(
        workspace=cast.workspace, ticket=NewTicket(requester=cast.customer, subject=subject, body_text="Hi")
    )[0]
    return update_ticket(ticket=ticket, changes=TicketChanges(status=pending), agent=cast.agent)


def test_a_ticket_pending_for_five_days_is_solved_with_a_note_once(acme: Cast) -> None:
    with time_machine.travel(START, tick=False):
        _pending_for_five_days(acme)
        waiting = _waiting_ticket(acme, "Waiting for the customer's logs")
    with time_machine.travel(START + dt.timedelta(hours=100), tick=False):
        answered_later = _waiting_ticket(acme, "Pending since day four")

    with time_machine.travel(START + dt.timedelta(hours=119, minutes=59), tick=False):
        assert _run_scheduler() == 0
    with time_machine.travel(START + dt.timedelta(hours=120, minutes=5), tick=False):
        assert _run_scheduler() == 1
        assert _run_scheduler() == 0

    solved = Ticket.objects.select_related("status").get(pk=waiting.pk)
    assert solved.status.category == StatusCategory.SOLVED
    note = Message.objects.get(ticket=solved, kind=MessageKind.NOTE)
    assert (note.body_text, note.author_agent) == (
        "Solved after 5 days without an answer from the customer.",
        acme.admin,
    )
    run = AutomationRun.objects.get()
    assert (run.ticket_id, run.event, run.outcome, run.window_at) == (waiting.pk, "time", RunOutcome.APPLIED, START)
    assert Ticket.objects.get(pk=answered_later.pk).status.category == StatusCategory.PENDING


def test_a_time_rule_runs_again_only_in_a_new_window(acme: Cast) -> None:
    """A rule that only tags leaves the ticket pending: it is not tagged again every five minutes, only once
    per stretch of 48 hours without an update."""
    with time_machine.travel(START, tick=False):
        create_rule(
            actor=acme.admin,
            draft=RuleDraft(
                name="Stale pending",
                kind="time",
                time_condition={"status_category": "pending", "hours_since": "last_customer_message_at", "hours": 48},
                conditions=[{"field": "priority", "operator": "is_not", "value": "low"}],
                actions=[{"type": "notify_agent", "value": acme.agent.pk}],
            ),
        )
        waiting = _waiting_ticket(acme, "Stuck import")
    for hours in (49, 50, 72):
        with time_machine.travel(START + dt.timedelta(hours=hours), tick=False):
            _run_scheduler()
    assert AutomationRun.objects.filter(ticket=waiting).count() == 1
    assert acme.agent.notifications.get().message == f"Automation “Stale pending” asks you to look at #{waiting.number}"

    # The customer writes again on day 4 (a new window), and the ticket is pending again two days later.
    from deskloop.tickets.services.messages import CustomerMessage, add_customer_message

    with time_machine.travel(START + dt.timedelta(hours=96), tick=False):
        add_customer_message(ticket=waiting, contact=acme.customer, message=CustomerMessage(body_text="Any news?"))
        pending = Status.objects.get(workspace=acme.workspace, category=StatusCategory.PENDING)
        update_ticket(ticket=Ticket.objects.get(pk=waiting.pk), changes=TicketChanges(status=pending), agent=acme.agent)
    with time_machine.travel(START + dt.timedelta(hours=145), tick=False):
        _run_scheduler()
    windows = list(AutomationRun.objects.filter(ticket=waiting).order_by("id").values_list("window_at", flat=True))
    assert windows == [START, START + dt.timedelta(hours=96)]
