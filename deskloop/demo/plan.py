"""What the demo workspace will contain, decided before anything is written: a pure function of the data files,
a fixed random seed and "now".

Keeping the plan apart from the writes (deskloop.demo.seed) makes the history easy to reason about: every ticket
gets a creation time in the last 90 days, a status that fits its age (yesterday's tickets are new or open, last
month's are solved or closed), and a timeline of steps (assignment, replies, notes, status changes) whose times
follow how a support team works: a first response within minutes for urgent tickets and hours for low ones,
customers answering within a day, engineers later.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20250301
HISTORY_DAYS = 90
DEFAULT_TICKETS = 200
AUTO_CLOSE_AFTER = dt.timedelta(days=4)

StepKind = Literal["assign", "customer", "agent", "note", "engineer", "status"]

# Which final status category a ticket of this age gets, as weights: (max age in days, {category: weight}).
CATEGORY_BY_AGE: list[tuple[float, dict[str, int]]] = [
    (1, {"new": 45, "open": 30, "pending": 20, "on_hold": 5}),
    (3, {"new": 10, "open": 35, "pending": 30, "on_hold": 10, "solved": 15}),
    (12, {"open": 15, "pending": 15, "on_hold": 10, "solved": 60}),
    (30, {"open": 3, "pending": 3, "on_hold": 4, "solved": 50, "closed": 40}),
    (math.inf, {"solved": 8, "closed": 92}),
]
# Minutes from the customer's message to the first agent action, by priority.
FIRST_RESPONSE_MINUTES = {"urgent": (5, 45), "high": (15, 150), "normal": (45, 480), "low": (120, 1440)}
# Minutes from the previous step to a step of this kind.
STEP_MINUTES = {"customer": (20, 1200), "agent": (15, 360), "note": (3, 45), "engineer": (60, 1440)}
PRIORITIES = ["low", "normal", "high", "urgent"]


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    kind: StepKind
    text: str = ""
    # The status category this step sets: an agent reply "and set pending/solved", or a status change.
    status: str = ""
    # Who acts, when it is not the assignee: "dispatcher" (an admin assigning) or "automation" (auto-close).
    actor: str = ""


@dataclass(frozen=True)
class TicketPlan:
    conversation: str
    language: str
    subject: str
    first_message: str
    requester_email: str
    team: str
    assignee: str | None
    area: str
    tags: list[str]
    priority: str
    channel: str
    created_at: dt.datetime
    category: str
    steps: list[Step] = field(default_factory=list)


@cache
def load(name: str) -> Any:
    """A data file of the demo app (deskloop/demo/data/), never anything outside the package."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def directory() -> dict[str, Any]:
    data: dict[str, Any] = load("directory.json")
    return data


def conversations() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = load("conversations.json")["conversations"]
    return data


def text_of(message: dict[str, Any]) -> str:
    text = message["text"]
    return "\n".join(text) if isinstance(text, list) else str(text)


