"""The product manager's reads: product areas with their owner and counts, and per area the ideas ranked by value
with their evidence, the month's top customer problems, NPS and CSAT, and the open product tasks.

Every read is one grouped query over the area (and the areas below it), optionally cut by a saved segment through
``customers.segments.organization_q``; nothing is counted row by row in Python, so the page costs the same with
twenty ideas or twenty thousand. Deals, churn records and survey answers are read here, from the apps below
(insights sits above revenue and surveys), and only as counts and links: their own pages list the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from deskloop.accounts.models import Agent
from deskloop.customers.models import Segment
from deskloop.customers.segments import organization_q
from deskloop.ideas.models import Idea, IdeaSegmentValue, IdeaStatus, IdeaTicket, IdeaVote, ProductTask
from deskloop.ideas.queries import TRENDING_DAYS as TRENDING_DAYS
from deskloop.ideas.queries import BoardQuery, BoardRow, board_page
from deskloop.ideas.services.values import ensure_segment_values
from deskloop.revenue.models import ChurnRecord, Deal, DealStatus
from deskloop.surveys.models import SurveyResponse
from deskloop.surveys.stats import GroupEstimate, csat_by, nps_by
from deskloop.tickets.inbox import descendant_area_ids
from deskloop.tickets.models import ProductArea, RequestType, Ticket

OPEN_STATUSES = (IdeaStatus.UNDER_REVIEW, IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS)
PROBLEM_TYPES = (RequestType.PROBLEM, RequestType.BUG)
RANKED_IDEAS = 20
SURVEY_DAYS = 90


def area_for_agent(agent: Agent, area_id: int) -> ProductArea:
    area = ProductArea.objects.filter(workspace_id=agent.workspace_id, pk=area_id).select_related("owner__user").first()
    if area is None:
        raise Http404("No such product area")
    return area


# --- the overview: every area with its owner and counts ------------------------------------------------------


@dataclass(frozen=True)
class AreaSummary:
    area: ProductArea
    open_ideas: int
    recent_votes: int
    recent_tickets: int
    open_tasks: int


def area_summaries(agent: Agent, *, segment: Segment | None = None) -> list[AreaSummary]:
    """Every product area of the workspace in tree order: its open ideas, the votes and tickets of the last
    ``TRENDING_DAYS`` days (the segment's only, when given) and its open tasks. Counts are the area's own; the page
    shows the tree, so a parent's row does not repeat its children's."""
    wid = agent.workspace_id
    since = timezone.now() - dt.timedelta(days=TRENDING_DAYS)
    areas = list(ProductArea.objects.filter(workspace_id=wid).select_related("owner__user").order_by("path", "id"))
    ideas = _counts(
        Idea.objects.filter(workspace_id=wid, merged_into__isnull=True, status__in=OPEN_STATUSES), "product_area_id"
    )
    tickets = Ticket.objects.filter(workspace_id=wid, created_at__gte=since, deleted_at__isnull=True, is_spam=False)
    if segment is not None:
        tickets = tickets.filter(organization_q(segment, path="requester__organization"))
    recent_votes = _recent_votes_by_area(wid, segment)
    recent_tickets = _counts(tickets, "product_area_id")
    tasks = _counts(ProductTask.objects.filter(workspace_id=wid, done_at__isnull=True), "product_area_id")
    return [
        AreaSummary(
            area=area,
            open_ideas=ideas.get(area.pk, 0),
            recent_votes=recent_votes.get(area.pk, 0),
            recent_tickets=recent_tickets.get(area.pk, 0),
            open_tasks=tasks.get(area.pk, 0),
        )
        for area in areas
    ]


def _recent_votes_by_area(workspace_id: int, segment: Segment | None) -> dict[int, int]:
    """The votes of the last ``TRENDING_DAYS`` days per area, from the ideas' cached counts (the segment's own when
    given): the same figure "trending" sorts the board by, without reading the month's votes again."""
    if segment is None:
        rows = Idea.objects.filter(workspace_id=workspace_id, merged_into__isnull=True).values_list("product_area_id")
        grouped: Iterable[tuple[int | None, int | None]] = rows.annotate(n=Sum("recent_vote_count")).order_by()
    else:
        ensure_segment_values(segment)
        values = IdeaSegmentValue.objects.filter(segment=segment, idea__merged_into__isnull=True)
        grouped = values.values_list("idea__product_area_id").annotate(n=Sum("recent_vote_count")).order_by()
    return {area_id: n or 0 for area_id, n in grouped if area_id is not None}


