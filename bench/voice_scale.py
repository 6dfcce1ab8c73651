"""Idea scores and segment filters at scale (issue #11): the board's reads and the product manager's page over
100,000 organizations, 20,000 ideas and 1M votes, against a primary-key lookup of one idea in the same run.

    DATABASE_URL=postgres://... python bench/voice_generate.py      # once: ~10 min on 2 cores
    DATABASE_URL=postgres://... OMP_NUM_THREADS=1 python bench/voice_scale.py [--iterations 200]

Rows: ``ideas.queries.board_page`` (the page of 30 every board screen reads: agents' board, public board, widget,
API) without a filter, with a status filter, sorted by trending, and with each of two saved segments ("MRR > 100
and a customer for at least 6 months": about half the organizations; "industry = field service": about 8%), also
page 2 through the keyset cursor; then the product manager's page of the busiest product area, ``GET
/insights/areas/<id>/`` through the whole Django stack as an agent (ideas ranked with their evidence, top
problems, NPS/CSAT by area, plan and segment, open tasks), with and without a segment, and the overview
``GET /insights/``. Each query varies the status, segment and area it asks for across iterations where it can.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, database_label, format_table, measure, setup_django

WORKSPACE = "voice"


def _segments(workspace: Any) -> tuple[Any, Any]:
    from deskloop.customers.models import Segment

    loyal, _created = Segment.objects.get_or_create(
        workspace=workspace,
        name="MRR > 100 and customer for at least 6 months",
        defaults={"mrr_above": Decimal(100), "min_customer_months": 6},
    )
    field, _created = Segment.objects.get_or_create(
        workspace=workspace, name="Industry = field service", defaults={"industry": "field service"}
    )
    return loyal, field


def run(*, iterations: int, max_seconds: float) -> tuple[list[Result], dict[str, Any]]:
    from django.db.models import Count
    from django.test import Client

    from deskloop.accounts.access import SESSION_WORKSPACE_KEY
    from deskloop.accounts.models import Agent, Workspace
    from deskloop.customers.models import Organization
    from deskloop.customers.segments import organization_q
    from deskloop.ideas.models import Idea, IdeaOrganization, IdeaVote
    from deskloop.ideas.queries import BoardQuery, board_page
    from deskloop.tickets.models import ProductArea

    workspace = Workspace.objects.get(slug=WORKSPACE)
    wid = workspace.pk
    loyal, field = _segments(workspace)
    idea_ids = list(Idea.objects.filter(workspace_id=wid).order_by("?").values_list("pk", flat=True)[:500])
    # The busiest top-level area (with its children): the heaviest product manager's page.
    top = (
        ProductArea.objects.filter(workspace_id=wid, parent__isnull=True)
        .annotate(n=Count("ideas"))
        .order_by("-n")
        .first()
    )
    assert top is not None
    agent = Agent.objects.filter(workspace_id=wid, role="admin").select_related("user").first()
    client = Client()
    client.force_login(agent.user)  # type: ignore[union-attr]
    session = client.session
    session[SESSION_WORKSPACE_KEY] = wid
    session.save()
    statuses = ["under_review", "planned", "in_progress", "shipped"]

    def baseline_op(index: int) -> None:
        Idea.objects.get(pk=idea_ids[index % len(idea_ids)])

    def board(query: BoardQuery, *, second_page: bool = False) -> None:
        page = board_page(query)
        # A full page of 30 at scale (the smoke test's small workspace may have fewer in a segment).
        assert page.rows
        assert len(page.rows) == 30 or page.next_cursor is None, len(page.rows)
        if second_page and page.next_cursor:
            assert board_page(query, cursor=page.next_cursor).rows

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    cases: list[tuple[str, Any]] = [
        ("board, no filter (score)", lambda i: board(BoardQuery(workspace_id=wid))),
        ("board, page 1 + page 2 by cursor", lambda i: board(BoardQuery(workspace_id=wid), second_page=True)),
        (
            "board, status filter",
            lambda i: board(BoardQuery(workspace_id=wid, statuses=[statuses[i % len(statuses)]])),
        ),
        ("board, trending (votes of the last 30 days)", lambda i: board(BoardQuery(workspace_id=wid, sort="trending"))),
        ("board, segment MRR > 100 and 6 months", lambda i: board(BoardQuery(workspace_id=wid, segment=loyal))),
        ("board, segment industry = field service", lambda i: board(BoardQuery(workspace_id=wid, segment=field))),
        (
            "board, segment + status filter + page 2",
            lambda i: board(
                BoardQuery(workspace_id=wid, segment=loyal, statuses=[statuses[i % len(statuses)]]), second_page=True
            ),
        ),
        (
            "board, segment + trending",
            lambda i: board(BoardQuery(workspace_id=wid, segment=loyal, sort="trending")),
        ),
        ("PM page GET /insights/areas/<id>/", lambda i: get(f"/insights/areas/{top.pk}/")),
        (
            "PM page with a segment",
            lambda i: get(f"/insights/areas/{top.pk}/?segment={(loyal, field)[i % 2].pk}"),
        ),
        ("PM overview GET /insights/", lambda i: get("/insights/")),
        ("PM overview with a segment", lambda i: get(f"/insights/?segment={loyal.pk}")),
    ]
    baseline = measure("idea by primary key", baseline_op, iterations=iterations, max_seconds=max_seconds)
    results = [
        Result(name, measure(name, op, iterations=iterations, max_seconds=max_seconds), baseline) for name, op in cases
    ]
    data = {
        "organizations": Organization.objects.filter(workspace_id=wid).count(),
        "ideas": Idea.objects.filter(workspace_id=wid).count(),
        "votes": IdeaVote.objects.filter(workspace_id=wid).count(),
        "stakes": IdeaOrganization.objects.filter(workspace_id=wid).count(),
        "loyal organizations": Organization.objects.filter(organization_q(loyal, path=""), workspace_id=wid).count(),
        "field service organizations": Organization.objects.filter(
            organization_q(field, path=""), workspace_id=wid
        ).count(),
        "PM page area": f"{top.path} ({Idea.objects.filter(workspace_id=wid, product_area__path__startswith=top.path).count()} ideas)",
    }
    return results, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    setup_django()
    results, data = run(iterations=args.iterations, max_seconds=args.max_seconds)
    print(f"Database: {database_label()}")
    print("Data: " + ", ".join(f"{key} {value}" for key, value in data.items()) + "\n")
    print(format_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
