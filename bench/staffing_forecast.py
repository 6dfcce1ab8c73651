"""Staffing forecast quality on a real call centre: hourly MAPE of the forecaster (deskloop/staffing/forecasting.py)
against seasonal-naive and the mean of the last 4 same weekdays, over every weekly origin of the bank-calls series.

    python bench/staffing_forecast.py                     # the repository's series, markdown table on stdout
    python bench/staffing_forecast.py --history FILE      # another timestamp,count CSV (e.g. with later weeks)

Each origin is a Monday 00:00 with at least 4 weeks of history before it and `--weeks` (4) weeks after it in the
file; the forecast is made from the hours before the origin only and scored on the held-back hours with volume.
The parameters were chosen on the first TUNING_ORIGINS origins; the rows after them are out of sample.
No Django and no database: the forecaster is pure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO
from deskloop.staffing.forecasting import Evaluation, evaluate, weekly_origins
from deskloop.staffing.volume_csv import read_history

BANK_CALLS = REPO / "testdata" / "demand" / "bank-calls" / "calls_5min_dev.csv"
TUNING_ORIGINS = 9


def run(history: Path, weeks: int) -> list[Evaluation]:
    with history.open(encoding="utf-8-sig", newline="") as handle:
        series = read_history(handle).series
    return [evaluate(series, origin, weeks * 7 * 24) for origin in weekly_origins(series, held_back_weeks=weeks)]


def _value(value: float | None) -> float:
    return float("nan") if value is None else value


def table(results: list[Evaluation]) -> str:
    lines = [
        "| origin | part | hours with volume | forecast MAPE % | seasonal-naive MAPE % | same-weekday-mean MAPE % "
        "| beats both |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for index, result in enumerate(results):
        method, naive, mean4 = (_value(result.method), _value(result.seasonal_naive), _value(result.same_weekday_mean))
        part = "tuning" if index < TUNING_ORIGINS else "test"
        beats = "yes" if method < naive and method < mean4 else "no"
        lines.append(
            f"| {result.origin:%Y-%m-%d} | {part} | {result.counted_hours} | {method:.3f} | {naive:.3f} | "
            f"{mean4:.3f} | {beats} |"
        )
    for label, chosen in (
        ("mean, tuning origins", results[:TUNING_ORIGINS]),
        ("mean, test origins", results[TUNING_ORIGINS:]),
        ("mean, all origins", results),
    ):
        if not chosen:
            continue
        means = [statistics.fmean(_value(getattr(r, name)) for r in chosen) for name in _COLUMNS]
        lines.append(f"| {label} | | | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} | |")
    wins_naive = sum(_value(r.method) < _value(r.seasonal_naive) for r in results)
    wins_mean = sum(_value(r.method) < _value(r.same_weekday_mean) for r in results)
    lines.append("")
    lines.append(
        f"Origins: {len(results)}; the forecast beats seasonal-naive on {wins_naive}, the same-weekday mean on "
        f"{wins_mean}, both on {sum(_value(r.method) < min(_value(r.seasonal_naive), _value(r.same_weekday_mean)) for r in results)}."
    )
    return "\n".join(lines)


_COLUMNS = ("method", "seasonal_naive", "same_weekday_mean")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=Path, default=BANK_CALLS)
    parser.add_argument("--weeks", type=int, default=4, help="Weeks held back after each origin.")
    options = parser.parse_args()
    print(table(run(options.history, options.weeks)))


if __name__ == "__main__":
    main()
