"""The reports' reads: volume over time, first response and resolution times, SLA achievement, the backlog and its
age, agent performance, and the top problems by product area.

Every report counts the tickets ``filters.tickets_q`` describes (created in the range; the backlog: open now) with
a few grouped queries, never row by row in Python, and each of its numbers carries the drill-down parameters
(``drilldown.Drill``) that list exactly the tickets it counted. Reads only: reports never write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, DateField, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskloop.accounts.models import Agent
from deskloop.customers.models import Organization
from deskloop.reports.drilldown import AGE_BUCKETS, age_q, bucket_start, next_bucket
from deskloop.reports.filters import ReportFilters, tickets_q
from deskloop.reports.percentiles import Measure, Spread, read_spreads, spread_aggregates, spreads
from deskloop.service_levels.models import SlaMetric, SlaPolicy, SlaTarget
from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.tickets.models import (
    DONE_CATEGORIES,
    Channel,
    Message,
    MessageKind,
    ProductArea,
    RequestType,
    StatusCategory,
    Ticket,
)

DIMENSIONS = {
    "channel": _("Channel"),
    "product_area": _("Product area"),
    "tag": _("Tag"),
    "request_type": _("Request type"),
    "organization": _("Organization"),
}
# The groups a volume table shows (the busiest); the totals row still counts every ticket.
MAX_GROUPS = 12
TOP_AREAS = 10
TOP_TAGS = 3


def live_tickets(filters: ReportFilters, *, with_range: bool = True) -> QuerySet[Ticket]:
    return Ticket.objects.filter(tickets_q(filters, with_range=with_range))


def _bucket(filters: ReportFilters, interval: str) -> Trunc:
    return Trunc("created_at", interval, output_field=DateField(), tzinfo=filters.zone)


def buckets_of(filters: ReportFilters, interval: str) -> list[dt.date]:
    """Every bucket the range touches, empty ones included (a chart with gaps hides a quiet week)."""
    found, start = [], bucket_start(filters.since, interval)
    while start <= filters.until:
        found.append(start)
        start = next_bucket(start, interval)
    return found


# --- volume ------------------------------------------------------------------------------------------------------


@dataclass
class VolumeGroup:
    key: str | int
    label: str
    counts: dict[dt.date, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class VolumeReport:
    dimension: str
    interval: str
    buckets: list[dt.date]
    totals: dict[dt.date, int]
    groups: list[VolumeGroup]

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def _root_areas(workspace_id: int) -> tuple[dict[int, int], dict[int, str]]:
    """Each area's top-level area, and the top-level areas' names: volume is shown per top-level area (with its
    sub-areas), so the drill-down's ``product_area`` (which includes sub-areas) lists the same tickets."""
    areas = list(ProductArea.objects.filter(workspace_id=workspace_id).values_list("pk", "path", "name"))
    by_path = {path: pk for pk, path, _name in areas}
    roots = {pk: by_path.get(path.split(" > ")[0], pk) for pk, path, _name in areas}
    names = {pk: name for pk, path, name in areas if " > " not in path}
    return roots, names


def _group_labels(filters: ReportFilters, dimension: str, keys: Sequence[object]) -> dict[object, str]:
    wid = filters.workspace_id
    if dimension == "channel":
        return {k: str(label) for k, label in Channel.choices}
    if dimension == "request_type":
        return {k: str(label) for k, label in RequestType.choices}
    if dimension == "tag":
        from deskloop.tickets.models import Tag

        return dict(Tag.objects.filter(workspace_id=wid, pk__in=list(keys)).values_list("pk", "name"))
    if dimension == "organization":
        return dict(Organization.objects.filter(workspace_id=wid, pk__in=list(keys)).values_list("pk", "name"))
    return {}


