"""Fill a workspace with N realistic tickets, fast enough for 100k in minutes and 1M in well under an hour.

    python bench/generate.py --tickets 100000 --workspace bench

The database is the one the settings choose: DATABASE_URL=postgres://... for PostgreSQL, otherwise SQLite
under ./var/ (set DESKLOOP_VAR_DIR=/tmp/somewhere to keep it out of the work tree). Migrations run first.

Realism: messages per ticket skewed 1..12 (most tickets are short, a few are long threads); customer text
is real customer-service phrasing (banking77 and clinc150 queries), agent replies are real FAQ answers
(kb-stackfaq), with a sprinkle of Spanish and Russian; requesters belong to organizations; statuses,
priorities, channels, assignees, teams, tags and product areas follow a plausible helpdesk mix. What service
levels and the reports read comes with them: business minutes to the first response and the solve (weekdays
08:00-18:00 Berlin), the first response and resolution SLA targets of two policies (met, breached or running as
the timestamps say), a few reopened tickets and CSAT answers on a fifth of the solved ones.

Speed: rows are built in memory and written with bulk_create in batches inside one transaction per batch,
with ticket numbers allocated per batch by one UPDATE; the search documents are then built by the real
``index_tickets`` (the same code the write paths use).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, setup_django

if TYPE_CHECKING:
    from deskloop.accounts.models import Agent, Team, Workspace
    from deskloop.tickets.models import Message, Ticket

DATA = REPO / "testdata" / "text"

# Messages per ticket: weights for 1..12. Mean about 3.4; a tenth of tickets have 7 or more.
MESSAGE_COUNT_WEIGHTS = [24, 22, 16, 11, 8, 6, 4, 3, 2, 2, 1, 1]
STATUS_MIX = {"new": 10, "open": 20, "pending": 10, "on_hold": 3, "solved": 35, "closed": 22}
PRIORITY_MIX = {"low": 15, "normal": 60, "high": 20, "urgent": 5}
CHANNEL_MIX = {"email": 55, "web": 20, "widget": 15, "api": 5, "phone": 5}
TAG_NAMES = [
    "billing", "refund", "vip", "bug", "feature-request", "card", "transfer", "fraud", "onboarding", "kyc",
    "exchange", "top-up", "atm", "pin", "statement", "fees", "mobile-app", "web-app", "security", "account",
    "churn-risk", "escalated", "urgent", "legal", "partner", "api", "sso", "export", "import", "feedback",
]  # fmt: skip
PRODUCT_AREAS = {
    "Cards": ["Delivery", "Payments", "PIN"],
    "Transfers": ["Domestic", "International"],
    "Account": ["Verification", "Settings"],
    "Billing": ["Invoices", "Fees"],
    "Mobile app": [],
}
FIRST_NAMES = [
    "Carmen", "Pat", "Alex", "Maria", "John", "Aiko", "Lucía", "José", "Olga", "Иван", "Анна", "Dmitri",
    "Fatima", "Chen", "Priya", "Noah", "Emma", "Liam", "Sofía", "Mateo", "Наталья", "Пётр", "Grace", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "García", "Smith", "Müller", "Ivanova", "Петров", "Nguyen", "Okafor", "Rossi", "Kowalski", "Tanaka",
    "Fernández", "Johnson", "Dubois", "Sokolov", "Lee", "Martínez", "Brown", "Silva", "Öztürk", "Schmidt",
]  # fmt: skip
SPANISH = [
    "Hola, no he recibido mi tarjeta todavía. ¿Podéis decirme cuándo llegará?",
    "La factura de este mes tiene un cargo que no reconozco.",
    "Intenté hacer una transferencia internacional y me aparece un error.",
    "¿Cómo puedo cambiar el PIN de mi tarjeta? Gracias de antemano.",
]
RUSSIAN = [
    "Здравствуйте, мне пришёл счёт с неверной суммой. Проверьте, пожалуйста.",
    "Не могу войти в приложение после обновления, пишет ошибку.",
    "Перевод за границу завис уже третий день, что делать?",
    "Карта заблокирована после трёх неверных попыток ввода ПИН-кода.",
]
GREETINGS = ["Hi,", "Hello,", "Hi there,", "Good morning,", "Dear support,", ""]
SIGN_OFFS = ["Thanks", "Thank you!", "Regards", "Cheers", "Best regards", ""]
AGENT_OPENERS = ["Thanks for reaching out.", "Sorry for the trouble.", "Happy to help with this.", ""]


@dataclass
class Corpus:
    customer: list[str]
    agent: list[str]

    @classmethod
    def load(cls) -> Corpus:
        customer: list[str] = []
        with (DATA / "intents-banking77" / "train.csv").open(newline="", encoding="utf-8") as handle:
            customer.extend(row["text"].strip() for row in csv.DictReader(handle))
        raw = json.loads((DATA / "intents-clinc150" / "data_dev.json").read_text(encoding="utf-8"))
        customer.extend(sentence(text) for text, _label in raw["train"] if text.strip())
        agent: list[str] = []
        for line in (DATA / "kb-stackfaq" / "articles.jsonl").read_text(encoding="utf-8").splitlines():
            article = json.loads(line)
            agent.append(" ".join(article["body"].split()))
        return cls(customer=customer, agent=agent)


def pick(rng: random.Random, mix: dict[str, int]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def customer_text(rng: random.Random, corpus: Corpus) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(SPANISH)
    if roll < 0.06:
        return rng.choice(RUSSIAN)
    body = " ".join(customer_sentences(rng, corpus))
    greeting, sign_off = rng.choice(GREETINGS), rng.choice(SIGN_OFFS)
    return "\n\n".join(part for part in (greeting, body, sign_off) if part)


def customer_sentences(rng: random.Random, corpus: Corpus) -> list[str]:
    return [rng.choice(corpus.customer) for _ in range(rng.choice([1, 1, 2, 2, 3, 4]))]


QUESTION_WORDS = ("how", "what", "why", "when", "where", "who", "which", "can", "could", "is", "are", "do", "does")


def sentence(text: str) -> str:
    """clinc150 queries come lower-case without a full stop; written to support they would have both."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] not in ".?!":
        text += "?" if text.split()[0].lower() in QUESTION_WORDS else "."
    return text


