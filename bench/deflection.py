"""The deflection sweep and report at scale (standalone, not in run_all.py: it builds its own workspace).

Makes a workspace with ``--sessions`` request sessions over the last 90 days (10% holdout; a third with a contact, a
fifth with only an address, the rest anonymous visitors), one to four steps each, and ``--tickets`` tickets from
those customers; every session starts ``open`` and idle, so the first sweep judges the whole backlog. Reports the
sweep's sessions per second (first run: everything; second run: nothing left, the idle cost), and the report over
30 and 90 days, the drill-down page and the page itself against a request session read by primary key.

    export DESKLOOP_VAR_DIR=/tmp/deskloop-bench            # SQLite, or DATABASE_URL=... for PostgreSQL
    .venv/bin/python bench/deflection.py --sessions 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, database_label, format_table, measure, setup_django

BATCH = 5000


def build(slug: str, sessions: int, tickets: int, seed: int) -> object:
    from django.db import transaction
    from django.utils import timezone

    from deskloop.accounts.services import add_agent, create_workspace
    from deskloop.customers.services import find_or_create_contact
    from deskloop.knowledge.models import RequestChannel, RequestEvent, RequestEventKind, RequestSession
    from deskloop.knowledge.services.articles import create_article
    from deskloop.tickets.services.setup import install_workspace_defaults
    from deskloop.tickets.services.tickets import NewTicket, open_ticket

    rng = random.Random(seed)
    workspace = create_workspace(name="Deflection bench", slug=slug)
    install_workspace_defaults(workspace=workspace)
    add_agent(workspace=workspace, email=f"bench@{slug}.example", name="Bench", role="admin", password="x" * 20)
    articles = [
        create_article(actor=None, workspace=workspace, locale="en", title=f"Article {i}", body_html="<p>x</p>").pk
        for i in range(60)
    ]
    contacts = [
        find_or_create_contact(workspace=workspace, email=f"c{i}@customers.example", name=f"C {i}") for i in range(2000)
    ]
    now = timezone.now()
    channels = list(RequestChannel.values)
    with transaction.atomic():
        for done in range(0, sessions, BATCH):
            rows = []
            for _ in range(min(BATCH, sessions - done)):
                started = now - dt.timedelta(minutes=rng.randint(60, 90 * 24 * 60))
                kind = rng.random()
                contact = rng.choice(contacts) if kind < 0.33 else None
                email = f"v{rng.randint(0, 50000)}@visitors.example" if 0.33 <= kind < 0.53 else ""
                rows.append(
                    RequestSession(
                        workspace=workspace,
                        channel=rng.choice(channels),
                        contact=contact,
                        email=email,
                        visitor_hash=f"{rng.getrandbits(128):032x}" if contact is None else "",
                        in_holdout=rng.random() < 0.1,
                        started_at=started,
                        last_event_at=started,
                    )
                )
            made = RequestSession.objects.bulk_create(rows, batch_size=1000)
            events = []
            for session in made:
                for step in range(rng.randint(1, 4)):
                    shown = [] if session.in_holdout or rng.random() < 0.2 else rng.sample(articles, 3)
                    opened = step > 0 and shown and rng.random() < 0.5
                    events.append(
                        RequestEvent(
                            workspace=workspace,
                            session=session,
                            kind=RequestEventKind.ARTICLE_OPENED if opened else RequestEventKind.SUGGESTIONS_SHOWN,
                            query="" if opened else rng.choice(["reset password", "refund", "vat", "export data"]),
                            article_id=shown[0] if opened else None,
                            suggested_article_ids=[] if opened else shown,
                            created_at=session.started_at,
                        )
                    )
            RequestEvent.objects.bulk_create(events, batch_size=2000)
            print(f"sessions: {done + len(made)}", flush=True)
    for i in range(tickets):
        requester = rng.choice(contacts)
        open_ticket(workspace=workspace, ticket=NewTicket(requester=requester, subject=f"t{i}", body_text="b"))
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from deskloop.accounts.access import SESSION_WORKSPACE_KEY
    from deskloop.accounts.models import Agent
    from deskloop.knowledge.deflection_report import ReportRange, deflection_report
    from deskloop.knowledge.models import RequestSession
    from deskloop.knowledge.services.deflection_sweep import judge_request_sessions

    call_command("migrate", verbosity=0)
    slug = f"deflection-{int(time.time())}"
    started = time.perf_counter()
    workspace = build(slug, args.sessions, args.tickets, args.seed)
    print(f"built in {time.perf_counter() - started:.0f} s on {database_label()}", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    started = time.perf_counter()
    first = judge_request_sessions()
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = judge_request_sessions()
    second_s = time.perf_counter() - started
    # A session left and then verified in the same run counts twice: these are outcome changes.
    print(f"sweep, whole backlog: {first} outcome changes in {first_s:.1f} s ({first / first_s:.0f}/s)")
    print(f"sweep, again: {second} judged in {second_s * 1000:.0f} ms")

    ids = list(RequestSession.objects.filter(workspace=workspace).values_list("pk", flat=True)[:500])
    baseline = measure(
        "request session by primary key",
        lambda i: RequestSession.objects.get(pk=ids[i % len(ids)]),
        iterations=200,
        max_seconds=10,
    )
    today = dt.date.today()
    client = Client()
    agent = Agent.objects.get(workspace=workspace)
    client.force_login(agent.user)
    session = client.session
    session[SESSION_WORKSPACE_KEY] = workspace.pk
    session.save()
    results = []
    for days in (30, 90):
        report_range = ReportRange(workspace_id=workspace.pk, start=today - dt.timedelta(days=days - 1), end=today)
        timing = measure(
            f"report {days} days",
            lambda _i, r=report_range: deflection_report(r),
            iterations=args.iterations,
            max_seconds=args.max_seconds,
        )
        results.append(Result(f"deflection_report, {days} days", timing, baseline))

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    for name, url in (
        ("GET /knowledge/deflection/ (30 days)", "/knowledge/deflection/"),
        ("GET /knowledge/deflection/sessions/?outcome=wrote", "/knowledge/deflection/sessions/?outcome=wrote"),
    ):
        timing = measure(name, lambda _i, u=url: get(u), iterations=args.iterations, max_seconds=args.max_seconds)
        results.append(Result(name, timing, baseline))
    print(format_table(results))


if __name__ == "__main__":
    main()