def volume(filters: ReportFilters, *, dimension: str = "channel", interval: str = "week") -> VolumeReport:
    """Tickets created per bucket, in total and per value of ``dimension`` (a ticket with two tags counts once per
    tag; tickets without a value are in the totals only)."""
    tickets = live_tickets(filters).annotate(bucket=_bucket(filters, interval))
    totals = dict(tickets.values("bucket").annotate(n=Count("pk")).order_by().values_list("bucket", "n"))
    column = {"tag": "tags__id", "product_area": "product_area_id", "organization": "organization_id"}.get(
        dimension, dimension
    )
    rows = (
        # filter(), not exclude(): on the tags relation exclude() is a NOT EXISTS over a second join, minutes at
        # scale; filter() is one inner join.
        tickets.filter(**{f"{column}__isnull": False})
        .exclude(**{column: ""} if dimension in ("channel", "request_type") else {})
        .values("bucket", column)
        .annotate(n=Count("pk"))
        .order_by()
        .values_list(column, "bucket", "n")
    )
    groups: dict[object, VolumeGroup] = {}
    roots, root_names = _root_areas(filters.workspace_id) if dimension == "product_area" else ({}, {})
    labels = _group_labels(filters, dimension, [key for key, _b, _n in rows])
    for key, bucket, count in rows:
        if dimension == "product_area":
            key = roots.get(key, key)
        group = groups.setdefault(key, VolumeGroup(key=key, label=root_names.get(key) or labels.get(key, str(key))))
        group.counts[bucket] = group.counts.get(bucket, 0) + count
    busiest = sorted(groups.values(), key=lambda g: (-g.total, g.label))[:MAX_GROUPS]
    return VolumeReport(
        dimension=dimension, interval=interval, buckets=buckets_of(filters, interval), totals=totals, groups=busiest
    )


# --- first response and resolution times -------------------------------------------------------------------------


FIRST_RESPONSE_CALENDAR = ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
RESOLUTION_CALENDAR = ExpressionWrapper(F("solved_at") - F("created_at"), output_field=DurationField())
# (name, business minutes column, calendar duration, the tickets it is about: resolution counts the solved ones)
TIME_MEASURES = (
    ("first_response", F("first_response_business_minutes"), FIRST_RESPONSE_CALENDAR, None),
    ("resolution", F("resolution_business_minutes"), RESOLUTION_CALENDAR, Q(status__category__in=DONE_CATEGORIES)),
)
TIME_SPREADS = [
    Measure(f"{name}/{clock}", value, only)
    for name, business, calendar, only in TIME_MEASURES
    for clock, value in (("business", business), ("calendar", calendar))
]


@dataclass(frozen=True)
class TimeRow:
    """One bucket (or the whole range: ``bucket`` None) of one measure, in business and calendar minutes."""

    bucket: dt.date | None
    business: Spread
    calendar: Spread


@dataclass
class TimesReport:
    interval: str
    measures: dict[str, list[TimeRow]]


def times(filters: ReportFilters, *, interval: str = "week") -> TimesReport:
    """Median and p90 of the first response and the resolution time, over the range and per bucket. Resolution
    counts tickets solved now (a reopened ticket's latest solve), as ``metric=solved`` lists them."""
    tickets = live_tickets(filters)
    # Two passes over the range's tickets, whatever the number of measures: per bucket, and the whole range.
    found = spreads(tickets, TIME_SPREADS, group=_bucket(filters, interval)) | spreads(tickets, TIME_SPREADS)
    measures: dict[str, list[TimeRow]] = {}
    for name, *_values in TIME_MEASURES:
        measures[name] = [
            TimeRow(
                bucket=day,
                business=found.get(day, {}).get(f"{name}/business", Spread()),
                calendar=found.get(day, {}).get(f"{name}/calendar", Spread()),
            )
            for day in [None, *buckets_of(filters, interval)]
        ]
    return TimesReport(interval=interval, measures=measures)


# --- SLA achievement ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaRow:
    metric: str
    metric_label: str
    policy_id: int | None
    policy_name: str
    achieved: int
    breached: int
    running: int

    @property
    def achievement(self) -> float | None:
        """Achieved over decided (achieved + breached); running targets are not decided yet."""
        decided = self.achieved + self.breached
        return self.achieved / decided if decided else None


