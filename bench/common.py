"""Shared benchmark plumbing: Django setup, bounded timing loops, percentiles and ratios.

House rule: every benchmark reports a ratio against a baseline measured in the same run on the same
database, so a number means something on another machine too.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Production settings (DEBUG off), the database chosen by DATABASE_URL (or SQLite under DESKLOOP_VAR_DIR)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskloop.config.settings")
    # The benchmark is one client hammering the API; the per-token limit would measure 429s instead.
    os.environ.setdefault("DESKLOOP_API_RATE_PER_MINUTE", "100000000")
    import django

    django.setup()


@dataclass(frozen=True)
class Timing:
    name: str
    samples_ms: list[float]

    @property
    def n(self) -> int:
        return len(self.samples_ms)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples_ms)
        if not ordered:
            return float("nan")
        # Nearest-rank percentile: p95 of 200 samples is the 190th slowest, an observed value.
        rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered) - 1e-9)))
        return ordered[rank - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else float("nan")

    @property
    def p95(self) -> float:
        return self.percentile(0.95)


@dataclass(frozen=True)
class Result:
    """One benchmark line: the operation, its baseline, and how many times slower than the baseline it is."""

    name: str
    measured: Timing
    baseline: Timing
    note: str = ""

    @property
    def ratio_p50(self) -> float:
        return self.measured.p50 / self.baseline.p50 if self.baseline.p50 else float("nan")

    @property
    def ratio_p95(self) -> float:
        return self.measured.p95 / self.baseline.p95 if self.baseline.p95 else float("nan")


def measure(
    name: str, operation: Callable[[int], object], *, iterations: int, max_seconds: float, warmup: int = 3
) -> Timing:
    """Run ``operation(i)`` up to ``iterations`` times or until ``max_seconds`` pass (bounded either way)."""
    for index in range(warmup):
        operation(-1 - index)
    samples: list[float] = []
    deadline = time.perf_counter() + max_seconds
    for index in range(iterations):
        started = time.perf_counter()
        operation(index)
        samples.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    return Timing(name=name, samples_ms=samples)


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def format_table(results: list[Result]) -> str:
    lines = [
        "| benchmark | n | p50 ms | p95 ms | baseline | baseline p50 ms | baseline p95 ms | ratio p50 | ratio p95 |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        name = f"{r.name} ({r.note})" if r.note else r.name
        lines.append(
            f"| {name} | {r.measured.n} | {r.measured.p50:.2f} | {r.measured.p95:.2f} | {r.baseline.name} "
            f"| {r.baseline.p50:.3f} | {r.baseline.p95:.3f} | {r.ratio_p50:.1f}x | {r.ratio_p95:.1f}x |"
        )
    return "\n".join(lines)
