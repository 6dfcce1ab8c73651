"""The inbox first page: GET / as an agent through the real view, and the query path it stands on.

GET / renders without the view counts: the sidebar fetches them right after load in a second request,
GET /inbox/sidebar/, measured on its own row; the "inbox query path" row still reads both (page and counts).
"""

from __future__ import annotations

from bench.bench_context import BenchContext
from bench.common import Result, measure


def run(context: BenchContext, *, iterations: int = 200, max_seconds: float = 30.0) -> list[Result]:
    from deskloop.tickets.inbox import InboxView
    from deskloop.tickets.views.inbox_page import InboxQuery, load_inbox_page, load_sidebar

    baseline = measure("ticket by primary key", context.pk_lookup, iterations=iterations, max_seconds=max_seconds)
    client = context.client()
    sizes: list[int] = []

    def inbox_page(_index: int) -> None:
        response = client.get("/")
        assert response.status_code == 200, response.status_code
        sizes.append(len(response.content))

    view = measure("GET / (inbox view)", inbox_page, iterations=iterations, max_seconds=max_seconds)
    # A placeholder view would make the figure meaningless: say so in the report.
    note = "placeholder view" if sizes and max(sizes) < 500 else f"{sizes[-1] // 1024} KiB page" if sizes else ""

    def sidebar_counts(_index: int) -> None:
        response = client.get("/inbox/sidebar/?view=all", headers={"HX-Request": "true"})
        assert response.status_code == 200, response.status_code
        assert b'data-count="all"' in response.content

    sidebar = measure("GET /inbox/sidebar/", sidebar_counts, iterations=iterations, max_seconds=max_seconds)

    def query_path(_index: int) -> None:
        # Everything GET / and the sidebar request after it read (the page of 50 with its relations, the view
        # counts with trash and spam, saved views, filter options), without the HTTP stack and the templates.
        page = load_inbox_page(agent=context.agent, query=InboxQuery())
        assert len(page.tickets) == 50 or page.next_cursor is None
        load_sidebar(context.agent, active_view=InboxView.ALL, active_saved_view_id=None)

    queries = measure("inbox query path", query_path, iterations=iterations, max_seconds=max_seconds)
    return [
        Result("inbox first page, GET / as an agent", view, baseline, note=note),
        Result("inbox sidebar counts, GET /inbox/sidebar/ as an agent", sidebar, baseline),
        Result("inbox query path (load_inbox_page: page of 50, view counts, options)", queries, baseline),
    ]
