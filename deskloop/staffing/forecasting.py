"""Hourly volume forecast for staffing: one forecaster for the product's own tickets and `forecast_volume`'s CSV.

Pure (numpy, no Django). Times are naive wall-clock datetimes in the place the volume happens (the workspace's
time zone, the call centre's clock): the weekly pattern follows the local clock, so it is forecast in it.

The model is multiplicative: forecast(day, hour) = day level x intraday profile(weekday, hour).
- profile: the share of the day's volume in each hour, the mean over the last PROFILE_DAYS open days of that
  weekday (the shape of a day is stable, so it is averaged over more weeks than the level);
- day level: exponentially weighted means of the recent open days, each day divided by its weekday factor (the
  mean total of the last WEEKDAY_FACTOR_DAYS open days of its weekday) and by its business-day-of-month factor;
  the mean of those levels over several memories (LEVEL_ALPHAS) times the forecast day's own two factors;
- business-day-of-month factor: bank and billing volume rises on the first business days of a month; the mean
  ratio of days in business day 1, 2, 3 of their month to the other days, from the history (1 when the history
  has too few month starts to say).
A day with no volume at all in the history (a holiday, a gap in the data) is closed: it is left out of every
estimate instead of being taken as the pattern. A weekday (or hour) that never had volume is forecast as 0.

The parameters were chosen on the early origins of the bank-calls series only (rolling weekly origins, four
held-back weeks each) and checked on the later ones: BENCHMARKS.md "Staffing forecast (bank-calls)".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

HOURS_PER_DAY = 24
PROFILE_DAYS = 16
WEEKDAY_FACTOR_DAYS = 4
# Memories of the level (weight per open day back): their mean, instead of betting on one.
LEVEL_ALPHAS = (0.6, 0.7, 0.8, 0.9, 0.95)
LEVEL_DAYS = 60
MONTH_START_BUSINESS_DAYS = 3
# Below this many observed days per month-start bucket the factor is noise: leave it at 1.
MONTH_START_MIN_DAYS = 2
BASELINE_WEEKS = 4


@dataclass(frozen=True)
class HourlySeries:
    """Volume per hour from `start` (a naive local hour), one value per consecutive hour."""

    start: dt.datetime
    counts: FloatArray

    @property
    def end(self) -> dt.datetime:
        """The first hour after the series."""
        return self.start + dt.timedelta(hours=len(self.counts))

    def hours(self) -> list[dt.datetime]:
        return [self.start + dt.timedelta(hours=i) for i in range(len(self.counts))]

    def window(self, start: dt.datetime, hours: int) -> FloatArray:
        """Counts of the hours [start, start + hours); hours outside the series count 0."""
        out = np.zeros(hours)
        offset = _hours_between(self.start, start)
        lo, hi = max(0, offset), min(len(self.counts), offset + hours)
        if lo < hi:
            out[lo - offset : hi - offset] = self.counts[lo:hi]
        return out


def floor_hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _hours_between(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds() // 3600)


def hourly_series(points: Iterable[tuple[dt.datetime, float]]) -> HourlySeries:
    """Sum (naive local timestamp, count) points of any resolution into hours; hours without points count 0."""
    by_hour: dict[dt.datetime, float] = {}
    for at, count in points:
        hour = floor_hour(at)
        by_hour[hour] = by_hour.get(hour, 0.0) + float(count)
    if not by_hour:
        raise ValueError("The history is empty.")
    start = min(by_hour)
    counts = np.zeros(_hours_between(start, max(by_hour)) + 1)
    for hour, count in by_hour.items():
        counts[_hours_between(start, hour)] = count
    return HourlySeries(start=start, counts=counts)


@dataclass(frozen=True)
class _Days:
    """The complete days of history before the origin's date: a day x hour matrix and what each day is."""

    first: dt.date
    matrix: FloatArray
    totals: FloatArray

    def date(self, index: int) -> dt.date:
        return self.first + dt.timedelta(days=index)

    def open_days(self, weekday: int | None = None, limit: int | None = None) -> list[int]:
        """Indexes of days with volume (most recent first), of one weekday when given."""
        totals = self.totals
        out: list[int] = []
        for index in range(len(totals) - 1, -1, -1):
            if totals[index] > 0 and (weekday is None or self.date(index).weekday() == weekday):
                out.append(index)
                if limit is not None and len(out) >= limit:
                    break
        return out


