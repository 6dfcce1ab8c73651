"""Keeping a ticket's SLA clocks current: started with the ticket, stopped by replies and solves, paused while the
ticket waits on the customer (pending, on hold), re-picked when what the policy is chosen by changes.

Every function here takes the ticket locked by the caller (``clocks_consumer`` locks it) and the moment the change
happened (the event's time, not the time the consumer runs), and is idempotent: the same change applied twice
changes nothing the second time, so an outbox event delivered twice is harmless.

Decisions (docs/architecture.md, "SLA clocks"):
- a reopened ticket resumes its resolution clock where the solve stopped it (the minutes left then), so one
  resolution row per ticket tells the whole story and the time spent solved does not count;
- a re-picked policy carries the business minutes already used over: the new deadline is the new target minus what
  was used, from now; a metric the new policy lacks stops ("no longer applies"); one it adds starts from the
  ticket's creation;
- editing a policy leaves running clocks alone: they keep the deadline they were given (``target_minutes``).
"""

from __future__ import annotations

import datetime as dt

from deskloop.calendars.business_time import (
    Schedule,
    add_business_minutes,
    business_minutes_between,
)
from deskloop.service_levels.models import SlaMetric, SlaPolicy, SlaTarget
from deskloop.service_levels.queries import policy_for, schedule_for
from deskloop.tickets.models import StatusCategory, Ticket

PAUSING = frozenset({StatusCategory.PENDING, StatusCategory.ON_HOLD})
STOPPING = frozenset({StatusCategory.SOLVED, StatusCategory.CLOSED})
_RESPONSES = (SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE)
_TIMING_FIELDS = ["due_at", "paused_at", "remaining_business_minutes", "stopped_at", "breached_at"]


def target_minutes(policy: SlaPolicy | None, metric: str) -> int | None:
    if policy is None:
        return None
    minutes: int | None = {
        SlaMetric.FIRST_RESPONSE: policy.first_response_minutes,
        SlaMetric.NEXT_RESPONSE: policy.next_response_minutes,
        SlaMetric.RESOLUTION: policy.resolution_minutes,
    }[SlaMetric(metric)]
    return minutes


def _schedule(target: SlaTarget, workspace_id: int) -> Schedule:
    return schedule_for(target.policy, workspace_id)


def _open_targets(ticket: Ticket) -> list[SlaTarget]:
    return list(
        SlaTarget.objects.filter(ticket=ticket, stopped_at__isnull=True)
        .select_related("policy__calendar")
        .order_by("started_at", "id")
    )


def _new_target(
    ticket: Ticket, policy: SlaPolicy, schedule: Schedule, metric: str, minutes: int, started_at: dt.datetime
) -> SlaTarget:
    return SlaTarget.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        policy=policy,
        metric=metric,
        started_at=started_at,
        target_minutes=minutes,
        due_at=add_business_minutes(schedule, started_at, minutes),
    )


def start_clocks(*, ticket: Ticket, at: dt.datetime) -> None:
    """The policy's first-response and resolution clocks, from the ticket's creation. Nothing when the ticket
    already has clocks (the event came twice) or no policy covers it."""
    if SlaTarget.objects.filter(ticket=ticket).exists():
        return
    policy = policy_for(ticket)
    if policy is not None:
        schedule = schedule_for(policy, ticket.workspace_id)
        for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
            minutes = target_minutes(policy, metric)
            if minutes is not None:
                _new_target(ticket, policy, schedule, metric, minutes, ticket.created_at)
        if ticket.first_response_at is not None:
            # The events were handled late and an agent has answered already: that reply met (or missed) it.
            _stop(_open_targets(ticket), at=ticket.first_response_at, metrics=_RESPONSES)
    follow_status(ticket=ticket, category=ticket.status.category, at=at)


def record_agent_reply(*, ticket: Ticket, at: dt.datetime) -> None:
    """A public reply answers the customer: first and next response clocks stop."""
    _stop(_open_targets(ticket), at=at, metrics=_RESPONSES)
    if ticket.first_response_at is not None and ticket.first_response_business_minutes is None:
        schedule = schedule_for(policy_for(ticket), ticket.workspace_id)
        ticket.first_response_business_minutes = business_minutes_between(
            schedule, ticket.created_at, ticket.first_response_at
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_business_minutes=ticket.first_response_business_minutes
        )
    refresh_sla_due_at(ticket)


