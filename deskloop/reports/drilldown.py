"""The tickets behind a number of a report: the report's filters plus what the number counted (a metric, a time
bucket, a backlog age, an SLA outcome, an agent's replies), as one queryset for the page and for the CSV export.

Every link a report draws is built from ``ReportFilters.as_query_string`` and ``Drill.params`` and read back here,
so the list a manager lands on holds exactly the tickets the number counted (the tests check both agree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.csv_export import spreadsheet_safe
from deskloop.quality.queries import reviews_in
from deskloop.reports.filters import BadFilter, ReportFilters, local_midnight, tickets_q
from deskloop.service_levels.models import SlaMetric, SlaPolicy, SlaTarget
from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.tickets.models import DONE_CATEGORIES, Message, MessageKind, StatusCategory, Tag, Ticket

INTERVALS = ("day", "week", "month")
# What a number counted, beyond the report's filters. "backlog" is about now: it ignores the date range; "reviewed"
# (the tickets of the quality reviews written in the range) counts reviews by when they were written.
METRICS = (
    "created",
    "solved",
    "unsolved",
    "responded",
    "unanswered",
    "reopened",
    "backlog",
    "sla",
    "replied",
    "csat_good",
    "csat_bad",
    "reviewed",
)
SLA_OUTCOMES = ("achieved", "breached", "running")
# Backlog age buckets by how long ago the ticket was created: (key, from days, to days or None = older).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-1d", 0, 1),
    ("1-3d", 1, 3),
    ("3-7d", 3, 7),
    ("7-30d", 7, 30),
    ("30d+", 30, None),
)


@dataclass(frozen=True)
class Drill:
    """What one number of a report counted; empty fields do not narrow."""

    metric: str = "created"
    interval: str = ""
    bucket: dt.date | None = None
    age: str = ""
    sla_metric: str = ""
    sla_outcome: str = ""
    policy: int | None = None
    replied_by: int | None = None
    status_category: str = ""
    reviewed: int | None = None

    def params(self) -> dict[str, str]:
        values: dict[str, object] = {
            "metric": "" if self.metric == "created" else self.metric,
            "interval": self.interval if self.bucket else "",
            "bucket": self.bucket.isoformat() if self.bucket else "",
            "age": self.age,
            "sla_metric": self.sla_metric,
            "sla_outcome": self.sla_outcome,
            "policy": self.policy,
            "replied_by": self.replied_by,
            "status_category": self.status_category,
            "reviewed": self.reviewed,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def bucket_start(day: dt.date, interval: str) -> dt.date:
    """The first day of the day/week (Monday)/month bucket holding ``day``."""
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: dt.date, interval: str) -> dt.date:
    if interval == "week":
        return start + dt.timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def _word(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str = "") -> str:
    raw = (params.get(name) or "").strip() or default
    if raw and raw not in allowed:
        raise BadFilter(_("Unknown %(name)s: %(value)s.") % {"name": name, "value": raw[:60]}, field=name)
    return raw


def _number(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadFilter(_("%(name)s must be a number.") % {"name": name}, field=name)
    return int(raw)


def _agent_id(filters: ReportFilters, params: Mapping[str, str], name: str) -> int | None:
    pk = _number(params, name)
    if pk is not None and not Agent.objects.filter(workspace_id=filters.workspace_id, pk=pk).exists():
        raise BadFilter(_("No such agent in this workspace."), field=name)
    return pk


def parse_drill(filters: ReportFilters, params: Mapping[str, str]) -> Drill:
    """The drill-down part of a URL (``metric``, ``interval`` + ``bucket``, ``age``, ``sla_metric``,
    ``sla_outcome``, ``policy``, ``replied_by``, ``status_category``, ``reviewed``); ids of another workspace are refused like unknown ones."""
    metric = _word(params, "metric", METRICS, "created")
    interval = _word(params, "interval", INTERVALS, "day")
    bucket = None
    if (params.get("bucket") or "").strip():
        try:
            bucket = dt.date.fromisoformat(params["bucket"].strip())
        except ValueError as exc:
            raise BadFilter(_("Give the date as YYYY-MM-DD."), field="bucket") from exc
        if bucket_start(bucket, interval) != bucket:
            raise BadFilter(_("The bucket does not start a %(interval)s.") % {"interval": interval}, field="bucket")
    policy = _number(params, "policy")
    if policy is not None and not SlaPolicy.objects.filter(workspace_id=filters.workspace_id, pk=policy).exists():
        raise BadFilter(_("No such SLA policy in this workspace."), field="policy")
    replied_by = _agent_id(filters, params, "replied_by")
    return Drill(
        metric=metric,
        interval=interval,
        bucket=bucket,
        age=_word(params, "age", tuple(key for key, _start, _end in AGE_BUCKETS)),
        sla_metric=_word(params, "sla_metric", tuple(SlaMetric.values)),
        sla_outcome=_word(params, "sla_outcome", SLA_OUTCOMES),
        policy=policy,
        replied_by=replied_by,
        status_category=_word(params, "status_category", tuple(StatusCategory.values)),
        reviewed=_agent_id(filters, params, "reviewed"),
    )


def sla_outcome_q(outcome: str) -> Q:
    """Over SlaTarget: achieved = stopped without a breach; breached = breached (stopped late or not); running =
    neither stopped nor breached yet."""
    if outcome == "achieved":
        return Q(stopped_at__isnull=False, breached_at__isnull=True)
    if outcome == "breached":
        return Q(breached_at__isnull=False)
    if outcome == "running":
        return Q(stopped_at__isnull=True, breached_at__isnull=True)
    return Q()


def age_q(age: str, now: dt.datetime) -> Q:
    for key, start_days, end_days in AGE_BUCKETS:
        if key == age:
            q = Q(created_at__lte=now - dt.timedelta(days=start_days))
            if end_days is not None:
                q &= Q(created_at__gt=now - dt.timedelta(days=end_days))
            return q
    return Q()


def metric_q(metric: str) -> Q:
    """Over Ticket, for the metrics that are a property of the ticket itself."""
    return {
        "solved": Q(status__category__in=DONE_CATEGORIES),
        "unsolved": ~Q(status__category__in=DONE_CATEGORIES),
        "backlog": ~Q(status__category__in=DONE_CATEGORIES),
        "responded": Q(first_response_at__isnull=False),
        "unanswered": Q(first_response_at__isnull=True),
        # Of the solved tickets, those opened again at least once: the reopen rate's numerator.
        "reopened": Q(status__category__in=DONE_CATEGORIES, reopen_count__gt=0),
    }.get(metric, Q())


def drilled_tickets(filters: ReportFilters, drill: Drill, *, now: dt.datetime | None = None) -> QuerySet[Ticket]:
    """The tickets behind the number ``drill`` describes, newest first."""
    in_range = drill.metric not in ("backlog", "reviewed")
    found = Ticket.objects.filter(tickets_q(filters, with_range=in_range), metric_q(drill.metric))
    if drill.bucket is not None:
        start = local_midnight(drill.bucket, filters.zone)
        end = local_midnight(next_bucket(drill.bucket, drill.interval), filters.zone)
        found = found.filter(created_at__gte=start, created_at__lt=end)
    if drill.age:
        found = found.filter(age_q(drill.age, now or timezone.now()))
    if drill.status_category:
        found = found.filter(status__category=drill.status_category)
    if drill.metric == "sla":
        targets = SlaTarget.objects.filter(ticket_id=OuterRef("pk"), workspace_id=filters.workspace_id)
        targets = targets.filter(sla_outcome_q(drill.sla_outcome))
        if drill.sla_metric:
            targets = targets.filter(metric=drill.sla_metric)
        if drill.policy is not None:
            targets = targets.filter(policy_id=drill.policy)
        found = found.filter(Exists(targets))
    if drill.metric == "replied" or drill.replied_by is not None:
        replies = Message.objects.filter(ticket_id=OuterRef("pk"), kind=MessageKind.REPLY, author_agent__isnull=False)
        if drill.replied_by is not None:
            replies = replies.filter(author_agent_id=drill.replied_by)
        found = found.filter(Exists(replies))
    if drill.metric in ("csat_good", "csat_bad"):
        answers = SurveyResponse.objects.filter(
            ticket_id=OuterRef("pk"), kind=SurveyKind.CSAT, satisfied=drill.metric == "csat_good"
        )
        found = found.filter(Exists(answers))
    if drill.metric == "reviewed":
        reviews = reviews_in(filters.workspace_id, filters.since, filters.until).filter(ticket_id=OuterRef("pk"))
        if drill.reviewed is not None:
            reviews = reviews.filter(agent_id=drill.reviewed)
        found = found.filter(Exists(reviews))
    return found.order_by("-created_at", "-pk")


def for_listing(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related(
        "status", "assignee__user", "team", "organization", "product_area", "requester"
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")), "requester__emails")


CSV_HEADER = (
    "number",
    "created_at",
    "subject",
    "status",
    "status_category",
    "priority",
    "channel",
    "requester",
    "organization",
    "assignee",
    "team",
    "product_area",
    "request_type",
    "tags",
    "first_response_at",
    "first_response_business_minutes",
    "solved_at",
    "resolution_business_minutes",
    "reopen_count",
)


def _when(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def csv_rows(tickets: QuerySet[Ticket]) -> Iterator[list[str]]:
    """One row per ticket, read in chunks (with their tags) so an export of any size stays in bounded memory.
    Every text cell went through ``spreadsheet_safe``: customers and agents typed them."""
    yield list(CSV_HEADER)
    for ticket in for_listing(tickets).iterator(chunk_size=500):
        yield [
            str(ticket.number),
            _when(ticket.created_at),
            spreadsheet_safe(ticket.subject),
            spreadsheet_safe(ticket.status.name),
            ticket.status.category,
            ticket.priority,
            ticket.channel,
            spreadsheet_safe(ticket.requester.display_name),
            spreadsheet_safe(ticket.organization.name if ticket.organization else ""),
            spreadsheet_safe(ticket.assignee.name if ticket.assignee else ""),
            spreadsheet_safe(ticket.team.name if ticket.team else ""),
            spreadsheet_safe(ticket.product_area.path if ticket.product_area else ""),
            ticket.request_type,
            spreadsheet_safe(" | ".join(tag.name for tag in ticket.tags.all())),
            _when(ticket.first_response_at),
            _count(ticket.first_response_business_minutes),
            _when(ticket.solved_at),
            _count(ticket.resolution_business_minutes),
            str(ticket.reopen_count),
        ]
