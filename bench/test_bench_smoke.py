"""The generator and every benchmark run end to end at N=200, so the bench code cannot rot unnoticed."""

from __future__ import annotations

import pytest

from bench.bench_context import BenchContext
from bench.common import format_table
from bench.generate import generate
from bench.run_all import BENCHMARKS


@pytest.mark.django_db
def test_generate_then_every_benchmark_runs() -> None:
    from deskloop.tickets.inbox import TicketFilter
    from deskloop.tickets.models import Ticket, TicketSearchDocument
    from deskloop.tickets.search import search_tickets

    report = generate(tickets=200, workspace_slug="smoke", batch_size=80)
    assert report.tickets == 200
    assert Ticket.objects.filter(workspace__slug="smoke").count() == 200
    assert TicketSearchDocument.objects.filter(workspace__slug="smoke").count() == 200
    assert list(
        Ticket.objects.filter(workspace__slug="smoke").order_by("number").values_list("number", flat=True)
    ) == list(range(1, 201))
    context = BenchContext.load("smoke")
    # The generated text is searchable: the first ticket's subject finds that ticket.
    first = Ticket.objects.get(workspace__slug="smoke", number=1)
    word = max(first.subject.split(), key=len).strip("?.,!")
    hits = search_tickets(agent=context.agent, query=f'"{word}"', ticket_filter=TicketFilter(view="all"), limit=100)
    assert first.pk in [hit.ticket.pk for hit in hits.hits] or first.merged_into_id is not None

    results = []
    for benchmark in BENCHMARKS.values():
        results.extend(benchmark(context, iterations=3, max_seconds=2.0))
    table = format_table(results)
    assert [r.name for r in results] == [
        "inbox first page, GET / as an agent",
        "inbox sidebar counts, GET /inbox/sidebar/ as an agent",
        "inbox query path (load_inbox_page: page of 50, view counts, options)",
        "ticket page, GET /tickets/<n>/ as an agent",
        f"search, {16} queries, all tickets",
        "search combined with the unassigned view",
        "search with filters (open/pending, tag billing)",
        "ticket creation, POST /api/v1/tickets",
        "ticket creation, create_ticket service",
        "email ingest, per message (parse, thread, store, index)",
    ]
    assert all(r.measured.n == 3 and r.baseline.n == 3 for r in results)
    assert table.count("\n") == len(results) + 1
