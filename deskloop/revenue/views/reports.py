"""The churn reports: reasons by month, MRR lost by reason and by product area, win-backs, and lost deals by
reason. Every number links to the list of the records behind it (the same cut, narrowed to its row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES
from deskloop.revenue import queries
from deskloop.revenue.forms import ChurnFilterForm
from deskloop.revenue.models import ChurnReason, DealStatus
from deskloop.revenue.views.churn import churn_filter


@dataclass(frozen=True)
class Cell:
    count: int
    mrr: Decimal
    url: str


def _base(form: ChurnFilterForm) -> dict[str, str]:
    """The report's own filters, carried into every link."""
    if not form.is_bound or not form.is_valid():
        return {}
    keep = {}
    for name in ("product_area", "segment", "churned_from", "churned_until", "won_back"):
        value = form.cleaned_data.get(name)
        if value:
            keep[name] = str(value.pk if hasattr(value, "pk") else value)
    return keep


def _link(view: str, base: dict[str, str], **narrower: Any) -> str:
    return f"{reverse(view)}?{urlencode({**base, **{k: str(v) for k, v in narrower.items() if v is not None}})}"


def _month_range(month: dt.date, base: dict[str, str]) -> dict[str, str]:
    """The month, intersected with the report's own dates (a link never widens the cut)."""
    start, end = month.isoformat(), queries.month_end(month).isoformat()
    return {
        "churned_from": max(start, base.get("churned_from", start)),
        "churned_until": min(end, base.get("churned_until", end)),
    }


@agent_view(roles=ALL_ROLES, description="Churn reasons over time, MRR lost by reason and product area, win-backs")
@require_http_methods(["GET"])
def churn_reports(request: AgentRequest) -> HttpResponse:
    workspace_id = request.agent.workspace_id
    form = ChurnFilterForm(request.GET or None, workspace_id=workspace_id)
    cut = churn_filter(form)
    report = queries.churn_report(workspace_id, cut)
    base = _base(form)
    reasons = list(ChurnReason.choices)
    won_back_base = {**base, "won_back": "yes"}
    return render(
        request,
        "revenue/reports.html",
        {
            "form": form,
            "reasons": reasons,
            "months": _month_rows(report, reasons, base),
            "by_reason": [
                (row.label, Cell(row.amount.count, row.amount.mrr, _link("revenue:churn", base, reason=row.key)))
                for row in report.reasons
            ],
            "by_area": _area_rows(report, base),
            "won_back": _won_back_rows(report, won_back_base),
            "won_back_total": Cell(report.won_back.count, report.won_back.mrr, _link("revenue:churn", won_back_base)),
            "total": Cell(report.total.count, report.total.mrr, _link("revenue:churn", base)),
            "lost_deals": _lost_deal_rows(workspace_id, cut, base),
        },
        status=422 if form.errors else 200,
    )


def _month_rows(
    report: queries.ChurnReport, reasons: list[tuple[str, Any]], base: dict[str, str]
) -> list[dict[str, Any]]:
    """Churn per month and reason, each cell linking to the records of that month (and reason)."""
    return [
        {
            "month": row.month,
            "cells": [
                Cell(
                    row.by_reason[code].count if code in row.by_reason else 0,
                    row.by_reason[code].mrr if code in row.by_reason else Decimal(0),
                    _link("revenue:churn", {**base, **_month_range(row.month, base)}, reason=code),
                )
                for code, _label in reasons
            ],
            "total": Cell(
                row.total.count, row.total.mrr, _link("revenue:churn", {**base, **_month_range(row.month, base)})
            ),
        }
        for row in report.months
    ]


def _area_rows(report: queries.ChurnReport, base: dict[str, str]) -> list[tuple[str, Cell]]:
    return [
        (
            row.label,
            Cell(
                row.amount.count,
                row.amount.mrr,
                # The records with no product area have no filter of their own: the link is left out.
                _link("revenue:churn", base, product_area=row.key) if row.key is not None else "",
            ),
        )
        for row in report.areas
    ]


def _won_back_rows(report: queries.ChurnReport, won_back_base: dict[str, str]) -> list[tuple[Any, Cell]]:
    return [
        (
            month,
            Cell(
                amount.count,
                amount.mrr,
                _link(
                    "revenue:churn",
                    won_back_base,
                    won_back_from=month.isoformat(),
                    won_back_until=queries.month_end(month).isoformat(),
                ),
            ),
        )
        for month, amount in report.won_back_by_month
    ]


def _lost_deal_rows(workspace_id: int, cut: queries.ChurnFilter, base: dict[str, str]) -> list[tuple[str, Cell]]:
    """Deals lost in the same window and cut, by reason, linking to the deals list."""
    deal_cut = queries.DealFilter(
        status=DealStatus.LOST,
        product_area_id=cut.product_area_id,
        segment=cut.segment,
        closed_from=cut.churned_from,
        closed_until=cut.churned_until,
    )
    deal_base = {k: v for k, v in base.items() if k in ("product_area", "segment")}
    deal_base.update({"closed_from": base.get("churned_from", ""), "closed_until": base.get("churned_until", "")})
    deal_base = {k: v for k, v in deal_base.items() if v}
    return [
        (
            row.label,
            Cell(
                row.amount.count,
                row.amount.mrr,
                _link("revenue:deals", deal_base, status="lost", lost_reason=row.key) if row.key is not None else "",
            ),
        )
        for row in queries.lost_deals_by_reason(workspace_id, deal_cut)
    ]
