"""The SLA sweep (a periodic job, every minute): warn before a deadline, record a breach when it passes.

Set-based: each pass selects the due clocks of every workspace through the partial index of running deadlines
(``sla_target_running_due``), in batches, and per batch writes the timestamps in one UPDATE, then the ticket
history and the outbox events (``ticket.sla_warning`` / ``ticket.sla_breached``, which webhooks and automations
consume) each in one INSERT ... SELECT that the database fills from the clocks: nothing per row goes through Python,
so a sweep after an outage, with every open ticket overdue at once, costs about what its inserts cost. Each warning
and breach is recorded once: the rows are claimed under a lock (``skip_locked``: a second scheduler passes them by)
and only rows whose timestamp is still empty are written. Figures for 100,000 open tickets: BENCHMARKS.md, "SLA
sweep"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, JSONField, Q, QuerySet, Value, When
from django.db.models.functions import JSONObject
from django.utils import timezone

from deskloop.core import outbox
from deskloop.core.plain_sql import JsonTimestamp
from deskloop.service_levels.models import SlaPolicy, SlaTarget
from deskloop.tickets import events
from deskloop.tickets.models import EventKind

BATCH_SIZE = 2000


@dataclass(frozen=True)
class _Kind:
    stamp: str  # the SlaTarget column the sweep sets
    event_kind: EventKind
    event_name: str


WARNING = _Kind("warned_at", EventKind.SLA_WARNING, "ticket.sla_warning")
BREACH = _Kind("breached_at", EventKind.SLA_BREACHED, "ticket.sla_breached")


def _running() -> QuerySet[SlaTarget]:
    # The partial index's condition, spelled the same way so the planner uses it.
    return SlaTarget.objects.filter(stopped_at__isnull=True, breached_at__isnull=True, due_at__isnull=False)


def sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Record the breaches, then the warnings, due at ``now``; returns how many were recorded."""
    now = now or timezone.now()
    done = _record(_running().filter(due_at__lte=now), BREACH, now, batch_size)
    # One range per warning lead the policies use (a handful): still an index range scan each.
    leads = SlaPolicy.objects.order_by().values_list("warn_before_minutes", flat=True).distinct()
    for lead in sorted(set(leads)):
        due_soon = _running().filter(
            warned_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + dt.timedelta(minutes=lead),
            policy__warn_before_minutes=lead,
        )
        done += _record(due_soon, WARNING, now, batch_size)
    return done


def _record(due: QuerySet[SlaTarget], kind: _Kind, now: dt.datetime, batch_size: int) -> int:
    total = 0
    after: tuple[dt.datetime, int] | None = None
    while True:
        # Keyset over (due_at, id): a warned clock stays in the running index, and starting each batch from the
        # index's beginning again read every row warned so far (quadratic; BENCHMARKS.md, "SLA sweep").
        batch = due if after is None else due.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], pk__gt=after[1]))
        with transaction.atomic():
            claimed = _claim(batch, kind, batch_size)
            if not claimed:
                return total
            ids = [pk for pk, _due_at in claimed]
            SlaTarget.objects.filter(pk__in=ids).update(**{kind.stamp: now})
            _announce(SlaTarget.objects.filter(pk__in=ids).order_by("due_at", "id"), kind)
        total += len(claimed)
        last_pk, last_due_at = claimed[-1]
        after = (last_due_at, last_pk)


def _claim(due: QuerySet[SlaTarget], kind: _Kind, batch_size: int) -> list[tuple[int, dt.datetime]]:
    """The next batch's (id, due_at), locked."""
    rows = due.filter(**{f"{kind.stamp}__isnull": True}).order_by("due_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    # due_at is never null here: the running clocks' filter requires it.
    return [(pk, due_at) for pk, due_at in rows.values_list("pk", "due_at")[:batch_size] if due_at is not None]


def _announce(claimed: QuerySet[SlaTarget], kind: _Kind) -> None:
    """The history rows and the outbox events of one batch, each written by the database from the clocks in one
    INSERT ... SELECT: after an outage a sweep records a breach for every open ticket at once, and with a Python
    object per row the sweep cost 5x a bare insert of the history rows; now about 2x (BENCHMARKS.md, "SLA sweep")."""
    detail = {
        "metric": F("metric"),
        "due_at": JsonTimestamp(F("due_at")),
        "policy": Case(
            When(policy__isnull=True, then=Value(None)),
            default=JSONObject(id=F("policy_id"), name=F("policy__name")),
            output_field=JSONField(),
        ),
    }
    events.record_selected(claimed, kind=kind.event_kind, new=JSONObject(**detail), via="sla")
    payload = JSONObject(ticket_id=F("ticket_id"), ticket_number=F("ticket__number"), target_id=F("pk"), **detail)
    outbox.publish_selected(kind.event_name, claimed, payload=payload)
