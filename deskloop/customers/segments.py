"""Saved segments: who an organization is, as a filter any list can apply.

One implementation of "is this organization in the segment", as a ``Q`` on whatever path leads from a row to its
organization (``organization`` on a vote, ``requester__organization`` on nothing yet), so a segment filters in SQL
(joined with the list's own query) and never by loading organizations into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.customers.models import LifecycleStage, Segment

SEGMENT_WRITERS_ONLY = gettext_noop("Your role cannot save segments.")


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the month's last day when that day does not exist)."""
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(candidate, day.day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def organization_q(segment: Segment, *, path: str = "organization", today: dt.date | None = None) -> Q:
    """The rows whose organization (reached through ``path``; "" for Organization itself) is in ``segment``.
    Rows without an organization are never in a segment that sets any condition."""
    prefix = f"{path}__" if path else ""
    q = Q()
    if segment.mrr_above is not None:
        q &= Q(**{f"{prefix}mrr__gt": segment.mrr_above})
    if segment.min_customer_months is not None:
        since = months_before(today or timezone.localdate(), segment.min_customer_months)
        q &= Q(**{f"{prefix}customer_since__lte": since})
    for field in ("industry", "plan", "lifecycle_stage"):
        value = getattr(segment, field)
        if value:
            q &= Q(**{f"{prefix}{field}__iexact": value})
    if segment.owner_id is not None:
        q &= Q(**{f"{prefix}owner_id": segment.owner_id})
    return q


@dataclass(frozen=True)
class SegmentRules:
    """What a segment requires; None or "" leaves a condition out."""

    name: str
    mrr_above: Decimal | None = None
    min_customer_months: int | None = None
    industry: str = ""
    plan: str = ""
    lifecycle_stage: str = ""
    owner: Agent | None = None


def save_segment(*, agent: Agent, rules: SegmentRules, segment: Segment | None = None) -> Segment:
    """Create a segment, or change ``segment`` to ``rules``. Any agent who can write may save one: a segment is a
    saved filter, it shows nothing its author could not already list."""
    require_role(agent, Capability.WRITE, SEGMENT_WRITERS_ONLY)
    cleaned = _checked_rules(agent, rules)
    target = segment or Segment(workspace_id=agent.workspace_id)
    if target.workspace_id != agent.workspace_id:
        raise NotFound(_("No such segment in this workspace."))
    target.name = cleaned.name
    target.mrr_above = cleaned.mrr_above
    target.min_customer_months = cleaned.min_customer_months
    target.industry = cleaned.industry
    target.plan = cleaned.plan
    target.lifecycle_stage = cleaned.lifecycle_stage
    target.owner = cleaned.owner
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        raise Conflict(_("A segment with this name already exists."), code="duplicate_name", field="name") from exc
    return target


def delete_segment(*, agent: Agent, segment: Segment) -> None:
    require_role(agent, Capability.WRITE, SEGMENT_WRITERS_ONLY)
    if segment.workspace_id != agent.workspace_id:
        raise NotFound(_("No such segment in this workspace."))
    segment.delete()


def _checked_rules(agent: Agent, rules: SegmentRules) -> SegmentRules:
    name = " ".join(rules.name.split())
    if not name:
        raise ValidationFailed(_("A segment needs a name."), field="name")
    if len(name) > 100:
        raise ValidationFailed(_("A segment's name is at most 100 characters."), field="name")
    if rules.mrr_above is not None and (not rules.mrr_above.is_finite() or rules.mrr_above < 0):
        raise ValidationFailed(_("MRR above must be zero or more."), field="mrr_above")
    if rules.min_customer_months is not None and not 0 <= rules.min_customer_months <= 1200:
        raise ValidationFailed(_("Months as a customer must be between 0 and 1200."), field="min_customer_months")
    if rules.lifecycle_stage and rules.lifecycle_stage not in LifecycleStage.values:
        raise ValidationFailed(_("Unknown lifecycle stage."), field="lifecycle_stage")
    if rules.owner is not None and rules.owner.workspace_id != agent.workspace_id:
        raise ValidationFailed(_("No such agent in this workspace."), field="owner")
    return SegmentRules(
        name=name,
        mrr_above=rules.mrr_above,
        min_customer_months=rules.min_customer_months,
        industry=rules.industry.strip()[:100],
        plan=rules.plan.strip()[:100],
        lifecycle_stage=rules.lifecycle_stage,
        owner=rules.owner,
    )
