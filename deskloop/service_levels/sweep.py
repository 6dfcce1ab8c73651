"""The SLA sweep (a periodic job, every minute): warn before a deadline, record a breach when it passes.

Set-based: each pass selects the due clocks of every workspace through the partial index of running deadlines
(``sla_target_running_due``), in batches, and per batch writes the timestamps in one UPDATE, the ticket history in
one INSERT and the outbox events (``ticket.sla_warning`` / ``ticket.sla_breached``, which webhooks and automations
consume) in one INSERT per workspace. Each warning and breach is recorded once: the rows are claimed under a lock
(``skip_locked``: a second scheduler passes them by) and only rows whose timestamp is still empty are written.
Figures for 100,000 open tickets: BENCHMARKS.md, "SLA sweep".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from deskloop.core import outbox
from deskloop.service_levels.models import SlaPolicy, SlaTarget
from deskloop.tickets import events
from deskloop.tickets.models import EventKind, TicketEvent

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
            SlaTarget.objects.filter(pk__in=[row["pk"] for row in claimed]).update(**{kind.stamp: now})
            _announce(claimed, kind)
        total += len(claimed)
        after = (claimed[-1]["due_at"], claimed[-1]["pk"])


def _claim(due: QuerySet[SlaTarget], kind: _Kind, batch_size: int) -> list[dict[str, Any]]:
    rows = due.filter(**{f"{kind.stamp}__isnull": True}).order_by("due_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    fields = ("pk", "workspace_id", "ticket_id", "ticket__number", "metric", "due_at", "policy_id", "policy__name")
    return [dict(row) for row in rows.values(*fields)[:batch_size]]


def _announce(claimed: list[dict[str, Any]], kind: _Kind) -> None:
    """The history rows and the outbox events of one batch."""
    history = []
    per_workspace: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for row in claimed:
        detail = {
            "metric": row["metric"],
            "due_at": row["due_at"].isoformat(),
            "policy": {"id": row["policy_id"], "name": row["policy__name"]} if row["policy_id"] else None,
        }
        history.append(
            TicketEvent(
                workspace_id=row["workspace_id"],
                ticket_id=row["ticket_id"],
                kind=kind.event_kind,
                new_value=detail,
                via="sla",
            )
        )
        payload = {"ticket_id": row["ticket_id"], "ticket_number": row["ticket__number"], "target_id": row["pk"]}
        per_workspace[row["workspace_id"]].append((kind.event_name, {**payload, **detail}))
    events.record_events(history)
    for workspace_id, announced in per_workspace.items():
        outbox.publish_many(workspace_id=workspace_id, events=announced)
