"""Search: ranked full-text hits with snippets for queries agents type, through search_tickets."""

from __future__ import annotations

from bench.bench_context import BenchContext
from bench.common import Result, measure

# Words and phrases from the generated conversations, from rare to very common, plus prefixes, a phrase,
# non-Latin text and a requester name: the mix an agent's day looks like.
QUERIES = [
    "refund",
    "card arrival",
    '"exchange rate"',
    "top up fail",
    "contactless",
    "transfer pending",
    "pin blocked",
    "factura",
    "счет",
    "Carmen",
    "verify identity",
    "github markdown",
    "cash withdrawal",
    "charged twice",
    "virtual card",
    "apple pay",
]


def run(context: BenchContext, *, iterations: int = 200, max_seconds: float = 30.0) -> list[Result]:
    from deskloop.customers.models import ContactEmail
    from deskloop.tickets.inbox import InboxView, TicketFilter
    from deskloop.tickets.search import search_tickets

    emails = context.contact_emails

    def indexed_lookup(index: int) -> object:
        # Baseline: a unique-index lookup of one row (a contact by address), what jump_target does.
        return ContactEmail.objects.filter(workspace_id=context.workspace.pk, email=emails[index % len(emails)]).first()

    baseline = measure(
        "contact by email (unique index)", indexed_lookup, iterations=iterations, max_seconds=max_seconds
    )
    counts: list[int] = []

    def search_all(index: int) -> None:
        results = search_tickets(
            agent=context.agent, query=QUERIES[index % len(QUERIES)], ticket_filter=TicketFilter(), limit=25
        )
        counts.append(len(results.hits))

    everything = measure("search, view all", search_all, iterations=iterations, max_seconds=max_seconds)

    def search_mine(index: int) -> None:
        search_tickets(
            agent=context.agent,
            query=QUERIES[index % len(QUERIES)],
            ticket_filter=TicketFilter(view=InboxView.UNASSIGNED),
            limit=25,
        )

    filtered = measure("search, unassigned view", search_mine, iterations=iterations, max_seconds=max_seconds)

    def search_filters(index: int) -> None:
        # What an agent narrows a search with in the filter bar: open or pending, one tag.
        search_tickets(
            agent=context.agent,
            query=QUERIES[index % len(QUERIES)],
            ticket_filter=TicketFilter(status_categories=["open", "pending"], tag_names=["billing"]),
            limit=25,
        )

    narrowed = measure("search, status + tag filters", search_filters, iterations=iterations, max_seconds=max_seconds)
    hits = f"{sum(counts) / len(counts):.0f} hits/page avg" if counts else ""
    return [
        Result(f"search, {len(QUERIES)} queries, all tickets", everything, baseline, note=hits),
        Result("search combined with the unassigned view", filtered, baseline),
        Result("search with filters (open/pending, tag billing)", narrowed, baseline),
    ]
