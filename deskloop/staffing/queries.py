"""Reads for the staffing page: the workspace's tickets per local hour, the default first-response target, and the
plan made of them with the roster of agents on shift (assignment)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from deskloop.accounts.models import Workspace
from deskloop.assignment.queries import roster
from deskloop.service_levels.models import SlaPolicy
from deskloop.staffing.forecasting import HourlySeries, hourly_series
from deskloop.staffing.planning import EMAIL, HISTORY_WEEKS, LIVE, StaffingInputs, StaffingPlan, make_plan
from deskloop.tickets.models import Channel, Ticket

# Which tickets each staffing channel forecasts: live = the in-app chat widget; email = the mailbox.
TICKET_CHANNELS: dict[str, tuple[str, ...]] = {EMAIL: (Channel.EMAIL.value,), LIVE: (Channel.WIDGET.value,)}
_OTHER_CONDITIONS = ("organization_ids", "plans", "priorities", "tag_names", "product_area_ids")


def local_now(workspace: Workspace, now: dt.datetime | None = None) -> dt.datetime:
    """The workspace's wall-clock time now, naive (the forecaster works on local hours)."""
    return (now or timezone.now()).astimezone(ZoneInfo(workspace.time_zone)).replace(tzinfo=None)


def ticket_history(workspace: Workspace, channel: str, *, now: dt.datetime | None = None) -> HourlySeries | None:
    """Tickets created per local hour over the last HISTORY_WEEKS weeks (grouped in the database); None if none."""
    zone = ZoneInfo(workspace.time_zone)
    moment = now or timezone.now()
    since = moment - dt.timedelta(weeks=HISTORY_WEEKS)
    rows = (
        Ticket.objects.filter(
            workspace_id=workspace.pk,
            channel__in=TICKET_CHANNELS[channel],
            created_at__gte=since,
            created_at__lt=moment,
        )
        .annotate(hour=TruncHour("created_at", tzinfo=zone))
        .values("hour")
        .annotate(count=Count("id"))
        .values_list("hour", "count")
    )
    points = [(hour.astimezone(zone).replace(tzinfo=None), count) for hour, count in rows]
    return hourly_series(points) if points else None


def default_first_response_minutes(workspace_id: int, channel: str) -> int | None:
    """The first-response target of the first active SLA policy that applies to any ticket of the channel. For
    live chat only a policy that names the chat channel counts: a catch-all target of hours is not a chat's."""
    for policy in SlaPolicy.objects.filter(workspace_id=workspace_id, is_active=True).order_by("position", "id"):
        conditions = policy.conditions or {}
        if any(conditions.get(key) for key in _OTHER_CONDITIONS):
            continue
        channels = conditions.get("channels") or []
        if (channels or channel == LIVE) and not set(channels) & set(TICKET_CHANNELS[channel]):
            continue
        return policy.first_response_minutes
    return None


def staffing_plan(workspace: Workspace, inputs: StaffingInputs, *, now: dt.datetime | None = None) -> StaffingPlan:
    moment = now or timezone.now()
    return make_plan(
        ticket_history(workspace, inputs.channel, now=moment),
        now=local_now(workspace, moment),
        inputs=inputs,
        roster=roster(workspace.pk, moment),
    )