def agent_text(rng: random.Random, corpus: Corpus, agent_name: str) -> str:
    answer = rng.choice(corpus.agent)
    answer = answer[: rng.choice([200, 400, 700, 1200, 2500])]
    opener = rng.choice(AGENT_OPENERS)
    return "\n\n".join(part for part in (opener, answer, f"Best,\n{agent_name}") if part)


def subject_from(text: str) -> str:
    """The first sentence of the customer's first message, on one line (never the greeting or sign-off)."""
    paragraphs = [part for part in text.split("\n\n") if part.strip()]
    body = next((part for part in paragraphs if part not in GREETINGS and part not in SIGN_OFFS), "")
    first = " ".join(body.split())
    for stop in ("? ", ". ", "! "):
        first = first.split(stop)[0] + (stop.strip() if stop in first else "")
    return (first[:77] + "...") if len(first) > 80 else first or "Question"


@dataclass
class GenerationReport:
    workspace_slug: str
    tickets: int
    messages: int
    seconds: float

    def __str__(self) -> str:
        rate = self.tickets / self.seconds if self.seconds else 0
        return (
            f"Generated {self.tickets} tickets ({self.messages} messages) in workspace '{self.workspace_slug}' "
            f"in {self.seconds:.1f} s ({rate:.0f} tickets/s)."
        )


@dataclass(frozen=True)
class _Cast:
    """The workspace and the people and labels its tickets are drawn from (ids where an id is all a row needs)."""

    workspace: Workspace
    statuses: dict[str, list[int]]  # status ids by category
    agents: list[Agent]
    teams: list[Team]
    team_members: dict[int, list[Agent]]
    contacts: list[tuple[int, int | None]]  # (contact id, organization id)
    tags: list[int]
    areas: list[int]