def _counts(rows: object, key: str) -> dict[int, int]:
    grouped = rows.values_list(key).annotate(n=Count("id")).order_by()  # type: ignore[attr-defined]
    return {area_id: n for area_id, n in grouped if area_id is not None}


# --- the product manager's page of one area ------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What backs an idea beyond its votes: linked tickets, lost deals (and their amount), churned organizations
    (and the MRR they took), survey comments turned into votes; and the votes' trend."""

    tickets: int = 0
    lost_deals: int = 0
    lost_amount: Decimal = Decimal("0")
    churned: int = 0
    churned_mrr: Decimal = Decimal("0")
    survey_comments: int = 0
    votes_last_30: int = 0
    votes_previous_30: int = 0

    @property
    def trend(self) -> int:
        return self.votes_last_30 - self.votes_previous_30


@dataclass(frozen=True)
class RankedIdea:
    row: BoardRow
    evidence: Evidence


@dataclass(frozen=True)
class Problem:
    """A group of the month's problem and bug tickets: one product area and request type, and how many."""

    area: ProductArea | None
    request_type: str
    label: str
    tickets: int


@dataclass(frozen=True)
class AreaPage:
    area: ProductArea
    area_ids: list[int]
    ideas: list[RankedIdea]
    problems: list[Problem]
    nps: dict[str, list[GroupEstimate]] = field(default_factory=dict)
    csat: dict[str, list[GroupEstimate]] = field(default_factory=dict)
    tasks: list[ProductTask] = field(default_factory=list)


def area_page(agent: Agent, area: ProductArea, *, segment: Segment | None = None) -> AreaPage:
    """Everything the product manager's page of ``area`` (and the areas below it) shows, cut by ``segment``."""
    wid = agent.workspace_id
    area_ids = descendant_area_ids(wid, [area.pk])
    rows = board_page(
        BoardQuery(workspace_id=wid, statuses=OPEN_STATUSES, product_area_ids=[area.pk], segment=segment),
        limit=RANKED_IDEAS,
    ).rows
    evidence = idea_evidence({row.idea.pk: row.recent_votes for row in rows}, segment=segment)
    since = timezone.now() - dt.timedelta(days=SURVEY_DAYS)
    stats = {"product_area": "product_area", "plan": "plan", "segment": "segment"}
    return AreaPage(
        area=area,
        area_ids=area_ids,
        ideas=[RankedIdea(row=row, evidence=evidence.get(row.idea.pk, Evidence())) for row in rows],
        problems=top_problems(wid, area_ids, segment=segment),
        nps={
            name: nps_by(wid, group=group, since=since, segment=segment, product_area_ids=area_ids)  # type: ignore[arg-type]
            for name, group in stats.items()
        },
        csat={
            name: csat_by(wid, group=group, since=since, segment=segment, product_area_ids=area_ids)  # type: ignore[arg-type]
            for name, group in stats.items()
        },
        tasks=open_tasks(wid, area_ids),
    )


