"""Confidence intervals for the deflection report: a proportion (Wilson score) and a difference of two independent
proportions (Newcombe's hybrid score method, "method 10" of Newcombe 1998, Statistics in Medicine 17:873-890).

Both stay inside [0, 1] (resp. [-1, 1]) and behave at 0 or n successes and with small arms, where the textbook
normal approximation does not: a holdout of 10% is often a few dozen sessions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The two-sided 95% normal quantile.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def scaled(self, factor: float) -> Interval:
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)


def wilson(successes: int, trials: int, z: float = Z95) -> Interval | None:
    """The Wilson score interval of ``successes / trials``; None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # Rounding can push an endpoint a hair past the estimate at 0 or n successes.
    return Interval(p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def newcombe_difference(
    successes_1: int, trials_1: int, successes_2: int, trials_2: int, z: float = Z95
) -> Interval | None:
    """The difference ``p1 - p2`` with Newcombe's hybrid score interval (from the two Wilson intervals); None
    when either arm is empty."""
    first, second = wilson(successes_1, trials_1, z), wilson(successes_2, trials_2, z)
    if first is None or second is None:
        return None
    difference = first.estimate - second.estimate
    low = difference - math.hypot(first.estimate - first.low, second.high - second.estimate)
    high = difference + math.hypot(first.high - first.estimate, second.estimate - second.low)
    return Interval(difference, low, high)
