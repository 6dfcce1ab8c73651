"""The SLA sweep over 100,000 open tickets (standalone, not in run_all.py: it builds its own workspace).

Makes a workspace with ``--tickets`` open tickets (bare rows, bulk-inserted), each with a running first-response and
a resolution clock under one policy (warning 30 minutes ahead), deadlines spread over the next week. Then times:

1. the sweep every minute in steady state (a handful of clocks come due each minute), p50/p95 over ``--iterations``
   runs, against one ticket read by primary key;
2. the worst case: every first-response deadline has passed at once (the scheduler was down for a week): one sweep
   records ``--tickets`` breaches (history rows, outbox events, timestamps), against the bare cost of writing that
   many ticket history rows with ``bulk_create`` in the same run;
3. the warnings of the resolution clocks all due within the warning lead at once, the same way.

    export DATABASE_URL=$(scripts/pg-throwaway start 54415)   # or DESKLOOP_VAR_DIR=... for SQLite
    .venv/bin/python bench/sla_sweep.py --tickets 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, Timing, database_label, format_table, measure, setup_django

BATCH = 5000


def build(slug: str, tickets: int, seed: int) -> tuple[object, dt.datetime]:
    from django.db import transaction
    from django.utils import timezone

    from deskloop.accounts.services import create_workspace
    from deskloop.customers.services import find_or_create_contact
    from deskloop.service_levels.models import SlaMetric, SlaPolicy, SlaTarget
    from deskloop.tickets.models import StatusCategory, Ticket
    from deskloop.tickets.queries import default_status
    from deskloop.tickets.services.setup import install_workspace_defaults

    rng = random.Random(seed)
    workspace = create_workspace(name="SLA sweep bench", slug=slug)
    install_workspace_defaults(workspace=workspace)
    policy = SlaPolicy.objects.create(
        workspace=workspace, name="Bench", first_response_minutes=240, resolution_minutes=7 * 24 * 60
    )
    status = default_status(workspace.pk, StatusCategory.OPEN)
    contacts = [
        find_or_create_contact(workspace=workspace, email=f"c{i}@customers.example", name=f"C {i}") for i in range(500)
    ]
    now = timezone.now().replace(second=0, microsecond=0)
    week = 7 * 24 * 60
    with transaction.atomic():
        for done in range(0, tickets, BATCH):
            rows = [
                Ticket(
                    workspace=workspace,
                    number=done + i + 1,
                    subject=f"Bench ticket {done + i + 1}",
                    status=status,
                    requester=rng.choice(contacts),
                    created_at=now,
                    updated_at=now,
                )
                for i in range(min(BATCH, tickets - done))
            ]
            made = Ticket.objects.bulk_create(rows)
            clocks = []
            for ticket in made:
                for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
                    clocks.append(
                        SlaTarget(
                            workspace=workspace,
                            ticket=ticket,
                            policy=policy,
                            metric=metric,
                            started_at=now,
                            target_minutes=240,
                            # At least 31 minutes ahead: nothing is due before the timed sweeps move the deadlines.
                            due_at=now + dt.timedelta(minutes=rng.randint(31, week)),
                        )
                    )
            SlaTarget.objects.bulk_create(clocks, batch_size=2000)
            print(f"tickets: {done + len(made)}", flush=True)
    return workspace, now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from deskloop.service_levels.models import SlaMetric, SlaTarget
    from deskloop.service_levels.sweep import sweep
    from deskloop.tickets.models import EventKind, Ticket, TicketEvent

    call_command("migrate", verbosity=0)
    slug = f"sla-sweep-{int(time.time())}"
    started = time.perf_counter()
    workspace, now = build(slug, args.tickets, args.seed)
    print(f"built in {time.perf_counter() - started:.0f} s on {database_label()}", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    ids = list(Ticket.objects.filter(workspace=workspace).values_list("pk", flat=True)[:500])
    by_pk = measure(
        "ticket by primary key", lambda i: Ticket.objects.get(pk=ids[i % len(ids)]), iterations=200, max_seconds=10
    )
    # Steady state: each run is a minute later, so each finds the clocks that came due in that minute.
    minute = iter(range(10_000))
    steady = measure(
        "sweep, one minute's due clocks",
        lambda _i: sweep(now=now + dt.timedelta(minutes=next(minute))),
        iterations=args.iterations,
        max_seconds=60,
    )
    results = [Result(f"sweep every minute, {args.tickets:,} open tickets", steady, by_pk)]

    def history_rows() -> float:
        """The baseline: the history rows a full breach sweep writes, bulk-inserted, then rolled back."""
        sample = ids * (args.tickets // len(ids) + 1)
        rows = [
            TicketEvent(workspace=workspace, ticket_id=pk, kind=EventKind.SLA_BREACHED, new_value={"metric": "x"})
            for pk in sample[: args.tickets]
        ]
        begun = time.perf_counter()
        with transaction.atomic():
            TicketEvent.objects.bulk_create(rows, batch_size=2000)
            transaction.set_rollback(True)
        return (time.perf_counter() - begun) * 1000

    baseline_ms = history_rows()
    baseline = Timing(f"bulk_create {args.tickets:,} history rows", [baseline_ms])
    running = SlaTarget.objects.filter(ticket__workspace=workspace, stopped_at__isnull=True)
    running.filter(metric=SlaMetric.FIRST_RESPONSE).update(due_at=now - dt.timedelta(minutes=5))
    began = time.perf_counter()
    breached = sweep(now=now)
    breach_ms = (time.perf_counter() - began) * 1000
    results.append(Result(f"sweep recording {breached:,} breaches at once", Timing("breaches", [breach_ms]), baseline))
    running.filter(metric=SlaMetric.RESOLUTION).update(due_at=now + dt.timedelta(minutes=10))
    began = time.perf_counter()
    warned = sweep(now=now)
    warn_ms = (time.perf_counter() - began) * 1000
    results.append(Result(f"sweep recording {warned:,} warnings at once", Timing("warnings", [warn_ms]), baseline))
    print(format_table(results))


if __name__ == "__main__":
    main()