def sla(filters: ReportFilters) -> list[SlaRow]:
    """Per metric and policy: the targets of the range's tickets that were met, breached, or are still running."""
    targets = SlaTarget.objects.filter(tickets_q(filters, prefix="ticket"), workspace_id=filters.workspace_id)
    rows = (
        targets.values("metric", "policy_id")
        .annotate(
            achieved=Count("pk", filter=Q(stopped_at__isnull=False, breached_at__isnull=True)),
            breached=Count("pk", filter=Q(breached_at__isnull=False)),
            running=Count("pk", filter=Q(stopped_at__isnull=True, breached_at__isnull=True)),
        )
        .order_by()
    )
    names = dict(SlaPolicy.objects.filter(workspace_id=filters.workspace_id).values_list("pk", "name"))
    metric_order = {value: index for index, value in enumerate(SlaMetric.values)}
    labels = dict(SlaMetric.choices)
    found = [
        SlaRow(
            metric=row["metric"],
            metric_label=str(labels.get(row["metric"], row["metric"])),
            policy_id=row["policy_id"],
            policy_name=names.get(row["policy_id"], str(_("(policy deleted)"))),
            achieved=row["achieved"],
            breached=row["breached"],
            running=row["running"],
        )
        for row in rows
    ]
    return sorted(found, key=lambda r: (metric_order.get(r.metric, 9), r.policy_name))


# --- backlog -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacklogReport:
    total: int
    by_age: list[tuple[str, int]]
    by_category: list[tuple[str, str, int]]


def backlog(filters: ReportFilters, *, now: dt.datetime | None = None) -> BacklogReport:
    """The tickets not solved or closed now (whatever the range), by age since creation and by status category."""
    now = now or timezone.now()
    open_now = live_tickets(filters, with_range=False).exclude(status__category__in=DONE_CATEGORIES)
    ages = open_now.aggregate(
        total=Count("pk"), **{key: Count("pk", filter=age_q(key, now)) for key, _start, _end in AGE_BUCKETS}
    )
    categories = dict(open_now.values("status__category").annotate(n=Count("pk")).values_list("status__category", "n"))
    return BacklogReport(
        total=ages["total"],
        by_age=[(key, ages[key]) for key, _start, _end in AGE_BUCKETS],
        by_category=[
            (str(value), str(label), categories.get(value, 0))
            for value, label in StatusCategory.choices
            if value not in DONE_CATEGORIES
        ],
    )


# --- agent performance -------------------------------------------------------------------------------------------


@dataclass
class AgentRow:
    agent: Agent
    tickets: int = 0
    solved: int = 0
    reopened: int = 0
    replies: int = 0
    replied_tickets: int = 0
    first_response: Spread = field(default_factory=Spread)
    time_to_solve: Spread = field(default_factory=Spread)
    csat_good: int = 0
    csat_total: int = 0
    quality: tuple[float, int] | None = None

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.solved if self.solved else None

    @property
    def csat(self) -> float | None:
        return self.csat_good / self.csat_total if self.csat_total else None


AGENT_SPREADS = [
    Measure("first_response", F("first_response_business_minutes")),
    Measure("time_to_solve", F("resolution_business_minutes"), Q(status__category__in=DONE_CATEGORIES)),
]