def _workspace_cast(slug: str, tickets: int, rng: random.Random) -> _Cast:
    """Agents, teams, organizations, contacts, tags and areas: created once, reused by later runs."""
    from deskloop.accounts import services as account_services
    from deskloop.accounts.models import Agent, Team, Workspace
    from deskloop.customers.models import Contact
    from deskloop.tickets.models import ProductArea, Status, Tag
    from deskloop.tickets.services.setup import install_workspace_defaults

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        workspace = account_services.create_workspace(name=f"Bench {slug}", slug=slug)
        install_workspace_defaults(workspace=workspace)
    if not Agent.objects.filter(workspace=workspace).exists():
        _add_staff_and_labels(workspace, slug)
    if not Contact.objects.filter(workspace=workspace).exists():
        _add_customers(workspace, tickets, rng)
    statuses: dict[str, list[int]] = {}
    for status_id, category in Status.objects.filter(workspace=workspace).values_list("id", "category"):
        statuses.setdefault(category, []).append(status_id)
    teams = list(Team.objects.filter(workspace=workspace).prefetch_related("members"))
    return _Cast(
        workspace=workspace,
        statuses=statuses,
        agents=list(Agent.objects.filter(workspace=workspace).select_related("user")),
        teams=teams,
        team_members={team.pk: list(team.members.all()) for team in teams},
        contacts=list(Contact.objects.filter(workspace=workspace).values_list("id", "organization_id")),
        tags=list(Tag.objects.filter(workspace=workspace).values_list("id", flat=True)),
        areas=list(ProductArea.objects.filter(workspace=workspace).values_list("id", flat=True)),
    )


def _add_staff_and_labels(workspace: Workspace, slug: str) -> None:
    """25 agents in four teams, the product areas and the tags."""
    from deskloop.accounts import services as account_services
    from deskloop.accounts.models import Role
    from deskloop.tickets.models import ProductArea, Tag

    agents = [
        account_services.add_agent(
            workspace=workspace,
            email=f"agent{index:02d}@{slug}.bench.example",
            name=f"{FIRST_NAMES[index % len(FIRST_NAMES)]} Agent{index:02d}",
            role=Role.ADMIN if index == 0 else Role.AGENT,
        )
        for index in range(25)
    ]
    for position, name in enumerate(["Support", "Billing", "Technical", "VIP"]):
        account_services.create_team(workspace=workspace, name=name, members=agents[position::4])
    parents = {}
    for parent_name, children in PRODUCT_AREAS.items():
        parent = ProductArea.objects.create(workspace=workspace, name=parent_name, path=parent_name)
        parents[parent_name] = parent
        for child in children:
            ProductArea.objects.create(workspace=workspace, name=child, parent=parent, path=f"{parent_name} > {child}")
    Tag.objects.bulk_create([Tag(workspace=workspace, name=name) for name in TAG_NAMES])


