"""Reads of deals and churn records: the lists (cut by product area with its sub-areas, by saved segment, by reason
and dates, all in SQL), the reports, and the access helpers that answer 404 for another workspace's rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.customers.models import Segment
from deskloop.customers.segments import organization_q
from deskloop.ideas.models import ProductTask
from deskloop.revenue.models import ChurnReason, ChurnRecord, Deal, LostReason
from deskloop.tickets.inbox import descendant_area_ids
from deskloop.tickets.models import ProductArea


def get_deal_for_agent(agent: Agent, deal_id: int) -> Deal:
    deal = _deals(agent.workspace_id).filter(pk=deal_id).first()
    if deal is None:
        raise Http404("No such deal")
    return deal


def get_churn_record_for_agent(agent: Agent, churn_record_id: int) -> ChurnRecord:
    record = _churn_records(agent.workspace_id).filter(pk=churn_record_id).first()
    if record is None:
        raise Http404("No such churn record")
    return record


def get_lost_reason_for_agent(agent: Agent, lost_reason_id: int) -> LostReason:
    reason = LostReason.objects.filter(workspace_id=agent.workspace_id, pk=lost_reason_id).first()
    if reason is None:
        raise Http404("No such lost reason")
    return reason


def segment_in_workspace(workspace_id: int, segment_id: int | None) -> Segment | None:
    """A segment named by a list's ``segment`` parameter; another workspace's is not found."""
    if segment_id is None:
        return None
    segment = Segment.objects.filter(workspace_id=workspace_id, pk=segment_id).first()
    if segment is None:
        raise Http404("No such segment")
    return segment


def product_task_of(deal: Deal) -> ProductTask | None:
    from deskloop.revenue.services.deals import TASK_SOURCE

    return (
        ProductTask.objects.filter(workspace_id=deal.workspace_id, source_kind=TASK_SOURCE, source_id=deal.pk)
        .select_related("assignee__user", "product_area")
        .first()
    )


@dataclass(frozen=True)
class DealFilter:
    status: str = ""
    # The area and every area below it.
    product_area_id: int | None = None
    segment: Segment | None = None
    lost_reason_id: int | None = None
    idea_id: int | None = None
    closed_from: dt.date | None = None
    closed_until: dt.date | None = None
    external_id: str = ""


def _deals(workspace_id: int) -> QuerySet[Deal]:
    return Deal.objects.filter(workspace_id=workspace_id).select_related(
        "organization", "lost_reason", "product_area", "idea", "owner__user"
    )


def deals_for(workspace_id: int, cut: DealFilter) -> QuerySet[Deal]:
    """The workspace's deals in ``cut``, newest closed first (open ones, never closed, last)."""
    deals = _deals(workspace_id)
    if cut.status:
        deals = deals.filter(status=cut.status)
    if cut.product_area_id is not None:
        deals = deals.filter(product_area_id__in=descendant_area_ids(workspace_id, [cut.product_area_id]))
    if cut.segment is not None:
        deals = deals.filter(organization_q(cut.segment))
    if cut.lost_reason_id is not None:
        deals = deals.filter(lost_reason_id=cut.lost_reason_id)
    if cut.idea_id is not None:
        deals = deals.filter(idea_id=cut.idea_id)
    if cut.closed_from is not None:
        deals = deals.filter(closed_on__gte=cut.closed_from)
    if cut.closed_until is not None:
        deals = deals.filter(closed_on__lte=cut.closed_until)
    if cut.external_id:
        deals = deals.filter(external_id=cut.external_id)
    return deals


@dataclass(frozen=True)
class ChurnFilter:
    reason: str = ""
    product_area_id: int | None = None
    segment: Segment | None = None
    churned_from: dt.date | None = None
    churned_until: dt.date | None = None
    # True: only those won back; False: only those still gone.
    won_back: bool | None = None
    won_back_from: dt.date | None = None
    won_back_until: dt.date | None = None
    idea_id: int | None = None
    external_id: str = ""


def _churn_records(workspace_id: int) -> QuerySet[ChurnRecord]:
    return ChurnRecord.objects.filter(workspace_id=workspace_id).select_related("organization", "product_area", "idea")