def idea_evidence(recent_votes: Mapping[int, int], *, segment: Segment | None = None) -> dict[int, Evidence]:
    """Per idea (id -> its votes of the last 30 days, as the board row carries them): five grouped counts over
    these ideas only (a page's worth), cut by ``segment`` where the evidence has an organization (tickets through
    their requester's)."""
    if not recent_votes:
        return {}
    ids = list(recent_votes)
    now = timezone.now()
    recent, previous = now - dt.timedelta(days=TRENDING_DAYS), now - dt.timedelta(days=2 * TRENDING_DAYS)

    def cut(q: Q, path: str) -> Q:
        return q & organization_q(segment, path=path) if segment is not None else q

    tickets = _per_idea(IdeaTicket.objects.filter(cut(Q(idea_id__in=ids), "ticket__requester__organization")))
    deals = {
        row["idea_id"]: row
        for row in Deal.objects.filter(cut(Q(idea_id__in=ids, status=DealStatus.LOST), "organization"))
        .values("idea_id")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by()
    }
    churn = {
        row["idea_id"]: row
        for row in ChurnRecord.objects.filter(cut(Q(idea_id__in=ids), "organization"))
        .values("idea_id")
        .annotate(n=Count("id"), mrr=Sum("mrr_lost"))
        .order_by()
    }
    comments = _per_idea(
        SurveyResponse.objects.filter(cut(Q(idea_vote__idea_id__in=ids), "organization")).exclude(comment=""),
        key="idea_vote__idea_id",
    )
    # The last 30 days are the ideas' cached count (the board's "trending"); only the 30 before are read here.
    before = _per_idea(
        IdeaVote.objects.filter(
            cut(Q(idea_id__in=ids, created_at__gte=previous, created_at__lt=recent), "organization")
        )
    )
    return {
        idea_id: Evidence(
            tickets=tickets.get(idea_id, 0),
            lost_deals=deals.get(idea_id, {}).get("n", 0),
            lost_amount=deals.get(idea_id, {}).get("amount") or Decimal("0"),
            churned=churn.get(idea_id, {}).get("n", 0),
            churned_mrr=churn.get(idea_id, {}).get("mrr") or Decimal("0"),
            survey_comments=comments.get(idea_id, 0),
            votes_last_30=recent_votes.get(idea_id, 0),
            votes_previous_30=before.get(idea_id, 0),
        )
        for idea_id in ids
    }


def _per_idea(rows: object, key: str = "idea_id") -> dict[int, int]:
    return dict(rows.values_list(key).annotate(n=Count("id")).order_by())  # type: ignore[attr-defined]


def top_problems(
    workspace_id: int, area_ids: Sequence[int], *, segment: Segment | None = None, limit: int = 5
) -> list[Problem]:
    """The last ``TRENDING_DAYS`` days' tickets typed problem or bug in these areas, grouped by area and type,
    most tickets first."""
    since = timezone.now() - dt.timedelta(days=TRENDING_DAYS)
    tickets = Ticket.objects.filter(
        workspace_id=workspace_id,
        product_area_id__in=list(area_ids),
        request_type__in=PROBLEM_TYPES,
        created_at__gte=since,
        deleted_at__isnull=True,
        is_spam=False,
    )
    if segment is not None:
        tickets = tickets.filter(organization_q(segment, path="requester__organization"))
    grouped = list(
        tickets.values_list("product_area_id", "request_type")
        .annotate(n=Count("id"))
        .order_by("-n", "product_area_id", "request_type")[:limit]
    )
    areas = ProductArea.objects.in_bulk([area_id for area_id, _type, _n in grouped])
    labels = dict(RequestType.choices)
    return [
        Problem(area=areas.get(area_id), request_type=kind, label=str(labels.get(kind, kind)), tickets=n)
        for area_id, kind, n in grouped
    ]


def open_tasks(workspace_id: int, area_ids: Sequence[int]) -> list[ProductTask]:
    return list(
        ProductTask.objects.filter(workspace_id=workspace_id, product_area_id__in=list(area_ids), done_at__isnull=True)
        .select_related("assignee__user", "idea", "product_area")
        .order_by("-created_at", "-id")[:50]
    )


def my_open_tasks(agent: Agent) -> list[ProductTask]:
    """The tasks assigned to ``agent`` (the product manager's own list on the overview)."""
    return list(
        ProductTask.objects.filter(workspace_id=agent.workspace_id, assignee=agent, done_at__isnull=True)
        .select_related("idea", "product_area")
        .order_by("-created_at", "-id")[:50]
    )
