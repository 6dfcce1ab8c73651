"""bench/staffing_forecast.py runs end to end on the repository's bank-calls series (under a second: no database)."""

from __future__ import annotations

from bench.staffing_forecast import BANK_CALLS, run, table


def test_the_benchmark_table_reports_every_weekly_origin() -> None:
    results = run(BANK_CALLS, 4)
    report = table(results)
    assert len(results) == 17
    assert "| mean, all origins | | | 7.226 | 9.372 | 7.752 | |" in report
    assert report.endswith("the forecast beats seasonal-naive on 17, the same-weekday mean on 14, both on 14.")