def churn_records_for(workspace_id: int, cut: ChurnFilter) -> QuerySet[ChurnRecord]:
    records = _churn_records(workspace_id)
    if cut.reason:
        records = records.filter(reason=cut.reason)
    if cut.product_area_id is not None:
        records = records.filter(product_area_id__in=descendant_area_ids(workspace_id, [cut.product_area_id]))
    if cut.segment is not None:
        records = records.filter(organization_q(cut.segment))
    if cut.churned_from is not None:
        records = records.filter(churned_on__gte=cut.churned_from)
    if cut.churned_until is not None:
        records = records.filter(churned_on__lte=cut.churned_until)
    if cut.won_back is not None:
        records = records.filter(won_back_on__isnull=not cut.won_back)
    if cut.won_back_from is not None:
        records = records.filter(won_back_on__gte=cut.won_back_from)
    if cut.won_back_until is not None:
        records = records.filter(won_back_on__lte=cut.won_back_until)
    if cut.idea_id is not None:
        records = records.filter(idea_id=cut.idea_id)
    if cut.external_id:
        records = records.filter(external_id=cut.external_id)
    return records


@dataclass(frozen=True)
class Amount:
    count: int
    mrr: Decimal


@dataclass(frozen=True)
class MonthRow:
    month: dt.date
    by_reason: dict[str, Amount]
    total: Amount


@dataclass(frozen=True)
class GroupRow:
    # A churn reason's value, or a product area's id ("" / None: none set).
    key: str | int | None
    label: str
    amount: Amount


@dataclass(frozen=True)
class ChurnReport:
    months: list[MonthRow]
    reasons: list[GroupRow]
    areas: list[GroupRow]
    won_back: Amount
    won_back_by_month: list[tuple[dt.date, Amount]]
    total: Amount


def _amount(row: dict[str, object]) -> Amount:
    return Amount(count=int(row["n"] or 0), mrr=Decimal(str(row["mrr"] or 0)))  # type: ignore[call-overload]


def churn_report(workspace_id: int, cut: ChurnFilter) -> ChurnReport:
    """Churn reasons by month, MRR lost by reason and by product area, and the win-backs, within ``cut``: each
    number is the size of the list ``churn_records_for`` gives for the same cut narrowed to its row."""
    records = churn_records_for(workspace_id, cut).order_by()
    totals = Count("id"), Sum("mrr_lost")
    by_month: dict[dt.date, dict[str, Amount]] = defaultdict(dict)
    for row in (
        records.annotate(month=TruncMonth("churned_on")).values("month", "reason").annotate(n=totals[0], mrr=totals[1])
    ):
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        by_month[month][row["reason"]] = _amount(row)
    months = [
        MonthRow(
            month=month,
            by_reason=reasons,
            total=Amount(sum(a.count for a in reasons.values()), sum((a.mrr for a in reasons.values()), Decimal(0))),
        )
        for month, reasons in sorted(by_month.items())
    ]
    labels = dict(ChurnReason.choices)
    reasons = [
        GroupRow(row["reason"], str(labels.get(row["reason"], row["reason"])), _amount(row))
        for row in records.values("reason").annotate(n=totals[0], mrr=totals[1]).order_by("-mrr", "reason")
    ]
    area_paths = dict(ProductArea.objects.filter(workspace_id=workspace_id).values_list("id", "path"))
    areas = [
        GroupRow(row["product_area"], area_paths.get(row["product_area"], ""), _amount(row))
        for row in records.values("product_area").annotate(n=totals[0], mrr=totals[1]).order_by("-mrr")
    ]
    won = records.filter(won_back_on__isnull=False)
    won_back_by_month = []
    for row in won.annotate(month=TruncMonth("won_back_on")).values("month").annotate(n=totals[0], mrr=totals[1]):
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        won_back_by_month.append((month, _amount(row)))
    return ChurnReport(
        months=months,
        reasons=reasons,
        areas=areas,
        won_back=_amount(won.aggregate(n=totals[0], mrr=totals[1])),
        won_back_by_month=sorted(won_back_by_month),
        total=_amount(records.aggregate(n=totals[0], mrr=totals[1])),
    )


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def lost_deals_by_reason(workspace_id: int, cut: DealFilter) -> list[GroupRow]:
    rows = (
        deals_for(workspace_id, cut)
        .order_by()
        .values("lost_reason", "lost_reason__name")
        .annotate(n=Count("id"), mrr=Sum("amount"))
        .order_by("-mrr")
    )
    return [GroupRow(row["lost_reason"], row["lost_reason__name"] or "", _amount(row)) for row in rows]
