"""The deflection report over the API: the same figures as /knowledge/deflection/, from the same reads.

Every role may read it, as on the page. Rates and intervals are proportions (0.3 is 30%); an arm without judged
sessions has no rate (null), and the difference needs both arms.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ALL_ROLES
from deskloop.core.api_support import api_policy, problems
from deskloop.knowledge.deflection_report import ArmFigures, DeflectionReport, deflection_report, parse_range
from deskloop.knowledge.models import RequestChannel
from deskloop.knowledge.statistics import Interval

router = Router(tags=["knowledge"])


class DeflectionQuery(Schema):
    from_: dt.date | None = Field(None, alias="from", description="First day (UTC); 30 days before `to` when left out.")
    to: dt.date | None = Field(None, description="Last day (UTC), included; today when left out.")
    channel: RequestChannel | None = Field(None, description="One channel; all when left out.")


class IntervalOut(Schema):
    estimate: float
    low: float = Field(..., description="Lower end of the 95% interval.")
    high: float = Field(..., description="Upper end of the 95% interval.")


class ArmOut(Schema):
    sessions: int = Field(..., description="Sessions started in the range, whatever became of them.")
    judged: int = Field(..., description="Sessions with a final outcome: the rate's denominator.")
    verified_deflections: int
    wrote: int = Field(..., description="Submitted anyway, or wrote within the window after leaving.")
    pending: int = Field(..., description="Still within their window (open, left, solved): not yet judged.")
    left_before_suggestion: int = Field(..., description="Ended before anything was shown: in neither arm's rate.")
    rate: IntervalOut | None = Field(..., description="Verified deflections / judged, Wilson 95% interval.")


class NoAnswerOut(Schema):
    query: str
    sessions: int


class ArticleReadOut(Schema):
    article_id: int
    title: str
    wrote_sessions: int
    deflected_sessions: int


class HelpfulnessOut(Schema):
    article_id: int
    title: str
    helpful: int
    not_helpful: int
    rate: float | None
    comments: list[str]


class DeflectionOut(Schema):
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    channel: str | None
    window_hours: int
    suggestions: ArmOut
    holdout: ArmOut
    difference: IntervalOut | None = Field(..., description="Suggestion arm's rate minus the holdout's (Newcombe).")
    requests_saved: IntervalOut | None = Field(..., description="The difference times the suggestion arm's judged.")
    no_answer_searches: list[NoAnswerOut]
    articles_read_not_deflecting: list[ArticleReadOut]
    helpfulness: list[HelpfulnessOut]


def _interval(found: Interval | None) -> dict[str, float] | None:
    return None if found is None else {"estimate": found.estimate, "low": found.low, "high": found.high}


def _arm(arm: ArmFigures) -> dict[str, object]:
    return {
        "sessions": arm.sessions,
        "judged": arm.judged,
        "verified_deflections": arm.deflected,
        "wrote": arm.wrote,
        "pending": arm.pending,
        "left_before_suggestion": arm.not_exposed,
        "rate": _interval(arm.rate),
    }


def report_body(report: DeflectionReport, *, window_hours: int) -> dict[str, object]:
    return {
        "from": report.range.start,
        "to": report.range.end,
        "channel": report.range.channel or None,
        "window_hours": window_hours,
        "suggestions": _arm(report.suggestions),
        "holdout": _arm(report.holdout),
        "difference": _interval(report.difference),
        "requests_saved": _interval(report.requests_saved),
        "no_answer_searches": [vars(row) for row in report.no_answer],
        "articles_read_not_deflecting": [vars(row) for row in report.reads_not_deflecting],
        "helpfulness": [{**vars(row), "rate": row.rate} for row in report.helpfulness],
    }


@router.get(
    "/knowledge/deflection",
    response={200: DeflectionOut, **problems(401, 422, 429)},
    by_alias=True,
    summary="Deflection report",
    description="Request sessions per arm, the deflection rate against the holdout with 95% intervals, requests "
    "saved, top searches with no answer, articles read before writing anyway, helpfulness per article.",
)
@api_policy(ALL_ROLES)
def deflection(request: HttpRequest, filters: Query[DeflectionQuery]) -> dict[str, object]:
    params = {
        "from": filters.from_.isoformat() if filters.from_ else "",
        "to": filters.to.isoformat() if filters.to else "",
        "channel": filters.channel or "",
    }
    report_range = parse_range(workspace_id=caller_agent(request).workspace_id, params=params)
    return report_body(deflection_report(report_range), window_hours=settings.DESKLOOP_DEFLECTION_WINDOW_HOURS)
