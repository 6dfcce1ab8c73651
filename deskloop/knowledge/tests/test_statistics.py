"""The report's intervals against published values: Newcombe (1998) "Two-sided confidence intervals for the single
proportion" (Statistics in Medicine 17:857-872, Table I, method 3: Wilson) and "Interval estimation for the
difference between independent proportions" (17:873-890, Table II, method 10: hybrid score)."""

from __future__ import annotations

import pytest

from deskloop.knowledge.statistics import newcombe_difference, wilson


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombes_table(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson(successes, trials)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


@pytest.mark.parametrize(
    ("arms", "low", "high"),
    [
        ((56, 70, 48, 80), 0.0524, 0.3339),
        ((9, 10, 3, 10), 0.1705, 0.8090),
        ((6, 7, 2, 7), 0.0582, 0.8062),
        ((5, 56, 0, 29), -0.0381, 0.1926),
        ((0, 10, 0, 20), -0.1611, 0.2775),
        ((0, 10, 0, 10), -0.2775, 0.2775),
    ],
)
def test_difference_matches_newcombes_table(arms: tuple[int, int, int, int], low: float, high: float) -> None:
    interval = newcombe_difference(*arms)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_thirty_of_a_hundred_against_two_of_twenty_by_hand() -> None:
    """Wilson: 30/100 -> (0.219, 0.396), 2/20 -> (0.028, 0.301); the difference 0.200 with
    0.2 - sqrt((0.3-0.2189)^2 + (0.3010-0.1)^2) = -0.017 and 0.2 + sqrt((0.3958-0.3)^2 + (0.1-0.0279)^2) = 0.320."""
    interval = newcombe_difference(30, 100, 2, 20)
    assert interval is not None
    assert [round(v, 3) for v in (interval.estimate, interval.low, interval.high)] == [0.2, -0.017, 0.320]
    saved = interval.scaled(100)
    assert [round(v, 1) for v in (saved.estimate, saved.low, saved.high)] == [20.0, -1.7, 32.0]


def test_an_empty_arm_has_no_interval() -> None:
    assert wilson(0, 0) is None
    assert newcombe_difference(3, 10, 0, 0) is None
    with pytest.raises(ValueError, match="between"):
        wilson(5, 4)
