"""bench/help_center.py runs end to end (three iterations), so the benchmark cannot rot unnoticed."""

from __future__ import annotations

import pytest

from bench import help_center


@pytest.mark.django_db
def test_the_help_center_benchmark_measures_served_and_built_pages() -> None:
    results = help_center.run(iterations=3, max_seconds=30)
    assert [(r.name, r.measured.n, r.baseline.n) for r in results] == [
        ("help-center article page from the cache, GET as a visitor", 3, 3),
        ("help-center article page built (cache emptied first)", 3, 3),
    ]
