"""The volume CSV `forecast_volume` reads and writes (pure, no Django).

In: a header row, then `timestamp,count` rows (the header's names are free: the bank file says `DateTime,Calls`;
the first two columns are read, further columns are ignored). Timestamps are ISO 8601; with an offset (or `Z`)
they are read in UTC, without one as the local clock they were written in. Counts are whole numbers >= 0.
Out: `hour_start,forecast`, one row per hour, timestamps in the form the history used.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from deskloop.staffing.forecasting import FloatArray, HourlySeries, hourly_series

MAX_ROWS = 2_000_000  # 5-minute rows of 19 years; the bank file has 20,280
MAX_SPAN_DAYS = 5 * 366  # longer histories are sliced by the caller, not read whole into memory
MAX_ROW_ERRORS = 5


class VolumeCsvError(ValueError):
    """The CSV cannot be read: the message names the line(s) and what is wrong."""


@dataclass(frozen=True)
class VolumeHistory:
    series: HourlySeries
    rows: int
    timestamps_in_utc: bool  # the history carried offsets: write the output as UTC with `Z`


def _timestamp(raw: str) -> tuple[dt.datetime, bool]:
    value = dt.datetime.fromisoformat(raw.strip())
    if value.tzinfo is None:
        return value, False
    return value.astimezone(dt.UTC).replace(tzinfo=None), True


def _count(raw: str) -> int:
    value = int(raw.strip())
    if value < 0:
        raise ValueError("negative")
    return value


def read_history(handle: TextIO) -> VolumeHistory:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None or len(header) < 2:
        raise VolumeCsvError("The file needs a header row with at least two columns: timestamp,count.")
    points: list[tuple[dt.datetime, int]] = []
    errors: list[str] = []
    offsets: set[bool] = set()
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(points) >= MAX_ROWS:
            raise VolumeCsvError(f"The file has more than {MAX_ROWS:,} rows; send a shorter history.")
        try:
            if len(row) < 2:
                raise ValueError("short")
            at, has_offset = _timestamp(row[0])
            count = _count(row[1])
        except ValueError:
            errors.append(
                f"line {reader.line_num}: expected an ISO 8601 timestamp and a whole count >= 0, got {row[:2]!r}"
            )
            if len(errors) >= MAX_ROW_ERRORS:
                break
            continue
        offsets.add(has_offset)
        points.append((at, count))
    if errors:
        raise VolumeCsvError("Rows that cannot be read (nothing was forecast):\n" + "\n".join(errors))
    if not points:
        raise VolumeCsvError("The file has no data rows.")
    if len(offsets) > 1:
        raise VolumeCsvError("Some timestamps carry a UTC offset and some do not: use one form for the whole file.")
    span = max(at for at, _ in points) - min(at for at, _ in points)
    if span > dt.timedelta(days=MAX_SPAN_DAYS):
        raise VolumeCsvError(f"The history spans {span.days} days; at most {MAX_SPAN_DAYS} are read.")
    return VolumeHistory(series=hourly_series(points), rows=len(points), timestamps_in_utc=offsets == {True})


def format_hour(hour: dt.datetime, *, in_utc: bool) -> str:
    return hour.isoformat() + ("Z" if in_utc else "")


def forecast_rows(origin: dt.datetime, values: FloatArray, *, in_utc: bool) -> Iterator[list[str]]:
    for offset, value in enumerate(np.asarray(values)):
        hour = origin + dt.timedelta(hours=offset)
        yield [format_hour(hour, in_utc=in_utc), f"{float(value):.2f}"]


def write_forecast(handle: TextIO, rows: Iterable[list[str]]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["hour_start", "forecast"])
    writer.writerows(rows)
