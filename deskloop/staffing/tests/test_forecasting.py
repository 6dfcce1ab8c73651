"""The staffing forecaster on a real call centre's volume (bank-calls, 120 weekdays of 2003), against both baselines.

Figures were computed once with the shipped parameters; one hour is checked by hand below: Monday 2003-07-14
07:00-08:00 holds the twelve five-minute rows 63+48+45+48+45+56+69+60+59+63+77+73 = 706 calls.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from deskloop.staffing.forecasting import (
    evaluate,
    forecast,
    hourly_series,
    mape,
    same_weekday_mean,
    seasonal_naive,
    weekly_origins,
)
from deskloop.staffing.tests.bank_calls import bank_calls

FOUR_WEEKS = 28 * 24


def test_five_minute_rows_add_up_to_hours() -> None:
    series = bank_calls()
    assert series.start == dt.datetime(2003, 3, 3, 7)
    assert series.end == dt.datetime(2003, 8, 21, 22)
    assert series.window(dt.datetime(2003, 7, 14, 7), 1).tolist() == [706.0]
    # Seasonal naive for the next Monday 07:00 is that same hour, a week later.
    assert seasonal_naive(series, dt.datetime(2003, 7, 21), 8)[7] == 706.0


def test_one_held_back_hour_checked_by_hand() -> None:
    # Monday 21 July 2003 07:00-08:00 had 772 calls. Seasonal naive says 706 (the Monday before); the mean of the
    # last 4 Mondays at 07:00 is (706 + 966 + 994 + 788) / 4 = 863.5. Their errors: 66/772 and 91.5/772.
    series, origin = bank_calls(), dt.datetime(2003, 7, 21)
    actual = series.window(origin, 8)
    assert actual[7] == 772.0
    assert seasonal_naive(series, origin, 8)[7] == 706.0
    assert same_weekday_mean(series, origin, 8)[7] == 863.5
    assert round(forecast(series, origin, 8)[7], 2) == 907.33
    hour = slice(7, 8)
    assert round(mape(seasonal_naive(series, origin, 8)[hour], actual[hour]) or 0, 3) == round(66 / 772 * 100, 3)
    assert round(mape(same_weekday_mean(series, origin, 8)[hour], actual[hour]) or 0, 3) == round(91.5 / 772 * 100, 3)


@pytest.mark.parametrize(
    ("origin", "counted_hours", "method", "naive", "weekday_mean"),
    [
        (dt.datetime(2003, 4, 28), 300, 5.307, 6.523, 6.988),  # 20 weekdays x 15 open hours (07:00-21:05)
        (dt.datetime(2003, 6, 16), 285, 6.707, 10.323, 6.944),  # 4 July had no calls: its hours are not counted
        (dt.datetime(2003, 7, 21), 300, 6.105, 7.215, 6.668),
    ],
)
def test_four_held_back_weeks_mape_beats_both_baselines(
    origin: dt.datetime, counted_hours: int, method: float, naive: float, weekday_mean: float
) -> None:
    result = evaluate(bank_calls(), origin, FOUR_WEEKS)
    assert result.counted_hours == counted_hours
    assert (round(result.method or 0, 3), round(result.seasonal_naive or 0, 3)) == (method, naive)
    assert round(result.same_weekday_mean or 0, 3) == weekday_mean
    assert method < naive
    assert method < weekday_mean


def test_beats_both_baselines_on_the_mean_and_most_weekly_origins() -> None:
    series = bank_calls()
    origins = weekly_origins(series)
    assert (origins[0], origins[-1], len(origins)) == (dt.datetime(2003, 3, 31), dt.datetime(2003, 7, 21), 17)
    results = [evaluate(series, origin, FOUR_WEEKS) for origin in origins]
    method = np.array([r.method for r in results], dtype=float)
    naive = np.array([r.seasonal_naive for r in results], dtype=float)
    weekday_mean = np.array([r.same_weekday_mean for r in results], dtype=float)
    assert [round(float(x.mean()), 3) for x in (method, naive, weekday_mean)] == [7.226, 9.372, 7.752]
    assert int((method < naive).sum()) == 17
    assert int((method < weekday_mean).sum()) == 14


def test_closed_hours_and_days_forecast_nothing() -> None:
    series = bank_calls()
    saturday = forecast(series, dt.datetime(2003, 8, 23), 48)
    assert not saturday.any()
    monday = forecast(series, dt.datetime(2003, 8, 25), 24)
    assert not monday[:7].any()
    assert not monday[22:].any()
    assert (monday[7:22] > 0).all()


def test_mape_counts_only_hours_with_volume() -> None:
    actual = np.array([0.0, 100.0, 50.0, 0.0])
    predicted = np.array([5.0, 110.0, 40.0, 0.0])
    assert mape(predicted, actual) == pytest.approx(15.0)  # (10% + 20%) / 2: the closed hours are left out
    assert mape(predicted, np.zeros(4)) is None


def test_a_holiday_is_not_taken_as_the_weeks_pattern() -> None:
    # Three Mondays with 10 calls at 09:00; the last one is a holiday with no rows at all.
    points = [(dt.datetime(2026, 3, 2, 9), 10), (dt.datetime(2026, 3, 9, 9), 14), (dt.datetime(2026, 3, 13, 9), 3)]
    series = hourly_series(points)
    origin = dt.datetime(2026, 3, 23)  # Monday 16 March was closed
    assert seasonal_naive(series, origin, 24)[9] == 14.0
    assert same_weekday_mean(series, origin, 24)[9] == 12.0
    assert forecast(series, origin, 24)[9] > 0


def test_an_origin_inside_a_day_forecasts_from_that_hour() -> None:
    series = bank_calls()
    whole_day = forecast(series, dt.datetime(2003, 7, 21), 24)
    from_noon = forecast(series, dt.datetime(2003, 7, 21, 12), 12)
    assert from_noon.tolist() == whole_day[12:].tolist()


def test_a_history_ending_after_closing_time_counts_its_last_day() -> None:
    series = bank_calls()
    # The file ends at Thursday 21 August 21:05: from 22:00 on, Thursday is a whole day of history, so the
    # forecast from there equals the one made at midnight.
    from_end = forecast(series, series.end, 26)
    from_midnight = forecast(series, dt.datetime(2003, 8, 22), 24)
    assert from_end[:2].tolist() == [0.0, 0.0]
    assert from_end[2:].tolist() == from_midnight.tolist()
