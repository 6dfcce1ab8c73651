"""The real call-centre volume the staffing forecast is measured on (testdata/demand/bank-calls in the repository)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from deskloop.staffing.forecasting import HourlySeries
from deskloop.staffing.volume_csv import read_history

BANK_CALLS = Path(__file__).resolve().parents[3] / "testdata" / "demand" / "bank-calls" / "calls_5min_dev.csv"


@cache
def _series() -> HourlySeries:
    with BANK_CALLS.open(encoding="utf-8", newline="") as handle:
        return read_history(handle).series


def bank_calls() -> HourlySeries:
    if not BANK_CALLS.exists():
        pytest.fail(f"The bank-calls series is missing at {BANK_CALLS} (testdata/demand/bank-calls in the repository).")
    return _series()