def record_customer_message(*, ticket: Ticket, at: dt.datetime) -> None:
    """A customer message after an agent's reply starts a next-response clock (one per cycle: a second message
    before the agent answers does not start another)."""
    replied_before = ticket.last_agent_message_at is not None and ticket.last_agent_message_at <= at
    waiting = SlaTarget.objects.filter(ticket=ticket, metric=SlaMetric.NEXT_RESPONSE, stopped_at__isnull=True)
    if replied_before and not waiting.exists():
        policy = policy_for(ticket)
        minutes = target_minutes(policy, SlaMetric.NEXT_RESPONSE)
        if policy is not None and minutes is not None:
            _new_target(ticket, policy, schedule_for(policy, ticket.workspace_id), SlaMetric.NEXT_RESPONSE, minutes, at)
    follow_status(ticket=ticket, category=ticket.status.category, at=at)


def follow_status(*, ticket: Ticket, category: str, at: dt.datetime) -> None:
    """Pause in pending / on hold, stop at solved / closed, run (resume, or reopen the resolution clock) otherwise."""
    targets = _open_targets(ticket)
    if category in STOPPING:
        _stop(targets, at=at, metrics=tuple(SlaMetric))
        _record_resolution_minutes(ticket)
    elif category in PAUSING:
        for target in targets:
            if target.paused_at is None and target.due_at is not None:
                _note_late(target, at)
                # An overdue clock waits with nothing left: it is breached again the moment it resumes.
                left = _minutes_left(target, _schedule(target, ticket.workspace_id), at)
                target.remaining_business_minutes = max(left, 0)
                target.paused_at, target.due_at = at, None
                target.save(update_fields=_TIMING_FIELDS)
    else:
        if not any(target.metric == SlaMetric.RESOLUTION for target in targets):
            targets += _reopened_resolution(ticket)
        for target in targets:
            if target.paused_at is not None:
                _run_again(target, ticket, at)
    refresh_sla_due_at(ticket)


def _reopened_resolution(ticket: Ticket) -> list[SlaTarget]:
    """The resolution clock the last solve stopped, when the ticket is open again (not when it never stopped)."""
    last = (
        SlaTarget.objects.filter(ticket=ticket, metric=SlaMetric.RESOLUTION)
        .select_related("policy__calendar")
        .order_by("-started_at", "-id")
        .first()
    )
    if last is None or last.stopped_at is None or last.remaining_business_minutes is None:
        return []
    # Solved counts as paused: it runs again from now with the minutes it had left.
    last.paused_at, last.stopped_at = last.stopped_at, None
    return [last]


def _run_again(target: SlaTarget, ticket: Ticket, at: dt.datetime) -> None:
    remaining = target.remaining_business_minutes or 0
    target.due_at = add_business_minutes(_schedule(target, ticket.workspace_id), at, remaining)
    target.paused_at, target.remaining_business_minutes = None, None
    target.save(update_fields=_TIMING_FIELDS)


def _minutes_left(target: SlaTarget, schedule: Schedule, at: dt.datetime) -> int:
    """Business minutes from ``at`` to the deadline; negative when it has passed (by the business minutes since)."""
    if target.due_at is None:
        return target.remaining_business_minutes or 0
    if target.due_at >= at:
        return business_minutes_between(schedule, at, target.due_at)
    return -business_minutes_between(schedule, target.due_at, at)


def _note_late(target: SlaTarget, at: dt.datetime) -> None:
    """A deadline that passed before the sweep saw it is recorded as breached at the deadline, so achievement is
    right without waiting for a sweep (no warning or breach event then: the moment to act on it is over)."""
    if target.due_at is not None and target.due_at <= at and target.breached_at is None:
        target.breached_at = target.due_at


