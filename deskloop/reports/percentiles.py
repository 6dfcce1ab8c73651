"""Medians and 90th percentiles of a ticket duration, the same on SQLite and PostgreSQL.

One definition, nearest rank: the p-th percentile of n values is the value at rank ceil(p * n / 100) in ascending
order (so the median of 10, 30, 60, 90 is 30, and of an odd count the middle value). It is always a value some
ticket had, which is what a drill-down can show; interpolating percentiles (PostgreSQL's percentile_cont) would
give numbers no ticket had, and SQLite has none to compare with.

One query per call, in the ORM: ROW_NUMBER() and COUNT(*) over a window partitioned by the group, keeping only
the rows whose rank is the one each percentile needs, so the database sorts once and returns a few rows per group
instead of every duration (both databases have window functions; SQLite since 3.25).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Expression, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

PERCENTS = (50, 90)


@dataclass(frozen=True)
class Spread:
    """How many values a group had, and its median and 90th percentile in minutes (None when it had none)."""

    count: int = 0
    median: int | None = None
    p90: int | None = None


def _minutes(value: object) -> int:
    """Business minutes are stored as whole minutes; calendar durations come back as timedeltas (floored, as the
    business minutes are)."""
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds() // 60)
    assert isinstance(value, int)
    return value


def spreads(
    rows: QuerySet[Any], value: Expression | F, *, group: Expression | F | None = None, with_total: bool = False
) -> dict[Hashable, Spread]:
    """The ``Spread`` of ``value`` over ``rows`` per value of ``group``, and keyed None over all rows (without a
    group, or with ``with_total``: the same scan ranks the rows twice, so a report's "whole range" line costs no
    second query). Rows whose value is null are left out: a ticket not answered yet has no first response time."""
    ranked = rows.alias(_value=value).filter(_value__isnull=False).annotate(_v=F("_value"))
    windows: list[tuple[str, list[Expression | F]]] = []
    if group is not None:
        windows.append(("g", [group]))
    if group is None or with_total:
        windows.append(("t", []))
    wanted = Q()
    for name, partition in windows:
        ranked = ranked.annotate(
            **{
                f"_rank_{name}": Window(RowNumber(), partition_by=partition, order_by=F("_value").asc()),
                f"_n_{name}": Window(Count("pk"), partition_by=partition),
            }
        )
        for percent in PERCENTS:
            ranked = ranked.annotate(**{f"_k{percent}_{name}": (F(f"_n_{name}") * percent + 99) / 100})
            wanted |= Q(**{f"_rank_{name}": F(f"_k{percent}_{name}")})
    fields = ["_v"] + [f"_{kind}_{name}" for name, _p in windows for kind in ("rank", "n")]
    if group is not None:
        ranked = ranked.annotate(_group=group)
        fields.append("_group")
    found: dict[Hashable, dict[str, int]] = {}
    for row in ranked.filter(wanted).values(*fields):
        for name, _partition in windows:
            key = row["_group"] if name == "g" else None
            rank, count = row[f"_rank_{name}"], row[f"_n_{name}"]
            entry = found.setdefault(key, {"count": count})
            for percent in PERCENTS:
                if rank == (count * percent + 99) // 100:
                    entry[f"p{percent}"] = _minutes(row["_v"])
    return {
        key: Spread(count=entry["count"], median=entry.get("p50"), p90=entry.get("p90")) for key, entry in found.items()
    }
