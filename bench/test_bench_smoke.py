"""The generator and every benchmark run end to end at N=200, so the bench code cannot rot unnoticed."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest

from bench.bench_context import BenchContext
from bench.common import format_table
from bench.generate import generate
from bench.mixed_mail import MailMaker, write_archive
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
    _assert_service_data()
    context = BenchContext.load("smoke")
    # The generated text is searchable: the first ticket's subject finds that ticket.
    first = Ticket.objects.get(workspace__slug="smoke", number=1)
    word = max(first.subject.split(), key=len).strip("?.,!")
    hits = search_tickets(agent=context.agent, query=f'"{word}"', ticket_filter=TicketFilter(view="all"), limit=100)
    assert first.pk in [hit.ticket.pk for hit in hits.hits] or first.merged_into_id is not None

    results = []
    for benchmark in BENCHMARKS.values():
        # The iteration count decides, not the clock: a time cap of 2 s cut runs short on a loaded machine, and the
        # assertion below on n == 3 then failed for the machine's speed, not the code's.
        results.extend(benchmark(context, iterations=3, max_seconds=600.0))
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


def _assert_service_data() -> None:
    """The generator writes what the reports and SLA benchmarks read: two targets per ticket, business minutes for
    every answered and every solved ticket, CSAT answers only on solved tickets; and the reports bench runs on it."""
    from bench.reports import run as run_reports
    from deskloop.service_levels.models import SlaTarget
    from deskloop.surveys.models import SurveyResponse
    from deskloop.tickets.models import DONE_CATEGORIES, Ticket

    tickets = Ticket.objects.filter(workspace__slug="smoke")
    assert SlaTarget.objects.filter(ticket__in=tickets).count() == 400
    answered = tickets.filter(first_response_at__isnull=False)
    assert answered.filter(first_response_business_minutes__isnull=True).count() == 0
    solved = tickets.filter(status__category__in=DONE_CATEGORIES)
    assert solved.filter(resolution_business_minutes__isnull=True).count() == 0
    assert SurveyResponse.objects.filter(ticket__in=tickets.exclude(status__category__in=DONE_CATEGORIES)).count() == 0
    results = run_reports("smoke", iterations=1, max_seconds=600.0)
    assert len(results) == 18
    assert all(r.measured.n == 1 for r in results)


@pytest.mark.django_db
def test_mixed_mail_is_made_the_same_way_every_time_and_imports_as_planned(tmp_path: Path) -> None:
    from django.core.management import call_command

    from deskloop.accounts.services import create_workspace
    from deskloop.channels.email.models import Mailbox
    from deskloop.tickets.services.setup import install_workspace_defaults

    messages = MailMaker(seed=7).day(120)
    assert messages == MailMaker(seed=7).day(120)
    write_archive(messages, tmp_path / "mail")
    workspace = create_workspace(name="Mixed", slug="mixed")
    install_workspace_defaults(workspace=workspace)
    Mailbox.objects.create(workspace=workspace, address="support@mixed-mail.example")
    out = StringIO()
    call_command(
        "import_mail", "--workspace", "mixed", "--mailbox", "support@mixed-mail.example", str(tmp_path / "mail"),
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    # What the generator planned, read from the headers it wrote: every reply threads, every request opens a
    # ticket, every piece of noise is refused for what it is.
    heads = [raw.split(b"\n\n", 1)[0] for raw in messages]
    replies = sum(b"\nIn-Reply-To:" in head for head in heads)
    auto_replies = sum(b"\nAuto-Submitted: auto-replied" in head for head in heads)
    lists = sum(b"\nList-Id:" in head for head in heads)
    assert (replies, auto_replies, lists) == (34, 7, 7)  # this seed's mix of 120: 28% replies, 12% noise
    assert out.getvalue() == (
        "Messages read: 120\n"
        f"New tickets: {120 - replies - auto_replies - lists}\n"
        "Follow-up tickets: 0\n"
        f"Replies threaded: {replies}\n"
        "Duplicates: 0\n"
        f"Refused: {auto_replies + lists} (auto_reply: {auto_replies}, list: {lists})\n"
        "Left unprocessed: 0\n"
        "Quarantined: 0\n"
    )
