"""Forecast hourly volume from a CSV history with the forecaster the staffing page uses (staffing/forecasting.py).

    python manage.py forecast_volume --history calls.csv --horizon-days 28 [--origin 2003-07-21] [--output out.csv]

In: `timestamp,count` rows of any resolution (5 minutes, hours) after a header row whose names are free (the bank
file's `DateTime,Calls` works); they are summed into hours. Out: `hour_start,forecast`, one row per hour for
`--horizon-days` days from the origin (by default the end of the history), on stdout or `--output`.
With `--origin` inside the history, the hours after it are held back: the forecast is made from the hours before
it only, and the hourly MAPE against those actual hours (hours with volume only), next to the seasonal-naive and
same-weekday-mean baselines, goes to stderr or `--report`.
Limits: 2,000,000 rows, 5 years of history, 1..92 days ahead. Exit code 2 when the input cannot be used (nothing is
written then).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.staffing.forecasting import Evaluation, evaluate, floor_hour, forecast
from deskloop.staffing.volume_csv import VolumeCsvError, forecast_rows, read_history, write_forecast

MAX_HORIZON_DAYS = 92


def _horizon(raw: str) -> int:
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_HORIZON_DAYS:
        raise CommandError(f"--horizon-days must be a whole number from 1 to {MAX_HORIZON_DAYS}.", returncode=2)
    return days


def _origin(raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise CommandError(f"--origin {raw!r} is not an ISO 8601 date or time.", returncode=2) from exc
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return floor_hour(value)


def _percent(value: float | None) -> str:
    return "n/a (no hour with volume)" if value is None else f"{value:.3f} %"


def report_lines(result: Evaluation) -> list[str]:
    return [
        f"origin {result.origin.isoformat()}: {result.hours} hours held back, {result.counted_hours} with volume "
        "(MAPE is the mean over those hours only)",
        f"forecast           MAPE {_percent(result.method)}",
        f"seasonal_naive     MAPE {_percent(result.seasonal_naive)}  (the last week before the origin, repeated)",
        f"same_weekday_mean  MAPE {_percent(result.same_weekday_mean)}  (mean of the last 4 same weekdays)",
    ]


class Command(BaseCommand):
    help = "Forecast hourly volume from a timestamp,count CSV; with --origin inside the history, report MAPE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", required=True, help="CSV: header row, then timestamp,count rows.")
        parser.add_argument("--horizon-days", required=True, help=f"Days to forecast, 1..{MAX_HORIZON_DAYS}.")
        parser.add_argument("--origin", help="ISO date/time the forecast starts at (default: the end of history).")
        parser.add_argument("--output", help="Write the forecast CSV here instead of stdout.")
        parser.add_argument("--report", help="Write the MAPE report here instead of stderr.")

    def handle(self, *args: Any, **options: Any) -> None:
        horizon_hours = _horizon(options["horizon_days"]) * 24
        path = Path(options["history"])
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                history = read_history(handle)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        except VolumeCsvError as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        series = history.series
        origin = _origin(options["origin"]) if options["origin"] else series.end
        if origin <= series.start:
            raise CommandError(
                f"--origin {origin.isoformat()} is not after the history's first hour {series.start.isoformat()}.",
                returncode=2,
            )
        values = forecast(series, origin, horizon_hours)
        rows = forecast_rows(origin, values, in_utc=history.timestamps_in_utc)
        if options["output"]:
            try:
                with Path(options["output"]).open("w", encoding="utf-8", newline="") as out:
                    write_forecast(out, rows)
            except OSError as exc:
                raise CommandError(f"{options['output']}: {exc}", returncode=2) from exc
        else:
            write_forecast(getattr(self.stdout, "_out", sys.stdout), rows)
        if origin < series.end:
            held_back = min(horizon_hours, int((series.end - origin).total_seconds() // 3600))
            lines = report_lines(evaluate(series, origin, held_back))
            if options["report"]:
                Path(options["report"]).write_text("\n".join(lines) + "\n", encoding="utf-8")
            else:
                errors: TextIO = getattr(self.stderr, "_out", sys.stderr)
                errors.write("\n".join(lines) + "\n")