def _add_customers(workspace: Workspace, tickets: int, rng: random.Random) -> None:
    """Organizations (with a domain each) and contacts, most of them at an organization and writing from its domain."""
    from deskloop.customers.models import Contact, ContactEmail, Organization, OrganizationDomain

    org_count = max(5, min(20_000, tickets // 50))
    organizations = Organization.objects.bulk_create(
        [
            Organization(
                workspace=workspace,
                name=f"Customer {index:05d} {rng.choice(['Ltd', 'GmbH', 'S.L.', 'Inc', 'ООО'])}",
                plan=rng.choice(["Free", "Starter", "Pro", "Enterprise"]),
                mrr=rng.choice([0, 49, 99, 490, 990, 4900]),
            )
            for index in range(org_count)
        ],
        batch_size=2000,
    )
    OrganizationDomain.objects.bulk_create(
        [
            OrganizationDomain(workspace=workspace, organization=org, domain=f"customer{index:05d}.example")
            for index, org in enumerate(organizations)
        ],
        batch_size=2000,
    )
    contact_count = max(10, min(300_000, tickets // 4))
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                workspace=workspace,
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                organization=rng.choice(organizations) if rng.random() < 0.7 else None,
            )
            for _ in range(contact_count)
        ],
        batch_size=2000,
    )
    org_position = {org.pk: index for index, org in enumerate(organizations)}
    ContactEmail.objects.bulk_create(
        [
            ContactEmail(
                workspace=workspace,
                contact=contact,
                is_primary=True,
                # People at a customer company write from its domain; the rest from webmail.
                email=(
                    f"user{index}@customer{org_position[contact.organization_id]:05d}.example"
                    if contact.organization_id is not None
                    else f"person{index}@mail{index % 97}.example"
                ),
            )
            for index, contact in enumerate(contacts)
        ],
        batch_size=2000,
    )


def _history(
    workspace_id: int,
    ticket: Any,
    messages: list[Any],
    new_status: dict[str, object],
    status_names: dict[int, str],
) -> list[Any]:
    """The TicketEvent rows the write services would have left: created, one per later message or note,
    the assignment and the status change (the ticket page renders this history)."""
    from deskloop.tickets.models import EventKind, MessageKind, TicketEvent

    def event(kind: str, when: dt.datetime, **fields: Any) -> Any:
        return TicketEvent(
            workspace_id=workspace_id, ticket_id=ticket.pk, kind=kind, via="import", created_at=when, **fields
        )

    rows = [event(EventKind.CREATED, ticket.created_at, actor_contact_id=ticket.requester_id)]
    for message in messages[1:]:
        kind = EventKind.NOTE_ADDED if message.kind == MessageKind.NOTE else EventKind.MESSAGE_ADDED
        rows.append(
            event(
                kind,
                message.created_at,
                actor_agent_id=message.author_agent_id,
                actor_contact_id=message.author_contact_id,
                new_value=message.pk,
            )
        )
    # The assignment and the status change happen with the first agent message (or right away).
    changed_at = messages[1].created_at if len(messages) > 1 else ticket.created_at
    actor = ticket.assignee_id
    if ticket.assignee_id is not None:
        rows.append(event(EventKind.FIELD_CHANGED, changed_at, actor_agent_id=actor, field="assignee", new_value=actor))
    if ticket.status_id != new_status["id"]:
        rows.append(
            event(
                EventKind.FIELD_CHANGED,
                ticket.updated_at,
                actor_agent_id=actor,
                field="status",
                old_value=new_status,
                new_value={"id": ticket.status_id, "name": status_names[ticket.status_id]},
            )
        )
    return sorted(rows, key=lambda row: row.created_at)


@dataclass(frozen=True)
class _Maker:
    """What every generated ticket is drawn from: the seeded randomness, the texts, the workspace's cast, and now
    (no generated time is later). One ``rng`` in one order of calls is what makes a seed give the same tickets."""

    rng: random.Random
    corpus: Corpus
    cast: _Cast
    now: dt.datetime


def generate(
    *, tickets: int, workspace_slug: str, seed: int = 7, batch_size: int = 2000, progress: bool = False
) -> GenerationReport:
    """Add ``tickets`` tickets to the workspace (created with its cast if missing). Deterministic per seed."""
    from django.db import transaction
    from django.db.models import F

    from deskloop.accounts.models import Workspace
    from deskloop.tickets.models import Status
    from deskloop.tickets.search import index_tickets, optimize_index

    started = time.monotonic()
    rng = random.Random(seed)
    corpus = Corpus.load()
    cast = _workspace_cast(workspace_slug, tickets, rng)
    workspace = cast.workspace
    maker = _Maker(rng=rng, corpus=corpus, cast=cast, now=dt.datetime.now(dt.UTC))
    status_names = dict(Status.objects.filter(workspace=workspace).values_list("id", "name"))
    service_cast = _service_cast(workspace)
    # Its own randomness: the tickets a seed gives stay the same as before the service data existed.
    service_rng = random.Random(seed + 1)
    new_status = {"id": cast.statuses["new"][0], "name": status_names[cast.statuses["new"][0]]}
    span = dt.timedelta(days=730)
    total_messages = 0
    made = 0
    while made < tickets:
        count = min(batch_size, tickets - made)
        with transaction.atomic():
            Workspace.objects.filter(pk=workspace.pk).update(last_ticket_number=F("last_ticket_number") + count)
            last = Workspace.objects.values_list("last_ticket_number", flat=True).get(pk=workspace.pk)
            first_number = last - count + 1
            ticket_rows: list[Ticket] = []
            conversations: list[list[Message]] = []
            for offset in range(count):
                # Older numbers are older tickets; a few recent ones are still new.
                created = (
                    maker.now
                    - span * (1 - (made + offset + 1) / max(tickets, 1))
                    - dt.timedelta(minutes=rng.randint(0, 600))
                )
                ticket, messages = _ticket(maker, first_number + offset, created)
                ticket_rows.append(ticket)
                conversations.append(messages)
            total_messages += _save_batch(maker, ticket_rows, conversations, new_status, status_names)
            add_service_data(service_cast, ticket_rows, service_rng, maker.now)
            index_tickets([ticket.pk for ticket in ticket_rows])
        made += count
        if progress:
            elapsed = time.monotonic() - started
            print(f"  {made}/{tickets} tickets, {total_messages} messages, {elapsed:.0f} s", flush=True)
    optimize_index()
    return GenerationReport(
        workspace_slug=workspace_slug, tickets=made, messages=total_messages, seconds=time.monotonic() - started
    )


def _ticket(maker: _Maker, number: int, created: dt.datetime) -> tuple[Ticket, list[Message]]:
    """One ticket (not saved) and its conversation: who asked, in which state, handled by whom."""
    from deskloop.tickets.models import MessageKind, Ticket

    rng, cast = maker.rng, maker.cast
    requester_id, organization_id = rng.choice(cast.contacts)
    category = pick(rng, STATUS_MIX)
    channel = pick(rng, CHANNEL_MIX)
    team = rng.choice(cast.teams) if rng.random() < 0.8 else None
    members = cast.team_members[team.pk] if team is not None else cast.agents
    assignee = rng.choice(members or cast.agents) if category != "new" and rng.random() < 0.85 else None
    first_text = customer_text(rng, maker.corpus)
    # A new ticket has not been answered yet: only the customer's first message.
    n_messages = 1 if category == "new" else rng.choices(range(1, 13), weights=MESSAGE_COUNT_WEIGHTS)[0]
    messages = _conversation(maker, requester_id, assignee, channel, first_text, n_messages, created)
    agent_replies = [m.created_at for m in messages if m.kind == MessageKind.REPLY and m.author_agent is not None]
    customer_messages = [m.created_at for m in messages if m.author_contact_id is not None]
    updated = messages[-1].created_at
    solved = updated if category in ("solved", "closed") else None
    ticket = Ticket(
        workspace_id=cast.workspace.pk,
        number=number,
        subject=subject_from(first_text),
        status_id=rng.choice(cast.statuses[category]),
        priority=pick(rng, PRIORITY_MIX),
        channel=channel,
        requester_id=requester_id,
        organization_id=organization_id,
        assignee=assignee,
        team=team,
        product_area_id=rng.choice(cast.areas) if rng.random() < 0.6 else None,
        created_at=created,
        updated_at=updated,
        first_response_at=agent_replies[0] if agent_replies else None,
        solved_at=solved,
        closed_at=updated if category == "closed" else None,
        last_customer_message_at=customer_messages[-1] if customer_messages else None,
        last_agent_message_at=agent_replies[-1] if agent_replies else None,
        message_count=sum(1 for m in messages if m.kind != MessageKind.SYSTEM),
    )
    return ticket, messages


def _conversation(
    maker: _Maker,
    requester_id: int,
    assignee: Agent | None,
    channel: str,
    first_text: str,
    n_messages: int,
    created: dt.datetime,
) -> list[Message]:
    """The customer's first message, then agent replies and customer answers in turn, with a few internal notes."""
    from deskloop.core.html import text_to_html
    from deskloop.tickets.models import Message, MessageKind

    rng, corpus, agents = maker.rng, maker.corpus, maker.cast.agents
    messages: list[Message] = []
    when = created
    for index in range(n_messages):
        responder = assignee or rng.choice(agents)
        message_channel = channel
        if index == 0:
            kind, text, author_agent, author_contact = MessageKind.REPLY, first_text, None, requester_id
        elif rng.random() < 0.12:
            kind, author_agent, author_contact = MessageKind.NOTE, responder, None
            text = rng.choice(["@", ""]) + f"{responder.name}: " + rng.choice(corpus.customer)
            message_channel = "web"  # notes are written in the agent UI
        elif index % 2 == 1:
            kind, author_agent, author_contact = MessageKind.REPLY, responder, None
            text = agent_text(rng, corpus, responder.name)
        else:
            kind, text, author_agent, author_contact = MessageKind.REPLY, customer_text(rng, corpus), None, requester_id
        messages.append(
            Message(
                workspace_id=maker.cast.workspace.pk,
                kind=kind,
                author_agent=author_agent,
                author_contact_id=author_contact,
                body_text=text,
                # What the message services store for a plain-text message (see _bodies).
                body_html=text_to_html(text),
                channel=message_channel,
                created_at=when,
            )
        )
        # Never in the future: the newest tickets' conversations end now at the latest.
        when = min(maker.now, when + dt.timedelta(minutes=rng.randint(5, 60 * 30)))
    return messages


def _save_batch(
    maker: _Maker,
    ticket_rows: list[Ticket],
    conversations: list[list[Message]],
    new_status: dict[str, object],
    status_names: dict[int, str],
) -> int:
    """Write a batch of tickets with their messages, tags, followers and history; returns how many messages."""
    from deskloop.tickets.models import Message, Ticket, TicketEvent, TicketTag

    Follower = Ticket.followers.through
    workspace_id = maker.cast.workspace.pk
    Ticket.objects.bulk_create(ticket_rows, batch_size=1000)
    all_messages: list[Message] = []
    for ticket, messages in zip(ticket_rows, conversations, strict=True):
        for message in messages:
            message.ticket_id = ticket.pk
        all_messages.extend(messages)
    Message.objects.bulk_create(all_messages, batch_size=1000)
    links: list[TicketTag] = []
    followers: list[Any] = []
    events: list[TicketEvent] = []
    for ticket, messages in zip(ticket_rows, conversations, strict=True):
        for tag_id in maker.rng.sample(maker.cast.tags, k=maker.rng.choice([0, 0, 1, 1, 2, 3])):
            links.append(TicketTag(workspace_id=workspace_id, ticket_id=ticket.pk, tag_id=tag_id))
        if ticket.assignee_id is not None:
            followers.append(Follower(ticket_id=ticket.pk, agent_id=ticket.assignee_id))
        events.extend(_history(workspace_id, ticket, messages, new_status, status_names))
    TicketTag.objects.bulk_create(links, batch_size=2000)
    Follower.objects.bulk_create(followers, batch_size=2000)
    TicketEvent.objects.bulk_create(events, batch_size=2000)
    return len(all_messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--service-data-only",
        action="store_true",
        help="add business minutes, SLA targets, reopens and CSAT answers to an existing workspace's tickets",
    )
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    if args.service_data_only:
        count = add_service_data_to_workspace(workspace_slug=args.workspace, seed=args.seed)
        print(f"Service data for {count} tickets of workspace '{args.workspace}'.")
        settle_statistics()
        return
    report = generate(
        tickets=args.tickets, workspace_slug=args.workspace, seed=args.seed, batch_size=args.batch_size, progress=True
    )
    print(report)
    settle_statistics()


def settle_statistics() -> None:
    """PostgreSQL: VACUUM ANALYZE what was just loaded, as autovacuum would soon after a bulk load in
    production, so the benchmarks meet planner statistics and visibility maps of a database in steady state
    instead of whatever moment autovacuum happens to reach the tables. SQLite: nothing (Deskloop never runs
    ANALYZE there, so neither does the benchmark)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE in {time.monotonic() - started:.0f} s")


# --- service data: business minutes, SLA targets, reopens, CSAT answers ----------------------------------------

# The bench team's hours: weekdays 08:00-18:00 in Berlin. Business minutes and SLA deadlines are counted in them.
BENCH_HOURS = [{"weekday": day, "start": "08:00", "end": "18:00"} for day in range(5)]
# (name, priorities, first response, resolution) in business minutes: the first policy that matches applies.
BENCH_POLICIES = [
    ("Urgent", ["urgent", "high"], 60, 8 * 60),
    ("Standard", [], 4 * 60, 3 * 10 * 60),
]
REOPEN_SHARE = 0.06  # of solved tickets, opened again once
CSAT_SHARE = 0.2  # of solved tickets, answered the satisfaction survey
SATISFIED_SHARE = 0.86


@dataclass(frozen=True)
class _ServiceCast:
    workspace_id: int
    schedule: Any
    policies: list[tuple[int, frozenset[str], int, int]]  # (policy id, priorities, first response, resolution)
    survey_id: int
    done_statuses: frozenset[int]


def _service_cast(workspace: Workspace) -> _ServiceCast:
    """The bench workspace's calendar, SLA policies and CSAT survey: created once, reused by later runs."""
    from deskloop.calendars.models import BusinessCalendar
    from deskloop.service_levels.models import SlaPolicy
    from deskloop.surveys.models import Survey, SurveyKind
    from deskloop.tickets.models import DONE_CATEGORIES, Status

    calendar, _created = BusinessCalendar.objects.get_or_create(
        workspace=workspace,
        name="Bench support hours",
        defaults={"time_zone": "Europe/Berlin", "weekly_hours": BENCH_HOURS, "is_default": True},
    )
    policies = []
    for position, (name, priorities, first, resolution) in enumerate(BENCH_POLICIES):
        policy, _created = SlaPolicy.objects.get_or_create(
            workspace=workspace,
            name=name,
            defaults={
                "position": position,
                "calendar": calendar,
                "conditions": {"priorities": priorities},
                "first_response_minutes": first,
                "resolution_minutes": resolution,
            },
        )
        policies.append((policy.pk, frozenset(priorities), first, resolution))
    survey, _created = Survey.objects.get_or_create(
        workspace=workspace, kind=SurveyKind.CSAT, name="Bench CSAT", defaults={"question": "How did we do?"}
    )
    done = Status.objects.filter(workspace=workspace, category__in=DONE_CATEGORIES).values_list("pk", flat=True)
    return _ServiceCast(
        workspace_id=workspace.pk,
        schedule=calendar.schedule(),
        policies=policies,
        survey_id=survey.pk,
        done_statuses=frozenset(done),
    )


def _targets_of(cast: _ServiceCast, ticket: Ticket, now: dt.datetime) -> list[Any]:
    """The first response and resolution targets the ticket's policy set, met, breached or running as its
    timestamps say (what service_levels would have recorded)."""
    from deskloop.calendars.business_time import add_business_minutes
    from deskloop.service_levels.models import SlaTarget

    policy_id, _priorities, first, resolution = next(p for p in cast.policies if not p[1] or ticket.priority in p[1])
    rows = []
    for metric, minutes, stopped in (
        ("first_response", first, ticket.first_response_at),
        ("resolution", resolution, ticket.solved_at),
    ):
        due = add_business_minutes(cast.schedule, ticket.created_at, minutes)
        late = due is not None and ((stopped or now) > due)
        rows.append(
            SlaTarget(
                workspace_id=cast.workspace_id,
                ticket_id=ticket.pk,
                policy_id=policy_id,
                metric=metric,
                started_at=ticket.created_at,
                due_at=due,
                stopped_at=stopped,
                breached_at=due if late else None,
            )
        )
    return rows


def add_service_data(cast: _ServiceCast, tickets: list[Ticket], rng: random.Random, now: dt.datetime) -> None:
    """Business minutes, reopen counts, SLA targets and CSAT answers for ``tickets`` (saved already)."""
    from deskloop.calendars.business_time import business_minutes_between
    from deskloop.service_levels.models import SlaTarget
    from deskloop.surveys.models import SurveyKind, SurveyResponse
    from deskloop.tickets.models import Ticket

    targets: list[Any] = []
    answers: list[Any] = []
    for ticket in tickets:
        done = ticket.status_id in cast.done_statuses
        if ticket.first_response_at is not None:
            ticket.first_response_business_minutes = business_minutes_between(
                cast.schedule, ticket.created_at, ticket.first_response_at
            )
        if done and ticket.solved_at is not None:
            ticket.resolution_business_minutes = business_minutes_between(
                cast.schedule, ticket.created_at, ticket.solved_at
            )
            ticket.reopen_count = 1 if rng.random() < REOPEN_SHARE else 0
        ticket_targets = _targets_of(cast, ticket, now)
        running = [t.due_at for t in ticket_targets if t.stopped_at is None and t.due_at is not None]
        ticket.sla_due_at = min(running) if running and not done else None
        targets.extend(ticket_targets)
        if done and ticket.solved_at is not None and rng.random() < CSAT_SHARE:
            satisfied = rng.random() < SATISFIED_SHARE
            answers.append(
                SurveyResponse(
                    workspace_id=cast.workspace_id,
                    survey_id=cast.survey_id,
                    kind=SurveyKind.CSAT,
                    contact_id=ticket.requester_id,
                    organization_id=ticket.organization_id,
                    ticket_id=ticket.pk,
                    product_area_id=ticket.product_area_id,
                    agent_id=ticket.assignee_id,
                    team_id=ticket.team_id,
                    score=1 if satisfied else 0,
                    satisfied=satisfied,
                    channel="email",
                    created_at=min(now, ticket.solved_at + dt.timedelta(hours=rng.randint(1, 48))),
                )
            )
    Ticket.objects.bulk_update(
        tickets,
        ["first_response_business_minutes", "resolution_business_minutes", "reopen_count", "sla_due_at"],
        batch_size=1000,
    )
    SlaTarget.objects.bulk_create(targets, batch_size=2000)
    SurveyResponse.objects.bulk_create(answers, batch_size=2000)


def add_service_data_to_workspace(*, workspace_slug: str, seed: int = 7, batch_size: int = 5000) -> int:
    """Service data for the workspace's tickets that have none yet (no SLA target): for a workspace generated before
    the generator wrote it. Returns how many tickets got it."""
    from django.db import transaction

    from deskloop.accounts.models import Workspace
    from deskloop.service_levels.models import SlaTarget
    from deskloop.tickets.models import Ticket

    workspace = Workspace.objects.get(slug=workspace_slug)
    cast = _service_cast(workspace)
    now = dt.datetime.now(dt.UTC)
    done, started = 0, time.monotonic()
    has_targets = SlaTarget.objects.filter(workspace=workspace).exists()
    # Newest first: a run stopped early (it takes a while at a million) has the recent ranges complete.
    tickets = Ticket.objects.filter(workspace=workspace).order_by("-pk")
    last_id = None
    while True:
        batch = list((tickets if last_id is None else tickets.filter(pk__lt=last_id))[:batch_size])
        if not batch:
            return done
        last_id = batch[-1].pk
        if has_targets:
            covered = set(SlaTarget.objects.filter(ticket__in=batch).values_list("ticket_id", flat=True))
            batch = [t for t in batch if t.pk not in covered]
        with transaction.atomic():
            add_service_data(cast, batch, random.Random(seed * 1_000_003 + last_id), now)
        done += len(batch)
        print(f"  service data: {done} tickets, {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
