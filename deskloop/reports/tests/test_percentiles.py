"""The nearest-rank median and p90 on the database the suite runs on, against the definition written in Python.

PostgreSQL computes them with percentile_disc and SQLite with Deskloop's own aggregate; both must give the value at
rank ceil(p * n / 100) for every count, including those where double precision rounds 0.9 * n up (n = 70).
"""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
from django.db.models import DurationField, ExpressionWrapper, F, Q

from deskloop.conftest import Cast
from deskloop.reports.percentiles import Measure, NearestRank, Spread, nearest_rank, spreads
from deskloop.tickets.models import Priority, Ticket

COUNTS = (1, 2, 3, 10, 11, 70, 99, 101)


def _reference(values: list[int], percent: int) -> int:
    return sorted(values)[nearest_rank(len(values), percent) - 1]


def test_nearest_rank_by_hand() -> None:
    assert [nearest_rank(4, 50), nearest_rank(4, 90), nearest_rank(5, 50), nearest_rank(70, 90)] == [2, 4, 3, 63]


def _tickets(cast: Cast, groups: dict[str, list[int]]) -> None:
    """Copies of the cast's ticket, one per value: business minutes ``value``, a first response ``value`` minutes
    and 30 seconds after creation, and the priority naming the group."""
    created = cast.ticket.created_at
    copies = []
    for number, (priority, value) in enumerate(
        ((priority, value) for priority, values in groups.items() for value in values), start=1000
    ):
        ticket = copy.copy(cast.ticket)
        ticket.pk = None
        ticket.number = number
        ticket.priority = priority
        ticket.first_response_business_minutes = value
        ticket.first_response_at = created + dt.timedelta(minutes=value, seconds=30)
        copies.append(ticket)
    Ticket.objects.bulk_create(copies)


def test_every_count_gets_the_value_at_its_rank_per_group_and_in_total(acme: Cast) -> None:
    shuffle = random.Random(12)
    sizes = dict(zip(Priority.values, (70, 11, 99, 1), strict=True))
    groups = {priority: shuffle.sample(range(5000), size) for priority, size in sizes.items()}
    _tickets(acme, groups)
    rows = Ticket.objects.filter(workspace=acme.workspace, number__gte=1000)
    calendar = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    measures = [Measure("business", F("first_response_business_minutes")), Measure("calendar", calendar)]

    def expected(values: list[int]) -> Spread:
        return Spread(count=len(values), median=_reference(values, 50), p90=_reference(values, 90))

    per_priority = spreads(rows, measures, group=F("priority"))
    # Calendar durations are floored to whole minutes: the 30 seconds drop.
    assert per_priority == {
        priority: {"business": expected(values), "calendar": expected(values)} for priority, values in groups.items()
    }
    everything = [value for values in groups.values() for value in values]
    assert spreads(rows, measures) == {None: {"business": expected(everything), "calendar": expected(everything)}}


def test_each_count_alone(acme: Cast) -> None:
    values = random.Random(7).sample(range(100_000), max(COUNTS))
    _tickets(acme, {Priority.NORMAL: values})
    rows = Ticket.objects.filter(workspace=acme.workspace, number__gte=1000)
    for count in COUNTS:
        subset = rows.filter(number__lt=1000 + count)
        found = subset.aggregate(
            median=NearestRank(F("first_response_business_minutes"), 50),
            p90=NearestRank(F("first_response_business_minutes"), 90),
        )
        assert found == {"median": _reference(values[:count], 50), "p90": _reference(values[:count], 90)}, count


def test_a_measure_counts_only_its_tickets_and_skips_missing_values(acme: Cast) -> None:
    _tickets(acme, {Priority.NORMAL: [10, 20, 30, 40], Priority.HIGH: [500, 600]})
    rows = Ticket.objects.filter(workspace=acme.workspace, number__gte=1000)
    rows.filter(first_response_business_minutes=40).update(first_response_business_minutes=None)
    measures = [
        Measure("all", F("first_response_business_minutes")),
        Measure("urgent only", F("first_response_business_minutes"), Q(priority=Priority.URGENT)),
        Measure("high only", F("first_response_business_minutes"), Q(priority=Priority.HIGH)),
    ]
    assert spreads(rows, measures) == {
        None: {
            "all": Spread(count=5, median=30, p90=600),
            "urgent only": Spread(),
            "high only": Spread(count=2, median=500, p90=600),
        }
    }
    assert spreads(rows.none(), measures) == {None: {"all": Spread(), "urgent only": Spread(), "high only": Spread()}}


@pytest.mark.parametrize("percent", [0, 101])
def test_a_percentile_is_between_1_and_100(percent: int) -> None:
    with pytest.raises(ValueError, match=f"^a percentile is between 1 and 100, not {percent}$"):
        NearestRank(F("first_response_business_minutes"), percent)
