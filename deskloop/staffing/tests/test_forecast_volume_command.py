"""`python manage.py forecast_volume` as a planner runs it: the bank's CSV in, an hourly forecast CSV out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from deskloop.staffing import volume_csv
from deskloop.staffing.forecasting import forecast
from deskloop.staffing.tests.bank_calls import BANK_CALLS, bank_calls

REPO = Path(__file__).resolve().parents[3]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_forecast_from_the_end_of_the_bank_history(tmp_path: Path) -> None:
    out = tmp_path / "forecast.csv"
    err = io.StringIO()
    call_command(
        "forecast_volume", "--history", str(BANK_CALLS), "--horizon-days", "28", "--output", str(out), stderr=err
    )
    rows = _rows(out)
    assert rows[0] == ["hour_start", "forecast"]
    assert len(rows) == 1 + 28 * 24
    # The history ends on Thursday 21 August 2003 at 21:05 (UTC as published): the forecast starts at 22:00.
    assert rows[1] == ["2003-08-21T22:00:00Z", "0.00"]
    expected = forecast(bank_calls(), dt.datetime(2003, 8, 21, 22), 28 * 24)
    assert [row[1] for row in rows[1:]] == [f"{value:.2f}" for value in expected]
    assert rows[11] == ["2003-08-22T08:00:00Z", f"{expected[10]:.2f}"]
    assert float(rows[11][1]) > 1000  # a Friday morning at the bank
    assert err.getvalue() == ""  # nothing held back, nothing to measure


def test_origin_inside_the_history_reports_mape_next_to_both_baselines(tmp_path: Path) -> None:
    out, report = io.StringIO(), tmp_path / "report.txt"
    call_command(
        "forecast_volume",
        "--history",
        str(BANK_CALLS),
        "--horizon-days",
        "28",
        "--origin",
        "2003-07-21",
        "--report",
        str(report),
        stdout=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][0] == "2003-07-21T00:00:00Z"
    assert rows[8] == ["2003-07-21T07:00:00Z", "907.33"]
    assert report.read_text(encoding="utf-8").splitlines() == [
        "origin 2003-07-21T00:00:00: 672 hours held back, 300 with volume (MAPE is the mean over those hours only)",
        "forecast           MAPE 6.105 %",
        "seasonal_naive     MAPE 7.215 %  (the last week before the origin, repeated)",
        "same_weekday_mean  MAPE 6.668 %  (mean of the last 4 same weekdays)",
    ]


def test_hourly_history_without_offsets_and_other_column_names(tmp_path: Path) -> None:
    history = tmp_path / "tickets.csv"
    lines = ["hour,tickets,note"]
    start = dt.datetime(2026, 1, 5)  # a Monday
    for day in range(28):
        for hour in (9, 10):
            lines.append(f"{(start + dt.timedelta(days=day, hours=hour)).isoformat()},{hour},x")
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command("forecast_volume", "--history", str(history), "--horizon-days", "1", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1] == ["2026-02-01T11:00:00", "0.00"]  # the end of history: Sunday 1 February 11:00
    assert len(rows) == 1 + 24
    assert rows[23] == ["2026-02-02T09:00:00", "9.00"]  # Monday 09:00: nine tickets every day
    assert rows[24] == ["2026-02-02T10:00:00", "10.00"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("DateTime,Calls\n2003-03-03T07:00:00Z,111\nnot a time,3\n2003-03-03T07:10:00Z,-4\n", "line 3:"),
        ("DateTime,Calls\n2003-03-03T07:00:00Z,111\nnot a time,3\n2003-03-03T07:10:00Z,-4\n", "line 4:"),
        ("DateTime,Calls\n2003-03-03T07:00:00Z,1.5\n", "line 2:"),
        ("DateTime,Calls\n", "no data rows"),
        ("", "header row"),
        ("DateTime,Calls\n2003-03-03T07:00:00Z,1\n2003-03-03T08:00:00,1\n", "one form"),
        ("DateTime,Calls\n2003-03-03T07:00:00,1\n2009-03-03T08:00:00,1\n", "at most 1830"),
    ],
)
def test_bad_history_is_refused_with_exit_code_2_and_nothing_written(
    tmp_path: Path, content: str, message: str
) -> None:
    history, out = tmp_path / "history.csv", tmp_path / "forecast.csv"
    history.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message) as refused:
        call_command("forecast_volume", "--history", str(history), "--horizon-days", "7", "--output", str(out))
    assert refused.value.returncode == 2
    assert not out.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--horizon-days", "0"], "from 1 to 92"),
        (["--horizon-days", "93"], "from 1 to 92"),
        (["--horizon-days", "two"], "from 1 to 92"),
        (["--horizon-days", "7", "--origin", "yesterday"], "not an ISO 8601"),
        (["--horizon-days", "7", "--origin", "2003-03-01"], "not after the history's first hour"),
    ],
)
def test_bad_arguments_are_refused_with_exit_code_2(arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as refused:
        call_command("forecast_volume", "--history", str(BANK_CALLS), *arguments)
    assert refused.value.returncode == 2


def test_the_shell_sees_exit_code_2_and_the_line_at_fault(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("DateTime,Calls\n2003-03-03T07:00:00Z,many\n", encoding="utf-8")
    done = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "forecast_volume", "--history", str(history), "--horizon-days", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "line 2: expected an ISO 8601 timestamp and a whole count >= 0, got ['2003-03-03T07:00:00Z', 'many']" in (
        done.stderr
    )
    assert done.stdout == ""


def test_a_history_longer_than_the_row_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(volume_csv, "MAX_ROWS", 3)
    history = tmp_path / "history.csv"
    history.write_text("DateTime,Calls\n" + "".join(f"2003-03-03T0{h}:00:00Z,1\n" for h in range(4)), encoding="utf-8")
    with pytest.raises(CommandError, match="more than 3 rows") as refused:
        call_command("forecast_volume", "--history", str(history), "--horizon-days", "1")
    assert refused.value.returncode == 2
