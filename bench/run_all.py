"""Run every benchmark against a generated workspace and print a Markdown table for BENCHMARKS.md.

    python bench/generate.py --tickets 100000 --workspace bench
    python bench/run_all.py --workspace bench

Each benchmark is bounded (--iterations and --max-seconds per measured operation) and reports p50/p95 and
the ratio to a baseline measured in the same run. Creation and email ingest run last: they add tickets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_create, bench_inbox, bench_search, bench_ticket_page, email_ingest
from bench.bench_context import BenchContext
from bench.common import Result, database_label, format_table, setup_django

BENCHMARKS = {
    "inbox": bench_inbox.run,
    "ticket_page": bench_ticket_page.run,
    "search": bench_search.run,
    "create": bench_create.run,
    # After creation: it adds tickets too (the first --iterations distinct files of testdata/email).
    "email_ingest": email_ingest.run,
}


def run_benchmarks(
    workspace_slug: str,
    *,
    iterations: int,
    max_seconds: float,
    only: list[str] | None = None,
    on_result: Callable[[list[Result]], None] | None = None,
) -> tuple[list[Result], list[str]]:
    """Results, plus a line per benchmark that could not run (reported, never silently dropped).

    ``on_result`` sees each benchmark's results as soon as they exist, so a long run that is stopped half-way
    still leaves what it measured."""
    context = BenchContext.load(workspace_slug)
    results: list[Result] = []
    failures: list[str] = []
    for name, benchmark in BENCHMARKS.items():
        if only and name not in only:
            continue
        try:
            measured = benchmark(context, iterations=iterations, max_seconds=max_seconds)
        except Exception as exc:
            failures.append(f"{name}: NOT MEASURED, {type(exc).__name__}: {str(exc)[:200]}")
            continue
        results.extend(measured)
        if on_result is not None:
            on_result(measured)
    return results, failures


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Deskloop's benchmarks.")
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--only", default="", help=f"Comma-separated subset of {', '.join(BENCHMARKS)}.")
    parser.add_argument("--json", help="Also write the raw samples here.")
    args = parser.parse_args()
    setup_django()
    from deskloop.accounts.models import Workspace
    from deskloop.tickets.models import Message, Ticket

    workspace = Workspace.objects.filter(slug=args.workspace).first()
    if workspace is None:
        sys.exit(f"No workspace '{args.workspace}': run bench/generate.py --workspace {args.workspace} first.")
    tickets = Ticket.objects.filter(workspace=workspace).count()
    messages = Message.objects.filter(workspace=workspace).count()
    started = time.monotonic()
    only = [name.strip() for name in args.only.split(",") if name.strip()]

    def progress(measured: list[Result]) -> None:
        # To stderr as it happens; the table on stdout comes at the end.
        for line in format_table(measured).splitlines()[2:]:
            print(f"[{time.monotonic() - started:.0f} s] {line}", file=sys.stderr, flush=True)

    results, failures = run_benchmarks(
        args.workspace, iterations=args.iterations, max_seconds=args.max_seconds, only=only, on_result=progress
    )
    print(
        f"{database_label()} | {tickets} tickets, {messages} messages in '{args.workspace}' | "
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()} | "
        f"{time.monotonic() - started:.0f} s"
    )
    print()
    print(format_table(results))
    for failure in failures:
        print(f"\n{failure}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    {"name": r.name, "samples_ms": r.measured.samples_ms, "baseline_ms": r.baseline.samples_ms}
                    for r in results
                ]
            )
        )


if __name__ == "__main__":
    main()
