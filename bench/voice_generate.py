"""Fill a workspace with the voice of the customer at scale: 100,000 organizations, 20,000 ideas, 1M votes.

    DATABASE_URL=postgres://... python bench/voice_generate.py --organizations 100000 --ideas 20000 --votes 1000000

Realism: organizations' MRR is a long tail (most pay little, a few pay a lot), they became customers over six
years, belong to one of a dozen industries, one plan and a lifecycle stage; 2.5 contacts each. Ideas are spread
over the product areas and statuses, created over two years, titled with real customer phrasing (banking77 and
clinc150 queries). Votes follow a Zipf-like popularity (a few ideas have thousands, most a handful), come from
distinct contacts per idea (so an organization's several voters make one stake), with importance 60% nice to have,
30% important, 10% critical, dated over two years with more recent ones; 1% are organization-only votes (lost
deals). Tickets (``bench/generate.py``'s, default 20,000) carry product areas and request types for the product
manager's page.

Speed: rows are built in memory per batch of ideas and written with bulk_create (the per-organization stakes
computed alongside, as ``services.votes`` would have left them); the ideas' cached values are then computed by the
real ``refresh_workspace_values``. On PostgreSQL it ends with VACUUM ANALYZE.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django
from bench.generate import Corpus, generate, sentence, settle_statistics

WORKSPACE = "voice"
INDUSTRIES = {
    "Field service": 8, "Retail": 14, "Healthcare": 10, "Logistics": 9, "Education": 8, "Finance": 11,
    "Manufacturing": 10, "Hospitality": 7, "Software": 13, "Real estate": 5, "Energy": 3, "Nonprofit": 2,
}  # fmt: skip
PLANS = {"Free": 30, "Starter": 35, "Pro": 25, "Enterprise": 10}
PLAN_MRR = {"Free": (0, 0), "Starter": (19, 99), "Pro": (99, 990), "Enterprise": (990, 20000)}
STAGES = {"customer": 75, "trial": 8, "lead": 7, "churned": 10}
STATUSES = {"under_review": 55, "planned": 15, "in_progress": 8, "shipped": 15, "declined": 7}
SOURCES = {"portal": 30, "widget": 30, "board": 15, "agent": 15, "survey": 5, "api": 5}
REQUEST_TYPES = {"question": 45, "problem": 25, "bug": 15, "feature_request": 15}


def _pick(rng: random.Random, mix: dict[str, int]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _organizations(workspace_id: int, count: int, rng: random.Random, agents: list[int]) -> list[int]:
    from deskloop.customers.models import Contact, Organization

    today = dt.date.today()
    made: list[int] = []
    for start in range(0, count, 5000):
        rows = []
        for index in range(start, min(count, start + 5000)):
            plan = _pick(rng, PLANS)
            low, high = PLAN_MRR[plan]
            stage = _pick(rng, STAGES)
            rows.append(
                Organization(
                    workspace_id=workspace_id,
                    name=f"Voice customer {index:06d}",
                    plan=plan,
                    mrr=Decimal(round(low + (high - low) * rng.random() ** 3)),
                    customer_since=None
                    if stage in ("lead", "trial")
                    else today - dt.timedelta(days=rng.randint(1, 2200)),
                    industry=_pick(rng, INDUSTRIES),
                    lifecycle_stage=stage,
                    owner_id=rng.choice(agents) if rng.random() < 0.6 else None,
                )
            )
        made.extend(org.pk for org in Organization.objects.bulk_create(rows, batch_size=5000))
    contacts = [
        Contact(workspace_id=workspace_id, name=f"Voter {index}", organization_id=made[index % len(made)])
        for index in range(int(len(made) * 2.5))
    ]
    Contact.objects.bulk_create(contacts, batch_size=5000)
    return made


def _ideas(workspace_id: int, count: int, rng: random.Random, areas: list[int], corpus: Corpus) -> list[int]:
    from django.utils import timezone

    from deskloop.ideas.models import Idea

    now = timezone.now()
    rows = []
    for index in range(count):
        status = _pick(rng, STATUSES)
        created = now - dt.timedelta(minutes=rng.randint(60, 730 * 24 * 60))
        text = sentence(rng.choice(corpus.customer))
        rows.append(
            Idea(
                workspace_id=workspace_id,
                title=f"{text[:180]} #{index}",
                description=" ".join(sentence(rng.choice(corpus.customer)) for _ in range(rng.randint(1, 4))),
                status=status,
                product_area_id=rng.choice(areas) if rng.random() < 0.9 else None,
                is_public=rng.random() < 0.9,
                created_at=created,
                updated_at=created,
                status_changed_at=created if status != "under_review" else None,
                shipped_at=min(now, created + dt.timedelta(days=30)) if status == "shipped" else None,
            )
        )
    return [idea.pk for idea in Idea.objects.bulk_create(rows, batch_size=5000)]


def _votes_per_idea(ideas: int, votes: int, rng: random.Random) -> list[int]:
    """A Zipf-like popularity scaled to ``votes`` in total, every idea at least one vote."""
    weights = [1 / (rank + 10) ** 1.1 for rank in range(ideas)]
    rng.shuffle(weights)
    total = sum(weights)
    counts = [max(1, int(votes * weight / total)) for weight in weights]
    counts[counts.index(max(counts))] += votes - sum(counts)
    return counts


def _votes(workspace_id: int, idea_ids: list[int], votes: int, rng: random.Random, tickets: list[int]) -> int:
    from django.db import transaction
    from django.utils import timezone

    from deskloop.customers.models import Contact
    from deskloop.ideas.models import IdeaOrganization, IdeaTicket, IdeaVote

    contacts = list(Contact.objects.filter(workspace_id=workspace_id).values_list("id", "organization_id"))
    organizations = sorted({org for _contact, org in contacts if org is not None})
    now = timezone.now()
    counts = _votes_per_idea(len(idea_ids), votes, rng)
    vote_rows: list[Any] = []
    stake_rows: list[Any] = []
    link_rows: list[Any] = []
    written = 0

    def flush() -> None:
        with transaction.atomic():
            IdeaVote.objects.bulk_create(vote_rows, batch_size=10000)
            IdeaOrganization.objects.bulk_create(stake_rows, batch_size=10000)
            IdeaTicket.objects.bulk_create(link_rows, batch_size=10000, ignore_conflicts=True)
        vote_rows.clear()
        stake_rows.clear()
        link_rows.clear()

    for idea_id, count in zip(idea_ids, counts, strict=True):
        stakes: dict[int, list[int]] = {}
        voters = rng.sample(contacts, min(count, len(contacts)))
        deal_orgs = rng.sample(organizations, max(0, count // 100))
        for contact_id, organization_id in [*voters, *((None, org) for org in deal_orgs)]:
            importance = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
            # More votes recently: the age is the square of a uniform draw over two years.
            created = now - dt.timedelta(minutes=int(730 * 24 * 60 * rng.random() ** 2))
            ticket = rng.choice(tickets) if tickets and rng.random() < 0.05 else None
            vote_rows.append(
                IdeaVote(
                    workspace_id=workspace_id,
                    idea_id=idea_id,
                    contact_id=contact_id,
                    organization_id=organization_id,
                    importance=importance,
                    source="deal" if contact_id is None else _pick(rng, SOURCES),
                    ticket_id=ticket,
                    created_at=created,
                )
            )
            if ticket is not None:
                link_rows.append(IdeaTicket(workspace_id=workspace_id, idea_id=idea_id, ticket_id=ticket))
            if organization_id is not None:
                stake = stakes.setdefault(organization_id, [0, 0])
                stake[0] = max(stake[0], importance)
                stake[1] += 1
        stake_rows.extend(
            IdeaOrganization(workspace_id=workspace_id, idea_id=idea_id, organization_id=org, importance=top, votes=n)
            for org, (top, n) in stakes.items()
        )
        written += len(voters) + len(deal_orgs)
        if len(vote_rows) >= 50_000:
            flush()
    flush()
    return written


def _ticket_labels(workspace_id: int, rng: random.Random) -> list[int]:
    """Request types on the generated tickets (bench/generate.py sets product areas, not types), one UPDATE per
    type over a random quarter-split of the ids; returns the ticket ids."""
    from deskloop.tickets.models import Ticket

    ids = list(Ticket.objects.filter(workspace_id=workspace_id).values_list("id", flat=True))
    by_type: dict[str, list[int]] = {}
    for ticket_id in ids:
        by_type.setdefault(_pick(rng, REQUEST_TYPES), []).append(ticket_id)
    for request_type, chosen in by_type.items():
        for start in range(0, len(chosen), 5000):
            Ticket.objects.filter(pk__in=chosen[start : start + 5000]).update(request_type=request_type)
    return ids


def generate_voice(
    *, organizations: int, ideas: int, votes: int, tickets: int, seed: int = 11, progress: bool = True
) -> None:
    from deskloop.accounts.models import Agent, Workspace
    from deskloop.ideas.models import Idea
    from deskloop.ideas.services.values import refresh_workspace_values
    from deskloop.tickets.models import ProductArea

    started = time.monotonic()

    def say(text: str) -> None:
        if progress:
            print(f"  {time.monotonic() - started:6.0f} s  {text}", flush=True)

    if Workspace.objects.filter(slug=WORKSPACE).exists() and Idea.objects.filter(workspace__slug=WORKSPACE).exists():
        say("workspace 'voice' already has ideas; nothing to do")
        return
    generate(tickets=tickets, workspace_slug=WORKSPACE, seed=seed)
    workspace = Workspace.objects.get(slug=WORKSPACE)
    rng = random.Random(seed)
    say(f"{tickets} tickets")
    ticket_ids = _ticket_labels(workspace.pk, rng)
    agents = list(Agent.objects.filter(workspace=workspace).values_list("id", flat=True))
    areas = list(ProductArea.objects.filter(workspace=workspace).order_by("pk").values_list("id", flat=True))
    for index, area in enumerate(ProductArea.objects.filter(workspace=workspace, parent__isnull=True)):
        ProductArea.objects.filter(pk=area.pk).update(owner_id=agents[index % len(agents)])
    _organizations(workspace.pk, organizations, rng, agents)
    say(f"{organizations} organizations and their contacts")
    idea_ids = _ideas(workspace.pk, ideas, rng, areas, Corpus.load())
    say(f"{ideas} ideas")
    written = _votes(workspace.pk, idea_ids, votes, rng, ticket_ids)
    say(f"{written} votes")
    refresh_workspace_values(workspace.pk)
    say("values refreshed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organizations", type=int, default=100_000)
    parser.add_argument("--ideas", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    generate_voice(
        organizations=args.organizations, ideas=args.ideas, votes=args.votes, tickets=args.tickets, seed=args.seed
    )
    # Here, not in generate_voice: VACUUM cannot run inside the transaction a test wraps the generator in.
    settle_statistics()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