def _stop(targets: list[SlaTarget], *, at: dt.datetime, metrics: tuple[str, ...]) -> None:
    """Stop the clocks of ``metrics``. A stopped resolution clock keeps the minutes it had left, for a reopen to
    resume from."""
    for target in targets:
        if target.metric not in metrics or target.stopped_at is not None:
            continue
        _note_late(target, at)
        if target.metric == SlaMetric.RESOLUTION:
            left = _minutes_left(target, _schedule(target, target.workspace_id), at)
            target.remaining_business_minutes = max(left, 0)
        else:
            target.remaining_business_minutes = None
        target.stopped_at, target.paused_at, target.due_at = at, None, target.due_at
        target.save(update_fields=_TIMING_FIELDS)


def _record_resolution_minutes(ticket: Ticket) -> None:
    solved_at = ticket.solved_at or ticket.closed_at
    if solved_at is None:
        return
    schedule = schedule_for(policy_for(ticket), ticket.workspace_id)
    ticket.resolution_business_minutes = business_minutes_between(schedule, ticket.created_at, solved_at)
    Ticket.objects.filter(pk=ticket.pk).update(resolution_business_minutes=ticket.resolution_business_minutes)


def repick_policy(*, ticket: Ticket, at: dt.datetime) -> None:
    """What chooses the policy changed (priority, tags, product area, organization): running clocks move to the
    policy that now applies, keeping the business minutes already used."""
    policy = policy_for(ticket)
    schedule = schedule_for(policy, ticket.workspace_id)
    targets = _open_targets(ticket)
    for target in targets:
        if target.policy_id == (policy.pk if policy else None):
            continue
        minutes = target_minutes(policy, target.metric)
        if minutes is None:
            target.stopped_at = at  # the new policy sets no such target: it no longer applies
            target.remaining_business_minutes = None
            target.save(update_fields=_TIMING_FIELDS)
            continue
        used = target.target_minutes - _minutes_left(target, _schedule(target, ticket.workspace_id), at)
        left = max(minutes - used, 0)
        target.policy, target.target_minutes = policy, minutes
        if target.paused_at is not None:
            target.remaining_business_minutes = left
        else:
            target.due_at = add_business_minutes(schedule, at, left)
        target.save(update_fields=[*_TIMING_FIELDS, "policy", "target_minutes"])
    if policy is not None:
        _start_missing(ticket, policy, schedule, {target.metric for target in targets}, at)
    follow_status(ticket=ticket, category=ticket.status.category, at=at)


def _start_missing(ticket: Ticket, policy: SlaPolicy, schedule: Schedule, running: set[str], at: dt.datetime) -> None:
    """Targets the new policy adds that still mean something: first response before any reply, resolution before
    any solve; counted from the ticket's creation (business time, as if the policy had applied from the start)."""
    had = set(SlaTarget.objects.filter(ticket=ticket).values_list("metric", flat=True))
    wanted = []
    if ticket.first_response_at is None and SlaMetric.FIRST_RESPONSE not in had:
        wanted.append(SlaMetric.FIRST_RESPONSE)
    if ticket.status.category not in STOPPING and SlaMetric.RESOLUTION not in running | had:
        wanted.append(SlaMetric.RESOLUTION)
    for metric in wanted:
        minutes = target_minutes(policy, metric)
        if minutes is not None:
            _new_target(ticket, policy, schedule, metric, minutes, ticket.created_at)


def stop_all(*, ticket: Ticket, at: dt.datetime) -> None:
    """The ticket left the queue without a solve (merged away, deleted, spam): its clocks no longer apply."""
    for target in _open_targets(ticket):
        target.stopped_at, target.remaining_business_minutes = at, None
        target.save(update_fields=_TIMING_FIELDS)
    refresh_sla_due_at(ticket)


def refresh_sla_due_at(ticket: Ticket) -> None:
    """``Ticket.sla_due_at`` = the earliest deadline of the running (not stopped, not paused) clocks;
    ``Ticket.sla_paused``: some clock waits (pending, on hold) and none runs."""
    open_clocks = list(
        SlaTarget.objects.filter(ticket=ticket, stopped_at__isnull=True).values_list("due_at", "paused_at")
    )
    deadlines = [due for due, _paused in open_clocks if due is not None]
    due = min(deadlines) if deadlines else None
    paused = due is None and any(paused_at is not None for _due, paused_at in open_clocks)
    if (due, paused) != (ticket.sla_due_at, ticket.sla_paused):
        ticket.sla_due_at, ticket.sla_paused = due, paused
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due, sla_paused=paused)