def _days_before(series: HourlySeries, origin: dt.datetime) -> _Days:
    """The whole days before the origin; the origin's own day too when its weekday never has volume after then.

    A history that ends at 21:05 of a centre open until 21:05 holds that whole day, so it counts (its hours from
    the origin on are never read).
    """
    first = series.start.date()
    day_count = (origin.date() - first).days
    if day_count < 0:
        return _Days(first=first, matrix=np.zeros((0, HOURS_PER_DAY)), totals=np.zeros(0))
    flat = series.window(dt.datetime.combine(first, dt.time()), (day_count + 1) * HOURS_PER_DAY)
    matrix = flat.reshape(day_count + 1, HOURS_PER_DAY)
    matrix[-1, origin.hour :] = 0
    whole = _Days(first=first, matrix=matrix[:-1], totals=matrix[:-1].sum(axis=1))
    if origin.hour == 0:
        return whole
    same_weekday = whole.open_days(origin.weekday(), limit=PROFILE_DAYS)
    if not same_weekday or whole.matrix[same_weekday][:, origin.hour :].any():
        return whole
    return _Days(first=first, matrix=matrix, totals=matrix.sum(axis=1))


def _forecast_days(origin: dt.datetime, horizon_hours: int) -> tuple[dt.datetime, int]:
    """The midnight of the origin's date and how many whole days cover [origin, origin + horizon)."""
    midnight = dt.datetime.combine(origin.date(), dt.time())
    span = _hours_between(midnight, origin) + horizon_hours
    return midnight, -(-span // HOURS_PER_DAY)


def _by_day(
    origin: dt.datetime, horizon_hours: int, day_values: dict[dt.date, FloatArray] | None, days: list[dt.date]
) -> FloatArray:
    midnight, _ = _forecast_days(origin, horizon_hours)
    flat = np.concatenate([(day_values or {}).get(day, np.zeros(HOURS_PER_DAY)) for day in days])
    skip = _hours_between(midnight, origin)
    return flat[skip : skip + horizon_hours]


def _dates_covered(origin: dt.datetime, horizon_hours: int) -> list[dt.date]:
    midnight, day_count = _forecast_days(origin, horizon_hours)
    return [midnight.date() + dt.timedelta(days=i) for i in range(day_count)]


def seasonal_naive(series: HourlySeries, origin: dt.datetime, horizon_hours: int) -> FloatArray:
    """Baseline: the last week before the origin, repeated (each weekday from its last open day)."""
    days = _days_before(series, origin)
    dates = _dates_covered(origin, horizon_hours)
    values: dict[dt.date, FloatArray] = {}
    for date in dates:
        last = days.open_days(date.weekday(), limit=1)
        values[date] = days.matrix[last[0]] if last else np.zeros(HOURS_PER_DAY)
    return _by_day(origin, horizon_hours, values, dates)


def same_weekday_mean(
    series: HourlySeries, origin: dt.datetime, horizon_hours: int, weeks: int = BASELINE_WEEKS
) -> FloatArray:
    """Baseline: per hour, the mean of the last `weeks` open days of the same weekday."""
    days = _days_before(series, origin)
    dates = _dates_covered(origin, horizon_hours)
    values: dict[dt.date, FloatArray] = {}
    for date in dates:
        last = days.open_days(date.weekday(), limit=weeks)
        values[date] = days.matrix[last].mean(axis=0) if last else np.zeros(HOURS_PER_DAY)
    return _by_day(origin, horizon_hours, values, dates)


def business_day_of_month(date: dt.date) -> int:
    """1 for the first Monday-Friday of the month, 2 for the second ...; a weekend day takes the count before it."""
    count = sum(1 for day in range(1, date.day + 1) if date.replace(day=day).weekday() < 5)
    return max(1, count)


def _month_start_bucket(date: dt.date) -> int:
    return min(business_day_of_month(date), MONTH_START_BUSINESS_DAYS + 1)


def _weekday_factors(days: _Days) -> dict[int, float]:
    factors: dict[int, float] = {}
    for weekday in range(7):
        recent = days.open_days(weekday, limit=WEEKDAY_FACTOR_DAYS)
        if recent:
            factors[weekday] = float(days.totals[recent].mean())
    return factors


def _month_start_factors(days: _Days, weekday_factors: dict[int, float]) -> dict[int, float]:
    """Volume on business day 1..3 of a month relative to the rest of the month, from the history."""
    ratios: dict[int, list[float]] = {}
    totals = days.totals
    for index in days.open_days():
        date = days.date(index)
        ratios.setdefault(_month_start_bucket(date), []).append(totals[index] / weekday_factors[date.weekday()])
    rest = ratios.get(MONTH_START_BUSINESS_DAYS + 1, [])
    if len(rest) < MONTH_START_MIN_DAYS:
        return {}
    rest_mean = float(np.mean(rest))
    return {
        bucket: float(np.mean(values)) / rest_mean
        for bucket, values in ratios.items()
        if bucket <= MONTH_START_BUSINESS_DAYS and len(values) >= MONTH_START_MIN_DAYS
    }


def _profiles(days: _Days) -> dict[int, FloatArray]:
    profiles: dict[int, FloatArray] = {}
    for weekday in range(7):
        recent = days.open_days(weekday, limit=PROFILE_DAYS)
        if recent:
            shares = days.matrix[recent] / days.totals[recent][:, None]
            profiles[weekday] = shares.mean(axis=0)
    return profiles


def forecast(series: HourlySeries, origin: dt.datetime, horizon_hours: int) -> FloatArray:
    """The forecast volume of each hour in [origin, origin + horizon_hours), from the complete days before it."""
    days = _days_before(series, origin)
    dates = _dates_covered(origin, horizon_hours)
    weekday_factors = _weekday_factors(days)
    if not weekday_factors:
        return np.zeros(horizon_hours)
    month_start = _month_start_factors(days, weekday_factors)

    def calendar_factor(date: dt.date) -> float:
        return weekday_factors.get(date.weekday(), 0.0) * month_start.get(_month_start_bucket(date), 1.0)

    recent = days.open_days(limit=LEVEL_DAYS)
    relative = np.array([days.totals[index] / calendar_factor(days.date(index)) for index in recent])
    levels = []
    for alpha in LEVEL_ALPHAS:
        weights = alpha ** np.arange(len(recent))
        levels.append(float((weights * relative).sum() / weights.sum()))
    level = float(np.mean(levels))
    profiles = _profiles(days)
    values = {
        date: level * calendar_factor(date) * profiles[date.weekday()] for date in dates if date.weekday() in profiles
    }
    return _by_day(origin, horizon_hours, values, dates)


def mape(forecast_values: FloatArray, actual: FloatArray) -> float | None:
    """Mean absolute percentage error (in %) over the hours whose actual volume is above 0.

    Hours with no actual volume (closed hours, holidays) have no percentage error and are left out; None when
    no hour had volume.
    """
    counted = actual > 0
    if not counted.any():
        return None
    errors = np.abs(forecast_values[counted] - actual[counted]) / actual[counted]
    return float(errors.mean() * 100)


@dataclass(frozen=True)
class Evaluation:
    """Hourly MAPE (%) of the forecaster and both baselines over the held-back hours after one origin."""

    origin: dt.datetime
    hours: int
    counted_hours: int
    method: float | None
    seasonal_naive: float | None
    same_weekday_mean: float | None


def evaluate(series: HourlySeries, origin: dt.datetime, horizon_hours: int) -> Evaluation:
    actual = series.window(origin, horizon_hours)
    return Evaluation(
        origin=origin,
        hours=horizon_hours,
        counted_hours=int((actual > 0).sum()),
        method=mape(forecast(series, origin, horizon_hours), actual),
        seasonal_naive=mape(seasonal_naive(series, origin, horizon_hours), actual),
        same_weekday_mean=mape(same_weekday_mean(series, origin, horizon_hours), actual),
    )


def weekly_origins(series: HourlySeries, *, held_back_weeks: int = 4, min_history_weeks: int = 4) -> list[dt.datetime]:
    """Every Monday midnight with `min_history_weeks` of history before it and `held_back_weeks` in the series after."""
    first = series.start.date()
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    origin = dt.datetime.combine(monday + dt.timedelta(weeks=min_history_weeks), dt.time())
    out: list[dt.datetime] = []
    while origin + dt.timedelta(weeks=held_back_weeks) <= series.end:
        out.append(origin)
        origin += dt.timedelta(weeks=1)
    return out
