"""NPS and CSAT with their 95% margins of error, and the same cut by product area, plan, segment, agent or team.

Formulas (both are normal approximations; with few answers the margin is wide, which is the honest reading):

- NPS. Each answer scores +1 (promoter, 9-10), 0 (passive, 7-8) or -1 (detractor, 0-6). NPS is the mean of those
  scores x 100 = (promoters - detractors) / n x 100. The scores' variance is
  var = (promoters + detractors) / n - mean^2, and the margin is 1.96 x sqrt(var / n) x 100 points.
- CSAT. The share of satisfied answers (good, or 4-5 on the 1-5 scale) x 100 = good / total x 100; the margin of that
  proportion is 1.96 x sqrt(p (1 - p) / n) x 100 points.

With no answers there is no estimate: value and margin are None (a page shows "no answers", never 0).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from deskloop.customers.models import Segment
from deskloop.customers.segments import organization_q
from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.tickets.models import ProductArea

Z_95 = 1.96
PROMOTER_MIN = 9
DETRACTOR_MAX = 6

Group = Literal["product_area", "plan", "segment", "agent", "team"]
GROUPS: tuple[Group, ...] = ("product_area", "plan", "segment", "agent", "team")


@dataclass(frozen=True)
class Estimate:
    """A score in points (NPS -100..100, CSAT 0..100), how many answers it rests on, and its 95% margin in points."""

    value: float | None
    n: int
    margin_95: float | None


@dataclass(frozen=True)
class GroupEstimate:
    """One row of a cut: the group's id (None for "no product area", the plan's text for plans) and its label."""

    key: int | str | None
    label: str
    estimate: Estimate


CountsOf = Callable[[Q], dict[str, Count]]
EstimateOf = Callable[[Mapping[str, int]], Estimate]


def nps(promoters: int, passives: int, detractors: int) -> Estimate:
    n = promoters + passives + detractors
    if n == 0:
        return Estimate(value=None, n=0, margin_95=None)
    mean = (promoters - detractors) / n
    variance = max((promoters + detractors) / n - mean * mean, 0.0)
    return Estimate(value=mean * 100, n=n, margin_95=Z_95 * math.sqrt(variance / n) * 100)


def csat(good: int, total: int) -> Estimate:
    if total == 0:
        return Estimate(value=None, n=0, margin_95=None)
    share = good / total
    return Estimate(value=share * 100, n=total, margin_95=Z_95 * math.sqrt(share * (1 - share) / total) * 100)


def _answers(
    workspace_id: int,
    kind: str,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    segment: Segment | None,
    product_area_ids: Sequence[int],
) -> QuerySet[SurveyResponse]:
    answers = SurveyResponse.objects.filter(workspace_id=workspace_id, kind=kind, score__isnull=False)
    if since is not None:
        answers = answers.filter(created_at__gte=since)
    if until is not None:
        answers = answers.filter(created_at__lt=until)
    if segment is not None:
        answers = answers.filter(organization_q(segment))
    if product_area_ids:
        answers = answers.filter(product_area_id__in=list(product_area_ids))
    return answers


def _nps_counts(condition: Q) -> dict[str, Count]:
    return {
        "promoters": Count("id", filter=condition & Q(score__gte=PROMOTER_MIN)),
        "passives": Count("id", filter=condition & Q(score__gt=DETRACTOR_MAX, score__lt=PROMOTER_MIN)),
        "detractors": Count("id", filter=condition & Q(score__lte=DETRACTOR_MAX)),
    }


def _csat_counts(condition: Q) -> dict[str, Count]:
    return {
        "good": Count("id", filter=condition & Q(satisfied=True)),
        "total": Count("id", filter=condition & Q(satisfied__isnull=False)),
    }


def nps_of(
    workspace_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    segment: Segment | None = None,
    product_area_ids: Sequence[int] = (),
) -> Estimate:
    """The workspace's NPS over the answers in [since, until)."""
    answers = _answers(
        workspace_id, SurveyKind.NPS, since=since, until=until, segment=segment, product_area_ids=product_area_ids
    )
    counts = answers.aggregate(**_nps_counts(Q()))
    return nps(counts["promoters"], counts["passives"], counts["detractors"])


def csat_of(
    workspace_id: int,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    segment: Segment | None = None,
    product_area_ids: Sequence[int] = (),
) -> Estimate:
    answers = _answers(
        workspace_id, SurveyKind.CSAT, since=since, until=until, segment=segment, product_area_ids=product_area_ids
    )
    counts = answers.aggregate(**_csat_counts(Q()))
    return csat(counts["good"], counts["total"])