def agents(filters: ReportFilters) -> list[AgentRow]:
    """Per agent, over the range's tickets: tickets assigned, solved, reopened (of those solved), the agent's public
    replies (on any of them), first response and time to solve (medians in business minutes, of the tickets
    assigned to them) and CSAT (answers on those tickets). Time to solve is elapsed business time from creation to
    solve, not effort: Deskloop does not record how long an agent worked on a ticket."""
    done = Q(status__category__in=DONE_CATEGORIES)
    # The counts and the medians of the assigned tickets in one pass over the range.
    per_agent = (
        live_tickets(filters)
        .filter(assignee__isnull=False)
        .values("assignee_id")
        .annotate(
            tickets=Count("pk"),
            solved=Count("pk", filter=done),
            reopened=Count("pk", filter=done & Q(reopen_count__gt=0)),
            **spread_aggregates(AGENT_SPREADS),
        )
        .order_by()
    )
    assigned = {row["assignee_id"]: row for row in per_agent}
    replies = (
        Message.objects.filter(tickets_q(filters, prefix="ticket"), kind=MessageKind.REPLY, author_agent__isnull=False)
        .values("author_agent_id")
        # COUNT(*), not of the id: then the partial index ``message_agent_replies`` (ticket, agent) answers alone.
        .annotate(n=Count("*"), on=Count("ticket_id", distinct=True))
        .order_by()
    )
    reply_counts = {row["author_agent_id"]: (row["n"], row["on"]) for row in replies}
    answers = (
        SurveyResponse.objects.filter(
            tickets_q(filters, prefix="ticket"), kind=SurveyKind.CSAT, satisfied__isnull=False
        )
        .values("ticket__assignee_id")
        .annotate(good=Count("pk", filter=Q(satisfied=True)), total=Count("pk"))
        .order_by()
    )
    csat = {row["ticket__assignee_id"]: (row["good"], row["total"]) for row in answers}
    ids: set[Hashable] = set(assigned) | set(reply_counts)
    people = Agent.objects.filter(workspace_id=filters.workspace_id, pk__in=ids).select_related("user")
    rows = []
    for person in people:
        found = assigned.get(person.pk)
        row = AgentRow(agent=person)
        if found is not None:
            row.tickets, row.solved, row.reopened = found["tickets"], found["solved"], found["reopened"]
            spread = read_spreads(found, AGENT_SPREADS)
            row.first_response, row.time_to_solve = spread["first_response"], spread["time_to_solve"]
        row.replies, row.replied_tickets = reply_counts.get(person.pk, (0, 0))
        row.csat_good, row.csat_total = csat.get(person.pk, (0, 0))
        rows.append(row)
    return sorted(rows, key=lambda r: (-r.tickets, -r.replies, r.agent.name))


# --- top problems ------------------------------------------------------------------------------------------------


@dataclass
class ProblemRow:
    area: ProductArea
    count: int = 0
    previous: int = 0
    tags: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def change(self) -> int:
        return self.count - self.previous


def problems(filters: ReportFilters) -> tuple[ReportFilters, list[ProblemRow]]:
    """The product areas with the most tickets in the range (each area with its sub-areas), the change against the
    period of the same length just before, and each area's most frequent tags. Returns the previous period's
    filters too (its numbers drill down there)."""
    before = filters.with_range(filters.since - dt.timedelta(days=filters.days), filters.since - dt.timedelta(days=1))
    areas = {a.pk: a for a in ProductArea.objects.filter(workspace_id=filters.workspace_id)}
    by_path = {a.path: a.pk for a in areas.values()}

    def ancestors(area_id: int) -> list[int]:
        """The area and every area above it: a ticket of "Billing > Invoices" counts for "Billing" too."""
        parts = areas[area_id].path.split(" > ")
        return [by_path[" > ".join(parts[: i + 1])] for i in range(len(parts)) if " > ".join(parts[: i + 1]) in by_path]

    rows = {pk: ProblemRow(area=area) for pk, area in areas.items()}
    for period, attribute in ((filters, "count"), (before, "previous")):
        counted = (
            live_tickets(period).filter(product_area__isnull=False).values("product_area_id").annotate(n=Count("pk"))
        )
        for area_id, count in counted.order_by().values_list("product_area_id", "n"):
            for pk in ancestors(area_id):
                setattr(rows[pk], attribute, getattr(rows[pk], attribute) + count)
    top = sorted((r for r in rows.values() if r.count), key=lambda r: (-r.count, r.area.path))[:TOP_AREAS]
    tag_rows = (
        live_tickets(filters)
        .filter(product_area__isnull=False, tags__isnull=False)
        .values("product_area_id", "tags__id", "tags__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    tag_counts: dict[int, dict[tuple[int, str], int]] = {}
    for tagged in tag_rows:
        for pk in ancestors(tagged["product_area_id"]):
            key = (tagged["tags__id"], tagged["tags__name"])
            tag_counts.setdefault(pk, {})[key] = tag_counts.get(pk, {}).get(key, 0) + tagged["n"]
    for problem in top:
        ranked = sorted(tag_counts.get(problem.area.pk, {}).items(), key=lambda item: (-item[1], item[0][1]))
        problem.tags = [(tag_id, name, count) for (tag_id, name), count in ranked[:TOP_TAGS]]
    return before, top
