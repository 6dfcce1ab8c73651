"""SLA clocks on one ticket, told as the story of a conversation on the 07:00-02:00 Central European shift across
the spring daylight-saving change (Europe/Berlin, Sunday 29 March 2026): exact deadlines and business minutes.

The shift: 07:00 local to 02:00 the next day, every day. Before the change 07:00 CET is 06:00Z and 02:00 CET is
01:00Z; from Sunday 07:00 CEST is 05:00Z and 02:00 CEST is 00:00Z. Saturday's shift ends at 02:00 local on Sunday,
a time the change skips, read as 01:00Z (calendars.business_time)."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.calendars.models import BusinessCalendar, Holiday
from deskloop.conftest import Cast
from deskloop.core import outbox
from deskloop.customers.services import find_or_create_contact
from deskloop.service_levels.models import SlaOrganizationOverride, SlaPolicy, SlaTarget
from deskloop.tickets.models import Priority, StatusCategory, Ticket
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.messages import CustomerMessage, add_agent_reply, add_customer_message
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

LATE_SHIFT = [{"weekday": day, "start": "07:00", "end": "02:00"} for day in range(7)]


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def late_shift(acme: Cast) -> BusinessCalendar:
    return BusinessCalendar.objects.create(
        workspace=acme.workspace, name="Support Europe", time_zone="Europe/Berlin", weekly_hours=LATE_SHIFT
    )


def standard_policy(acme: Cast, **overrides: object) -> SlaPolicy:
    values: dict[str, object] = {
        "name": "Standard",
        "calendar": late_shift(acme),
        "first_response_minutes": 60,
        "next_response_minutes": 120,
        "resolution_minutes": 1200,
        **overrides,
    }
    return SlaPolicy.objects.create(workspace=acme.workspace, **values)


def dispatched() -> None:
    """What the worker does right after each commit: hand the new outbox events to their consumers, in order."""
    outbox.dispatch_pending()


def open_at(acme: Cast, when: dt.datetime, **fields: object) -> Ticket:
    with time_machine.travel(when, tick=False):
        ticket = open_ticket(
            workspace=acme.workspace,
            ticket=NewTicket(
                **{"requester": acme.customer, "subject": "Export fails", "body_text": "It fails.", **fields}
            ),  # type: ignore[arg-type]
        )[0]
        dispatched()
    return ticket


def clock(ticket: Ticket, metric: str, index: int = 0) -> SlaTarget:
    return list(SlaTarget.objects.filter(ticket=ticket, metric=metric).order_by("started_at", "id"))[index]


def reloaded(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_a_conversation_across_the_spring_change_pauses_stops_and_reopens_to_the_minute(acme: Cast) -> None:
    standard_policy(acme)
    dispatched()
    ticket = open_at(acme, utc(28, 0, 30))  # Saturday 01:30 CET, half an hour before Friday's shift ends
    # First response: 30 min to 01:00Z, 30 more from 06:00Z. Resolution (1200): 30 + Saturday's 1140 + 30 on
    # Sunday from 05:00Z (07:00 CEST).
    assert (clock(ticket, "first_response").due_at, clock(ticket, "resolution").due_at) == (
        utc(28, 6, 30),
        utc(29, 5, 30),
    )
    assert reloaded(ticket).sla_due_at == utc(28, 6, 30)

    pending = default_status(acme.workspace.pk, StatusCategory.PENDING)
    with time_machine.travel(utc(28, 6, 10), tick=False):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Which file?", status=pending)
        dispatched()
    first = clock(ticket, "first_response")
    resolution = clock(ticket, "resolution")
    # Answered 20 business minutes early, while the ticket went pending: met, and the resolution clock waits
    # with 1200 - 40 used = 1160 minutes left.
    assert (first.stopped_at, first.breached_at) == (utc(28, 6, 10), None)
    assert (resolution.due_at, resolution.paused_at, resolution.remaining_business_minutes) == (
        None,
        utc(28, 6, 10),
        1160,
    )
    assert (reloaded(ticket).sla_due_at, reloaded(ticket).first_response_business_minutes) == (None, 40)

    with time_machine.travel(utc(28, 20), tick=False):  # Saturday 21:00 CET
        add_customer_message(ticket=ticket, contact=acme.customer, message=CustomerMessage(body_text="This one"))
        dispatched()
    # The answer reopens the ticket: a next-response cycle starts (2 h, inside Saturday's shift) and resolution
    # runs again: 300 min to 01:00Z, then 860 from Sunday 05:00Z.
    assert clock(ticket, "next_response").due_at == utc(28, 22)
    assert clock(ticket, "resolution").due_at == utc(29, 19, 20)
    assert reloaded(ticket).sla_due_at == utc(28, 22)
    with time_machine.travel(utc(28, 20, 30), tick=False):
        add_customer_message(ticket=ticket, contact=acme.customer, message=CustomerMessage(body_text="Any news?"))
        dispatched()
    assert SlaTarget.objects.filter(ticket=ticket, metric="next_response").count() == 1

    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    with time_machine.travel(utc(28, 21), tick=False):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Fixed.", status=solved)
        dispatched()
    resolution = clock(ticket, "resolution")
    assert (clock(ticket, "next_response").stopped_at, clock(ticket, "next_response").breached_at) == (
        utc(28, 21),
        None,
    )
    assert (resolution.stopped_at, resolution.breached_at, resolution.remaining_business_minutes) == (
        utc(28, 21),
        None,
        1100,
    )
    # Created 00:30Z to solved 21:00Z: 30 + 900 business minutes (the pending hours count: they are business hours).
    assert (reloaded(ticket).resolution_business_minutes, reloaded(ticket).sla_due_at) == (930, None)

    with time_machine.travel(utc(30, 6), tick=False):  # Monday 08:00 CEST
        add_customer_message(ticket=ticket, contact=acme.customer, message=CustomerMessage(body_text="Broken again"))
        dispatched()
    # Reopened: resolution resumes with its 1100 minutes (Monday's shift gives 1080 to 00:00Z, 20 on Tuesday).
    resolution = clock(ticket, "resolution")
    assert (resolution.stopped_at, resolution.due_at) == (None, dt.datetime(2026, 3, 31, 5, 20, tzinfo=dt.UTC))
    assert clock(ticket, "next_response", 1).due_at == utc(30, 8)
    assert (reloaded(ticket).sla_due_at, reloaded(ticket).reopen_count) == (utc(30, 8), 1)


def test_a_holiday_moves_the_deadline_past_the_closed_day(acme: Cast) -> None:
    policy = standard_policy(acme)
    assert policy.calendar is not None
    Holiday.objects.create(workspace=acme.workspace, calendar=policy.calendar, date=dt.date(2026, 3, 29), name="Easter")
    dispatched()
    ticket = open_at(acme, utc(28, 23))  # Saturday 00:00 CET... Sunday 00:00 local, inside Saturday's shift
    # Saturday's shift still ends at 01:00Z (120 min); Sunday's is closed; Monday's opens at 05:00Z.
    assert clock(ticket, "resolution").due_at == utc(30, 5) + dt.timedelta(minutes=1200 - 120)
    assert clock(ticket, "first_response").due_at == utc(28, 0) + dt.timedelta(days=1)


def test_a_breach_found_at_the_reply_is_recorded_and_achievement_is_exact(acme: Cast) -> None:
    standard_policy(acme)
    dispatched()
    ticket = open_at(acme, utc(27, 8))  # Friday 09:00 CET: first response due 09:00Z
    with time_machine.travel(utc(27, 9, 15), tick=False):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Sorry for the wait")
        dispatched()
    first = clock(ticket, "first_response")
    assert (first.stopped_at, first.breached_at, reloaded(ticket).first_response_business_minutes) == (
        utc(27, 9, 15),
        utc(27, 9),
        75,
    )


def test_priority_change_repicks_the_policy_and_keeps_the_minutes_used(acme: Cast) -> None:
    standard_policy(acme, position=2)
    urgent = SlaPolicy.objects.create(
        workspace=acme.workspace,
        name="Urgent",
        position=1,
        conditions={"priorities": [Priority.URGENT]},
        first_response_minutes=30,
        resolution_minutes=240,
    )
    dispatched()
    ticket = open_at(acme, utc(27, 8))  # Friday 09:00 CET, Standard: first response due 09:00Z
    with time_machine.travel(utc(27, 8, 20), tick=False):
        update_ticket(ticket=ticket, changes=TicketChanges(priority=Priority.URGENT), agent=acme.agent)
        dispatched()
    first = clock(ticket, "first_response")
    # Urgent counts around the clock (no calendar): 20 of its 30 minutes are used, 10 are left.
    assert (first.policy_id, first.target_minutes, first.due_at) == (urgent.pk, 30, utc(27, 8, 30))
    assert clock(ticket, "resolution").due_at == utc(27, 8, 20) + dt.timedelta(minutes=220)
    assert reloaded(ticket).sla_due_at == utc(27, 8, 30)


def test_an_organization_override_beats_the_conditions_and_other_tickets_get_none(acme: Cast) -> None:
    enterprise = SlaPolicy.objects.create(
        workspace=acme.workspace,
        name="Enterprise",
        position=5,
        conditions={"plans": ["Enterprise"]},
        first_response_minutes=15,
    )
    SlaOrganizationOverride.objects.create(workspace=acme.workspace, organization=acme.organization, policy=enterprise)
    dispatched()
    covered = open_at(acme, utc(27, 8))
    stranger = find_or_create_contact(workspace=acme.workspace, email="pat@elsewhere.example", name="Pat")
    other = open_at(acme, utc(27, 8), requester=stranger)
    assert (covered.organization_id, other.organization_id) == (acme.organization.pk, None)
    # Globex's plan is "Pro", not "Enterprise": the override alone gives it the policy.
    assert clock(covered, "first_response").due_at == utc(27, 8, 15)
    assert (SlaTarget.objects.filter(ticket=other).count(), reloaded(other).sla_due_at) == (0, None)


def test_an_overdue_ticket_set_pending_waits_with_nothing_left_and_replays_the_same(acme: Cast) -> None:
    from deskloop.service_levels.replay import replay_clocks

    SlaPolicy.objects.create(workspace=acme.workspace, name="Hour", first_response_minutes=60, resolution_minutes=90)
    dispatched()
    ticket = open_at(acme, utc(27, 8))
    pending = default_status(acme.workspace.pk, StatusCategory.PENDING)
    opened = default_status(acme.workspace.pk, StatusCategory.OPEN)
    with time_machine.travel(utc(27, 10), tick=False):  # both deadlines passed
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Late, which file?", status=pending)
        dispatched()
    with time_machine.travel(utc(27, 12), tick=False):
        update_ticket(ticket=ticket, changes=TicketChanges(status=opened), agent=acme.agent)
        dispatched()
    resolution = clock(ticket, "resolution")
    assert (resolution.remaining_business_minutes, resolution.due_at, resolution.paused_at) == (None, utc(27, 12), None)
    assert clock(ticket, "first_response").breached_at == utc(27, 9)
    live = list(
        SlaTarget.objects.filter(ticket=ticket)
        .order_by("metric")
        .values_list(
            "metric", "started_at", "due_at", "paused_at", "stopped_at", "breached_at", "remaining_business_minutes"
        )
    )
    replay_clocks(ticket=Ticket.objects.select_related("status", "organization").get(pk=ticket.pk))
    replayed = list(
        SlaTarget.objects.filter(ticket=ticket)
        .order_by("metric")
        .values_list(
            "metric", "started_at", "due_at", "paused_at", "stopped_at", "breached_at", "remaining_business_minutes"
        )
    )
    assert replayed == live
