"""Medians and 90th percentiles of ticket durations, the same on SQLite and PostgreSQL.

One definition, nearest rank: the p-th percentile of n values is the value at rank ceil(p * n / 100) in ascending
order (so the median of 10, 30, 60, 90 is 30, and of an odd count the middle value). It is always a value some
ticket had, which is what a drill-down can show; interpolating percentiles (PostgreSQL's percentile_cont) would
give numbers no ticket had.

Each percentile is an aggregate (``NearestRank``), so one grouped query summarizes every measure of a report in a
single pass over its tickets: PostgreSQL's ordered-set aggregate ``percentile_disc`` sorts each group's values once
per measure (the median and the p90 of one measure share that sort), and SQLite gets the same aggregate from
``register_on_sqlite``. The earlier design ranked every row with ROW_NUMBER() windows, one query and two full sorts
per measure; at a million tickets the times report took seconds (BENCHMARKS.md, "Reports at scale").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, Count, Expression, F, Q, QuerySet

PERCENTS = (50, 90)
SQLITE_FUNCTION = "deskloop_nearest_rank"
# PostgreSQL's percentile_disc takes the row at ceil(fraction * n) computed in double precision, where 0.9 * 70 is
# 63.000000000000007 and would pick rank 64. Every p * n / 100 is an integer or at least 0.01 away from the next
# one down, so taking the fraction this much smaller gives exactly ceil(p * n / 100) for any n below ten million.
_FRACTION_NUDGE = 1e-9


def nearest_rank(count: int, percent: int) -> int:
    """The 1-based rank of the ``percent``-th percentile among ``count`` sorted values."""
    return max(1, (count * percent + 99) // 100)


class NearestRank(Aggregate):
    """The ``percent``-th percentile (nearest rank) of an expression's non-null values in each group, with the
    expression's own type (whole business minutes, or a calendar duration)."""

    name = "NearestRank"
    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, value: Expression | F, percent: int, **extra: Any) -> None:
        if not 0 < percent <= 100:
            raise ValueError(f"a percentile is between 1 and 100, not {percent}")
        # The fraction is a number this module chose, never input, so it can be part of the SQL text.
        super().__init__(value, fraction=repr(percent / 100 - _FRACTION_NUDGE), percent=percent, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # On the copy's attributes, not as keyword arguments: Aggregate.as_sql passes its own ``template`` when it
        # adds a FILTER clause.
        on_sqlite = self.copy()
        on_sqlite.function = SQLITE_FUNCTION
        on_sqlite.template = "%(function)s(%(expressions)s, %(percent)d)"
        return on_sqlite.as_sql(compiler, connection, **extra_context)


class _NearestRankOnSqlite:
    """SQLite's side of ``NearestRank``: keeps a group's values and picks the rank when the group ends. SQLite
    serves small installations, so a group's values fit in memory (the report's range bounds them)."""

    def __init__(self) -> None:
        self.values: list[int | float] = []
        self.percent = 50

    def step(self, value: int | float | None, percent: int) -> None:
        if value is not None:
            self.values.append(value)
        self.percent = percent

    def finalize(self) -> int | float | None:
        if not self.values:
            return None
        self.values.sort()
        return self.values[nearest_rank(len(self.values), self.percent) - 1]


def register_on_sqlite(sender: object, connection: Any, **kwargs: object) -> None:
    """``connection_created`` receiver: teaches each new SQLite connection the aggregate ``NearestRank`` calls."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_FUNCTION, 2, _NearestRankOnSqlite)


@dataclass(frozen=True)
class Spread:
    """How many values a group had, and its median and 90th percentile in minutes (None when it had none)."""

    count: int = 0
    median: int | None = None
    p90: int | None = None


@dataclass(frozen=True)
class Measure:
    """One duration a report summarizes: its value per ticket, and which of the tickets it is about (``only``;
    None: all of them). Tickets whose value is null are left out: one not answered yet has no first response time."""

    key: str
    value: Expression | F
    only: Q | None = None


def _minutes(value: object) -> int | None:
    """Business minutes are stored as whole minutes; calendar durations come back as timedeltas (floored, as the
    business minutes are)."""
    if value is None or isinstance(value, int):
        return value
    assert isinstance(value, dt.timedelta)
    return int(value.total_seconds() // 60)


def spread_aggregates(measures: Sequence[Measure]) -> dict[str, Aggregate]:
    """The aggregates ``read_spreads`` reads back: for a grouped query that also computes other figures per group
    (agent performance counts tickets in the same pass)."""
    aggregates: dict[str, Aggregate] = {}
    for index, measure in enumerate(measures):
        aggregates[f"_n{index}"] = Count(measure.value, filter=measure.only)
        for percent in PERCENTS:
            aggregates[f"_p{percent}_{index}"] = NearestRank(measure.value, percent, filter=measure.only)
    return aggregates


def read_spreads(row: Mapping[str, Any], measures: Sequence[Measure]) -> dict[str, Spread]:
    """Each measure's ``Spread`` from a row of a query annotated with ``spread_aggregates(measures)``."""
    return {
        measure.key: Spread(
            count=row[f"_n{index}"], median=_minutes(row[f"_p50_{index}"]), p90=_minutes(row[f"_p90_{index}"])
        )
        for index, measure in enumerate(measures)
    }


def spreads(
    rows: QuerySet[Any], measures: Sequence[Measure], *, group: Expression | F | None = None
) -> dict[Hashable, dict[str, Spread]]:
    """The ``Spread`` of every measure over ``rows``, per value of ``group`` (groups without rows are absent), or
    keyed None over all of them without a group. One query either way."""
    aggregates = spread_aggregates(measures)
    if group is None:
        return {None: read_spreads(rows.aggregate(**aggregates), measures)}
    grouped = rows.annotate(_group=group).values("_group").annotate(**aggregates).order_by()
    return {row["_group"]: read_spreads(row, measures) for row in grouped}
