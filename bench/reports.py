"""The manager's reports at scale: each report for a 90-day and a 365-day range, through the code the pages run
(queries, tables, charts), against a plain count of the tickets of the same range (the baseline).

Standalone (not in run_all.py): it reads a workspace made by ``generate.py`` (which writes the SLA targets,
business minutes, reopens and CSAT answers the reports read) and never writes.

    export DATABASE_URL=$(scripts/pg-throwaway start 54416)
    .venv/bin/python bench/generate.py --tickets 1000000 --workspace bench
    .venv/bin/python bench/reports.py --workspace bench

The ranges end at the newest ticket's day, so a workspace generated some time ago is measured on its own data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, database_label, format_table, measure, setup_django

if TYPE_CHECKING:
    from deskloop.reports.filters import ReportFilters

RANGES = (90, 365)


def reports(filters: ReportFilters) -> dict[str, Callable[[], object]]:
    """What each report page computes (its sections: queries, tables with links, the SVG chart)."""
    from deskloop.reports import pages
    from deskloop.reports.drilldown import Drill, drilled_tickets, for_listing

    def drill_page() -> object:
        found = drilled_tickets(filters, Drill(metric="solved"))
        return (found.count(), list(for_listing(found)[:50]))

    return {
        "volume by channel per week": lambda: pages.volume_sections(filters, dimension="channel", interval="week"),
        "volume by tag per week": lambda: pages.volume_sections(filters, dimension="tag", interval="week"),
        "volume by product area per month": lambda: pages.volume_sections(
            filters, dimension="product_area", interval="month"
        ),
        "first response and resolution times per week": lambda: pages.times_sections(filters, interval="week"),
        "SLA achievement": lambda: pages.sla_sections(filters),
        "backlog by age and status": lambda: pages.backlog_sections(filters),
        "agent performance": lambda: pages.agent_sections(filters),
        "top problems by product area": lambda: pages.problem_sections(filters),
        "drill-down page (solved, first 50 and count)": drill_page,
    }


def _count(filters: ReportFilters) -> int:
    from deskloop.reports.queries import live_tickets

    return live_tickets(filters).count()


def _call(operation: Callable[[], object]) -> Callable[[int], object]:
    return lambda _i: operation()


def run(
    workspace_slug: str, *, iterations: int = 20, max_seconds: float = 60.0, ranges: tuple[int, ...] = RANGES
) -> list[Result]:
    from django.db.models import Max
    from django.utils import translation

    from deskloop.accounts.models import Workspace
    from deskloop.reports.filters import parse_filters
    from deskloop.reports.queries import live_tickets
    from deskloop.tickets.models import Ticket

    translation.activate("en")
    workspace = Workspace.objects.get(slug=workspace_slug)
    newest = Ticket.objects.filter(workspace=workspace).aggregate(last=Max("created_at"))["last"]
    until = newest.date() if newest else dt.date.today()
    results: list[Result] = []
    for days in ranges:
        params = {"since": (until - dt.timedelta(days=days - 1)).isoformat(), "until": until.isoformat()}
        filters = parse_filters(workspace, params, today=until)
        tickets = live_tickets(filters).count()
        baseline = measure(
            f"COUNT(*) of the {days}-day range",
            _call(partial(_count, filters)),
            iterations=iterations,
            max_seconds=max_seconds,
        )
        for name, operation in reports(filters).items():
            timing = measure(name, _call(operation), iterations=iterations, max_seconds=max_seconds)
            result = Result(name=f"{name}, {days} days", measured=timing, baseline=baseline, note=f"{tickets} tickets")
            print(format_table([result]).splitlines()[-1], file=sys.stderr, flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--days", type=int, nargs="+", default=list(RANGES), help="the ranges to measure (days)")
    args = parser.parse_args()
    setup_django()
    from deskloop.tickets.models import Ticket

    total = Ticket.objects.filter(workspace__slug=args.workspace).count()
    print(f"{database_label()}, workspace '{args.workspace}' with {total} tickets")
    results = run(args.workspace, iterations=args.iterations, max_seconds=args.max_seconds, ranges=tuple(args.days))
    print(format_table(results))


if __name__ == "__main__":
    main()
