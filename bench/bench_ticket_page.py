"""The ticket page: GET /tickets/<number>/ as an agent through the real view (conversation, panels, history)."""

from __future__ import annotations

from bench.bench_context import BenchContext
from bench.common import Result, measure


def run(context: BenchContext, *, iterations: int = 200, max_seconds: float = 30.0) -> list[Result]:
    baseline = measure("ticket by primary key", context.pk_lookup, iterations=iterations, max_seconds=max_seconds)
    client = context.client()
    numbers = context.ticket_numbers

    def ticket_page(index: int) -> None:
        response = client.get(f"/tickets/{numbers[index % len(numbers)]}/")
        assert response.status_code == 200, response.status_code

    page = measure("GET /tickets/<n>/", ticket_page, iterations=iterations, max_seconds=max_seconds)
    return [Result("ticket page, GET /tickets/<n>/ as an agent", page, baseline)]