def nps_by(
    workspace_id: int,
    *,
    group: Group = "product_area",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    segment: Segment | None = None,
    product_area_ids: Sequence[int] = (),
) -> list[GroupEstimate]:
    """NPS per group over the answers in [since, until), most answers first. ``segment`` narrows the answers to that
    segment's organizations; ``group="segment"`` gives one row per saved segment of the workspace (an organization
    may be in several). ``product_area_ids`` narrows to those areas (the caller passes an area and its children)."""
    answers = _answers(
        workspace_id, SurveyKind.NPS, since=since, until=until, segment=segment, product_area_ids=product_area_ids
    )
    return _by(answers, workspace_id, group, _nps_counts, lambda c: nps(c["promoters"], c["passives"], c["detractors"]))


def csat_by(
    workspace_id: int,
    *,
    group: Group = "product_area",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    segment: Segment | None = None,
    product_area_ids: Sequence[int] = (),
) -> list[GroupEstimate]:
    """CSAT per group, as ``nps_by``."""
    answers = _answers(
        workspace_id, SurveyKind.CSAT, since=since, until=until, segment=segment, product_area_ids=product_area_ids
    )
    return _by(answers, workspace_id, group, _csat_counts, lambda c: csat(c["good"], c["total"]))


_GROUP_FIELDS: dict[str, tuple[str, str]] = {
    "product_area": ("product_area_id", "product_area__path"),
    "plan": ("organization__plan", "organization__plan"),
    "agent": ("agent_id", "agent__display_name"),
    "team": ("team_id", "team__name"),
}


def _by(
    answers: QuerySet[SurveyResponse],
    workspace_id: int,
    group: str,
    counts_of: CountsOf,
    estimate_of: EstimateOf,
) -> list[GroupEstimate]:
    if group == "segment":
        return _by_segment(answers, workspace_id, counts_of, estimate_of)
    if group not in _GROUP_FIELDS:
        raise ValueError(f"unknown group {group!r}")
    key_field, label_field = _GROUP_FIELDS[group]
    rows = answers.values(key=F(key_field), label=F(label_field)).annotate(**counts_of(Q())).order_by()
    if group == "agent":
        rows = rows.annotate(user_name=F("agent__user__name"), email=F("agent__user__email"))
    labels = _labels(group, [row["key"] for row in rows])
    result = [
        GroupEstimate(
            key=row["key"], label=labels.get(row["key"]) or _fallback_label(group, row), estimate=estimate_of(row)
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row.estimate.n, row.label))


def _labels(group: str, keys: Iterable[int | str | None]) -> dict[int | str | None, str]:
    """Product areas by their path in the reader's language (the stored path otherwise)."""
    if group != "product_area":
        return {}
    ids = [key for key in keys if isinstance(key, int)]
    return {area.pk: area.localized_path() for area in ProductArea.objects.filter(pk__in=ids)}


def _fallback_label(group: str, row: dict[str, object]) -> str:
    if row["key"] is None or row["key"] == "":
        return {
            "product_area": _("No product area"),
            "plan": _("No plan"),
            "agent": _("No agent"),
            "team": _("No team"),
        }[group]
    # An agent's name as Agent.name reads it: display name, else the user's name, else the email.
    return str(row["label"] or row.get("user_name") or row.get("email") or row["key"])


def _by_segment(
    answers: QuerySet[SurveyResponse], workspace_id: int, counts_of: CountsOf, estimate_of: EstimateOf
) -> list[GroupEstimate]:
    segments = list(Segment.objects.filter(workspace_id=workspace_id).order_by("name"))
    if not segments:
        return []
    # One query: each segment's counts are conditional aggregates over the same answers.
    aggregates: dict[str, Count] = {}
    for segment in segments:
        for name, count in counts_of(organization_q(segment)).items():
            aggregates[f"s{segment.pk}_{name}"] = count
    totals = answers.aggregate(**aggregates)
    result = []
    for segment in segments:
        prefix = f"s{segment.pk}_"
        counts = {name[len(prefix) :]: value for name, value in totals.items() if name.startswith(prefix)}
        result.append(GroupEstimate(key=segment.pk, label=segment.name, estimate=estimate_of(counts)))
    return result
