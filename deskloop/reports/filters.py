"""What a report is about, read from its URL: the date range and the cuts (channel, team, agent, product area, tag,
request type, organization, segment, priority), so every report and every drill-down is a bookmark.

The range is of creation dates in the workspace's time zone, both ends included: a report describes the tickets
created in it (a cohort), so each of its numbers and the ticket list behind the number count the same tickets. The
backlog, which is about now, is the one report that leaves the range out (``tickets_q(..., with_range=False)``).
A bad value is refused with a 400 and its message; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Team, Workspace
from deskloop.core.errors import DomainError
from deskloop.customers.models import Organization, Segment
from deskloop.customers.queries import segments_of
from deskloop.customers.segments import organization_q
from deskloop.tickets.inbox import descendant_area_ids
from deskloop.tickets.models import Channel, Priority, ProductArea, RequestType, Tag, TicketTag

DEFAULT_DAYS = 30
# A year and a bit: the longest range a report promises to answer quickly (BENCHMARKS.md, "Reports").
MAX_DAYS = 400
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2999, 12, 31)
# The URL parameters, in the order a query string lists them.
PARAMS = (
    "since",
    "until",
    "channel",
    "team",
    "agent",
    "product_area",
    "tag",
    "request_type",
    "organization",
    "segment",
    "priority",
)


class BadFilter(DomainError):
    """A report URL asked for something that is not there; answered with a 400 naming the parameter."""

    http_status = 400
    code = "bad_filter"


@dataclass(frozen=True)
class ReportFilters:
    """The tickets created from ``since`` through ``until`` (local dates of ``time_zone``), cut by the filters
    given; None or "" leaves a cut out. ``product_area`` includes its sub-areas (``area_ids``)."""

    workspace_id: int
    time_zone: str
    since: dt.date
    until: dt.date
    channel: str = ""
    team: int | None = None
    agent: int | None = None
    product_area: int | None = None
    area_ids: tuple[int, ...] = field(default=(), compare=False)
    tag: int | None = None
    request_type: str = ""
    organization: int | None = None
    segment: Segment | None = field(default=None, compare=False)
    priority: str = ""

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def start(self) -> dt.datetime:
        """The first instant of ``since`` in the workspace's time zone."""
        return local_midnight(self.since, self.zone)

    @property
    def end(self) -> dt.datetime:
        """The first instant after ``until`` (exclusive end)."""
        return local_midnight(self.until + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def params(self) -> dict[str, str]:
        """The URL parameters that give these filters back (the dates always, the cuts when set)."""
        values: dict[str, object] = {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "channel": self.channel,
            "team": self.team,
            "agent": self.agent,
            "product_area": self.product_area,
            "tag": self.tag,
            "request_type": self.request_type,
            "organization": self.organization,
            "segment": self.segment.pk if self.segment is not None else None,
            "priority": self.priority,
        }
        return {name: str(values[name]) for name in PARAMS if values[name] not in (None, "")}

    def as_query_string(self, **extra: object) -> str:
        """These filters plus ``extra`` (a drill-down's metric and bucket; None or "" left out) as a URL query."""
        found: dict[str, str] = self.params()
        for name, value in extra.items():
            if value in (None, ""):
                found.pop(name, None)
            else:
                found[name] = str(value)
        return urlencode(found)

    def with_range(self, since: dt.date, until: dt.date) -> ReportFilters:
        return replace(self, since=since, until=until)


def local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def tickets_q(filters: ReportFilters, *, with_range: bool = True, prefix: str = "") -> Q:
    """The tickets the filters describe, as a Q over Ticket (or over ``prefix`` + "__" from another model):
    this workspace's live tickets (not deleted, not spam, not merged away), created in the range unless
    ``with_range`` is False, and cut by every filter given."""
    p = f"{prefix}__" if prefix else ""
    q = Q(**{f"{p}workspace_id": filters.workspace_id, f"{p}deleted_at__isnull": True, f"{p}is_spam": False})
    q &= Q(**{f"{p}merged_into__isnull": True})
    if with_range:
        q &= Q(**{f"{p}created_at__gte": filters.start, f"{p}created_at__lt": filters.end})
    exact = {
        "channel": filters.channel,
        "team_id": filters.team,
        "assignee_id": filters.agent,
        "request_type": filters.request_type,
        "organization_id": filters.organization,
        "priority": filters.priority,
    }
    q &= Q(**{f"{p}{name}": value for name, value in exact.items() if value not in (None, "")})
    if filters.product_area is not None:
        q &= Q(**{f"{p}product_area_id__in": list(filters.area_ids)})
    if filters.tag is not None:
        # A subquery, not a join: a join would repeat a ticket once per matching tag row in counts.
        tagged = TicketTag.objects.filter(tag_id=filters.tag).values("ticket_id")
        q &= Q(**{f"{p}pk__in": tagged})
    if filters.segment is not None:
        q &= organization_q(filters.segment, path=f"{p}organization")
    return q


# --- reading the URL ---------------------------------------------------------------------------------------------


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        found = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadFilter(_("Give the date as YYYY-MM-DD."), field=name) from exc
    if not EARLIEST <= found <= LATEST:
        raise BadFilter(_("Give a date between 2000 and 2999."), field=name)
    return found


def _id(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadFilter(_("%(name)s must be a number.") % {"name": name}, field=name)
    return int(raw)


def _choice(params: Mapping[str, str], name: str, choices: list[str]) -> str:
    raw = (params.get(name) or "").strip()
    if raw and raw not in choices:
        raise BadFilter(_("Unknown %(name)s: %(value)s.") % {"name": name, "value": raw[:60]}, field=name)
    return raw


_OWNED: dict[str, type[Agent | Team | ProductArea | Tag | Organization]] = {
    "team": Team,
    "agent": Agent,
    "product_area": ProductArea,
    "tag": Tag,
    "organization": Organization,
}


def _owned_id(params: Mapping[str, str], name: str, workspace_id: int) -> int | None:
    """Another workspace's id is refused exactly like an unknown one: a report never confirms what exists there."""
    pk = _id(params, name)
    if pk is not None and not _OWNED[name].objects.filter(workspace_id=workspace_id, pk=pk).exists():
        raise BadFilter(_("No such %(name)s in this workspace.") % {"name": name.replace("_", " ")}, field=name)
    return pk


def parse_filters(workspace: Workspace, params: Mapping[str, str], *, today: dt.date | None = None) -> ReportFilters:
    """The filters a report URL asks for; the last 30 days (through today, in the workspace's time zone) of every
    ticket by default. Raises ``BadFilter`` (400) for a malformed or unknown value."""
    zone_name = workspace.time_zone or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone_name, zone = "UTC", zoneinfo.ZoneInfo("UTC")
    today = today or timezone.now().astimezone(zone).date()
    until = _date(params, "until") or today
    since = _date(params, "since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise BadFilter(_("The start date is after the end date."), field="since")
    if (until - since).days + 1 > MAX_DAYS:
        raise BadFilter(_("Choose a range of at most %(days)s days.") % {"days": MAX_DAYS}, field="since")
    wid = workspace.pk
    team, agent, area = (_owned_id(params, name, wid) for name in ("team", "agent", "product_area"))
    tag, organization = _owned_id(params, "tag", wid), _owned_id(params, "organization", wid)
    segment_id = _id(params, "segment")
    segment = None
    if segment_id is not None:
        segment = segments_of(wid).filter(pk=segment_id).first()
        if segment is None:
            raise BadFilter(_("No such segment in this workspace."), field="segment")
    return ReportFilters(
        workspace_id=wid,
        time_zone=zone_name,
        since=since,
        until=until,
        channel=_choice(params, "channel", list(Channel.values)),
        team=team,
        agent=agent,
        product_area=area,
        area_ids=tuple(descendant_area_ids(wid, [area])) if area is not None else (),
        tag=tag,
        request_type=_choice(params, "request_type", list(RequestType.values)),
        organization=organization,
        segment=segment,
        priority=_choice(params, "priority", list(Priority.values)),
    )
