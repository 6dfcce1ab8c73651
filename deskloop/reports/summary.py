"""The weekly summary by email to the managers (owners and admins): last week's figures of the reports, with links.

A periodic job (every 10 minutes) finds the workspaces where it is Monday 08:00 or later in their time zone and
writes, per manager who has not turned it off, one ``WeeklySummary`` row for that Monday under its unique
constraint, then the email through the email channel's agent notices (automatic, rate-limited, kept with its
reason when not sent). A manager is sent it once per week; a week whose Monday the scheduler missed entirely is
sent on its next run in that week, and never after.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from deskloop.accounts.models import ADMIN_ROLES, Agent, Workspace
from deskloop.channels.email.agent_notices import queue_agent_notice
from deskloop.channels.email.models import OutboundKind
from deskloop.reports import queries
from deskloop.reports.filters import ReportFilters, parse_filters
from deskloop.reports.models import WeeklySummary, WeeklySummaryOptOut
from deskloop.reports.percentiles import Spread

SEND_FROM = dt.time(8, 0)


@dataclass(frozen=True)
class WeekFigures:
    filters: ReportFilters
    created: int
    solved: int
    first_response: Spread
    resolution: Spread
    sla: list[queries.SlaRow]
    backlog: int
    problems: list[queries.ProblemRow]
    url: str


def _zone(workspace: Workspace) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(workspace.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def week_figures(workspace: Workspace, monday: dt.date) -> WeekFigures:
    """The week before ``monday`` (Monday to Sunday, workspace time) as the reports count it."""
    params = {
        "since": (monday - dt.timedelta(days=7)).isoformat(),
        "until": (monday - dt.timedelta(days=1)).isoformat(),
    }
    filters = parse_filters(workspace, params, today=monday)
    times = queries.times(filters, interval="week")
    return WeekFigures(
        filters=filters,
        created=queries.live_tickets(filters).count(),
        solved=times.measures["resolution"][0].calendar.count,
        first_response=times.measures["first_response"][0].business,
        resolution=times.measures["resolution"][0].business,
        sla=queries.sla(filters),
        backlog=queries.backlog(filters).total,
        problems=queries.problems(filters)[1][:3],
        url=settings.SITE_URL.rstrip("/") + reverse("reports:index") + "?" + filters.as_query_string(),
    )


def _hours(minutes: int | None) -> str:
    return "—" if minutes is None else f"{minutes / 60:.1f} h"


def _send(workspace: Workspace, agent: Agent, figures: WeekFigures) -> None:
    with translation.override(agent.user.language or workspace.default_language):
        context = {
            "agent": agent,
            "workspace": workspace,
            "figures": figures,
            "first_response": _hours(figures.first_response.median),
            "resolution": _hours(figures.resolution.median),
        }
        subject = _("%(workspace)s: your support week (%(since)s – %(until)s)") % {
            "workspace": workspace.name,
            "since": figures.filters.since.isoformat(),
            "until": figures.filters.until.isoformat(),
        }
        queue_agent_notice(
            workspace=workspace,
            agent=agent,
            kind=OutboundKind.WEEKLY_SUMMARY,
            subject=subject,
            body_text=render_to_string("reports/email/weekly_summary.txt", context),
            body_html=render_to_string("reports/email/weekly_summary.html", context),
        )


def managers_due(workspace: Workspace, monday: dt.date) -> list[Agent]:
    """Active owners and admins with an address who did not turn the summary off and were not sent this week's."""
    opted_out = WeeklySummaryOptOut.objects.filter(workspace=workspace).values("agent_id")
    sent = WeeklySummary.objects.filter(workspace=workspace, week=monday).values("agent_id")
    return list(
        Agent.objects.filter(workspace=workspace, is_active=True, role__in=ADMIN_ROLES)
        .exclude(pk__in=opted_out)
        .exclude(pk__in=sent)
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")
    )


def send_weekly_summaries(now: dt.datetime | None = None) -> int:
    """The periodic job: returns how many summaries were written."""
    now = now or timezone.now()
    written = 0
    for workspace in Workspace.objects.order_by("pk"):
        local = now.astimezone(_zone(workspace))
        monday = local.date() - dt.timedelta(days=local.date().weekday())
        if local.date() == monday and local.time() < SEND_FROM:
            continue
        due = managers_due(workspace, monday)
        if not due:
            continue
        figures = week_figures(workspace, monday)
        for agent in due:
            try:
                with transaction.atomic():
                    WeeklySummary.objects.create(workspace=workspace, agent=agent, week=monday, created_at=now)
                    _send(workspace, agent, figures)
            except IntegrityError:
                continue  # another run wrote this manager's summary first
            written += 1
    return written


def set_weekly_summary(*, agent: Agent, receive: bool) -> None:
    """The manager's own choice (idempotent)."""
    if receive:
        WeeklySummaryOptOut.objects.filter(agent=agent).delete()
    else:
        WeeklySummaryOptOut.objects.get_or_create(workspace_id=agent.workspace_id, agent=agent)


def receives_weekly_summary(agent: Agent) -> bool:
    return agent.role in ADMIN_ROLES and not WeeklySummaryOptOut.objects.filter(agent=agent).exists()