def contacts_by_language(people: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    """language -> [(email, name, organization name or "")]."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for organization in people["organizations"]:
        for name, local in organization["contacts"]:
            found.setdefault(organization["language"], []).append(
                (f"{local}@{organization['domain']}", name, organization["name"])
            )
    for person in people["independent_contacts"]:
        found.setdefault(person["language"], []).append((person["email"], person["name"], ""))
    return found


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _minutes(rng: random.Random, bounds: tuple[int, int]) -> dt.timedelta:
    low, high = bounds
    # Skewed towards the short end: most answers come quickly, a few take much longer.
    return dt.timedelta(seconds=int(60 * (low + (high - low) * rng.random() ** 2)))


def creation_times(rng: random.Random, now: dt.datetime, count: int) -> list[dt.datetime]:
    """Oldest first. 15% arrive in the last two days and 20% in the ten days before, so the inbox has fresh and
    ongoing work; the rest are spread over the 90 days, mostly in working hours (UTC) and less at weekends."""
    times = []
    for index in range(count):
        if index < count * 0.15:
            moment = now - dt.timedelta(hours=2 + 46 * rng.random())
        else:
            oldest, newest = (12, 2) if index < count * 0.35 else (HISTORY_DAYS, 12)
            day = now - dt.timedelta(days=newest + (oldest - newest) * rng.random())
            if day.weekday() >= 5 and rng.random() < 0.7:
                day -= dt.timedelta(days=day.weekday() - 4)  # moved back to Friday
            hour = rng.choices(range(24), weights=[1] * 7 + [6] * 11 + [2] * 6)[0]
            moment = day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        times.append(min(moment, now - dt.timedelta(minutes=90)).replace(microsecond=0))
    return sorted(times)


def _category(rng: random.Random, age: dt.timedelta) -> str:
    days = age.total_seconds() / 86400
    for max_days, weights in CATEGORY_BY_AGE:
        if days <= max_days:
            return _weighted(rng, weights)
    raise AssertionError("the last age band is unbounded")


def _prefix(messages: list[dict[str, Any]], category: str) -> tuple[list[dict[str, Any]], str]:
    """The part of a conversation that fits the final category, and the category it really gets."""
    kinds = [m["from"] for m in messages]
    first_reply = kinds.index("agent", 1)
    if category == "new":
        return messages[:1], "new"
    if category == "pending":
        return messages[: first_reply + 1], "pending"
    if category == "open":
        answers = [i for i in range(first_reply + 1, len(kinds)) if kinds[i] == "customer"]
        return (messages[: answers[0] + 1], "open") if answers else (messages[:1], "open")
    if category == "on_hold":
        notes = [i for i in range(first_reply + 1, len(kinds)) if kinds[i] in ("note", "engineer")]
        return (messages[: notes[0] + 1], "on_hold") if notes else (messages[: first_reply + 1], "pending")
    return messages, category


def _priority(rng: random.Random, base: str, plan_name: str) -> str:
    index = PRIORITIES.index(base)
    roll = rng.random()
    if roll < 0.1:
        index -= 1
    elif roll < 0.2:
        index += 1
    if plan_name == "Enterprise":
        index += 1
    return PRIORITIES[max(0, min(index, len(PRIORITIES) - 1))]


def _timeline(
    rng: random.Random,
    *,
    created_at: dt.datetime,
    messages: list[dict[str, Any]],
    all_kinds: list[str],
    category: str,
    priority: str,
    assigned: bool,
    now: dt.datetime,
    fill: Callable[[str], str],
) -> list[Step]:
    steps: list[Step] = []
    at = created_at
    if assigned:
        first_action = created_at + _minutes(rng, FIRST_RESPONSE_MINUTES[priority])
        dispatcher = "dispatcher" if rng.random() < 0.4 else ""
        at = max(created_at + dt.timedelta(minutes=1), first_action - _minutes(rng, (1, 10)))
        steps.append(Step(at=at, kind="assign", actor=dispatcher))
        at = first_action
        if category == "open" and len(messages) == 1:
            # Taken and being worked on, nothing said to the customer yet.
            steps.append(Step(at=at, kind="status", status="open"))
    for position, message in enumerate(messages[1:], start=1):
        kind = message["from"]
        # The first thing the team does happens at the first-response time drawn above; later steps follow it.
        if position > 1 or kind == "customer":
            at += _minutes(rng, STEP_MINUTES[kind])
        status = ""
        if kind == "agent":
            is_last = position == len(messages) - 1
            waits_for_customer = position + 1 < len(all_kinds) and all_kinds[position + 1] == "customer"
            if is_last and category in ("solved", "closed"):
                status = "solved"
            elif (is_last and category == "pending") or waits_for_customer:
                status = "pending"
        steps.append(Step(at=at, kind=kind, text=fill(text_of(message)), status=status))
    if category == "on_hold":
        at += _minutes(rng, (1, 5))
        steps.append(Step(at=at, kind="status", status="on_hold"))
    return _fit_before(steps, created_at=created_at, limit=now - _minutes(rng, (2, 30)))


def _fit_before(steps: list[Step], *, created_at: dt.datetime, limit: dt.datetime) -> list[Step]:
    """Recent tickets cannot have a conversation that would end in the future: squeeze it into the time there
    was, keeping the order and the proportions of the gaps."""
    if not steps or steps[-1].at <= limit:
        return steps
    factor = (limit - created_at) / (steps[-1].at - created_at)
    fitted: list[Step] = []
    previous = created_at
    for step in steps:
        at = max(created_at + (step.at - created_at) * factor, previous + dt.timedelta(seconds=30))
        fitted.append(Step(at=at.replace(microsecond=0), kind=step.kind, text=step.text, status=step.status,
                           actor=step.actor))  # fmt: skip
        previous = at
    return fitted


def plan_tickets(*, now: dt.datetime, count: int = DEFAULT_TICKETS) -> list[TicketPlan]:
    """The demo's tickets, oldest first (so ticket numbers grow with time). Deterministic for a given ``now``."""
    rng = random.Random(SEED)
    people = directory()
    by_language = contacts_by_language(people)
    organizations = {org["name"]: org for org in people["organizations"]}
    speakers = {agent["key"]: set(agent["speaks"]) for agent in people["agents"]}
    native = {agent["key"]: agent["language"] for agent in people["agents"]}
    first_names = {agent["key"]: agent["name"].split()[0] for agent in people["agents"]}
    templates = conversations()
    pool = (templates * (count // len(templates) + 1))[:count]
    rng.shuffle(pool)
    plans = []
    for created_at, conversation in zip(creation_times(rng, now, count), pool, strict=True):
        language = conversation["language"]
        email, name, organization_name = rng.choice(by_language[language])
        organization = organizations.get(organization_name, {})
        wanted = _category(rng, now - created_at)
        messages, category = _prefix(conversation["messages"], wanted)
        members = [key for key in people["teams"][conversation["team"]] if language in speakers[key]]
        # Agents take most tickets in their own first language and help out with the others.
        weights = [3 if native[key] == language else 1 for key in members]
        assignee = None if category == "new" else rng.choices(members, weights=weights)[0]
        priority = _priority(rng, conversation["priority"], organization.get("plan", ""))
        tags = list(conversation["tags"]) + (["vip"] if organization.get("plan") == "Enterprise" else [])
        names = {"{customer}": name.split()[0], "{agent}": first_names.get(assignee or "", "")}

        def fill(text: str, names: dict[str, str] = names) -> str:
            for placeholder, value in names.items():
                text = text.replace(placeholder, value)
            return text

        steps = _timeline(
            rng,
            fill=fill,
            created_at=created_at,
            messages=messages,
            all_kinds=[m["from"] for m in conversation["messages"]],
            category=category,
            priority=priority,
            assigned=assignee is not None,
            now=now,
        )
        if category == "closed":
            closed_at = steps[-1].at + AUTO_CLOSE_AFTER + _minutes(rng, (0, 120))
            if closed_at < now:
                steps.append(Step(at=closed_at, kind="status", status="closed", actor="automation"))
            else:
                category = "solved"
        plans.append(
            TicketPlan(
                conversation=conversation["key"],
                language=language,
                subject=conversation["subject"],
                first_message=fill(text_of(conversation["messages"][0])),
                requester_email=email,
                team=conversation["team"],
                assignee=assignee,
                area=conversation["area"],
                tags=tags,
                priority=priority,
                channel=_weighted(rng, people["channels"]),
                created_at=created_at,
                category=category,
                steps=steps,
            )
        )
    return plans
