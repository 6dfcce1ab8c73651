"""Each report as the page shows it: a chart and the table beside it, every number a link to its tickets.

The tables are plain data (rows of cells with their drill-down link), so one template draws every report and the
API's CSV writes the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deskloop.reports import queries
from deskloop.reports.charts import Bar, bar_chart
from deskloop.reports.filters import ReportFilters
from deskloop.reports.percentiles import Spread

REPORTS = {
    "volume": gettext_lazy("Volume"),
    "times": gettext_lazy("Response and resolution times"),
    "sla": gettext_lazy("SLA achievement"),
    "backlog": gettext_lazy("Backlog"),
    "agents": gettext_lazy("Agent performance"),
    "problems": gettext_lazy("Top problems"),
}
INTERVAL_LABELS = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month")}


@dataclass(frozen=True)
class Cell:
    text: str
    href: str = ""
    numeric: bool = True
    # The raw value (a count, minutes, a rate) the API returns: the text is for people.
    value: object = None


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class Section:
    title: str
    table: Table
    chart: str = ""
    note: str = ""
    key: str = ""


def drill_link(filters: ReportFilters, **extra: object) -> str:
    return reverse("reports:tickets") + "?" + filters.as_query_string(**extra)


def _label(cell: str) -> Cell:
    return Cell(text=cell, numeric=False, value=cell)


def _hours(minutes: int | None) -> str:
    return "—" if minutes is None else f"{minutes / 60:.1f} h"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _bucket_label(day: dt.date, interval: str) -> str:
    return date_format(day, "Y-m" if interval == "month" else "Y-m-d")


def _count(count: int, href: str) -> Cell:
    return Cell(text=str(count), href=href, value=count)


# --- volume ------------------------------------------------------------------------------------------------------


def volume_sections(filters: ReportFilters, *, dimension: str, interval: str) -> list[Section]:
    found = queries.volume(filters, dimension=dimension, interval=interval)
    bucket = {"interval": interval}
    columns = [str(queries.DIMENSIONS[dimension])] + [_bucket_label(b, interval) for b in found.buckets] + [_("Total")]
    table = Table(columns=columns)
    for group in found.groups:
        by = {dimension: group.key}
        row = [_label(group.label)]
        row += [
            _count(group.counts.get(b, 0), drill_link(filters, **by, **bucket, bucket=b.isoformat()))
            for b in found.buckets
        ]
        row.append(_count(group.total, drill_link(filters, **by)))
        table.rows.append(row)
    totals = [_label(_("All tickets"))]
    totals += [
        _count(found.totals.get(b, 0), drill_link(filters, **bucket, bucket=b.isoformat())) for b in found.buckets
    ]
    totals.append(_count(found.total, drill_link(filters)))
    table.rows.append(totals)
    bars = [
        Bar(
            label=_bucket_label(b, interval),
            value=found.totals.get(b, 0),
            href=drill_link(filters, **bucket, bucket=b.isoformat()),
            shown=str(found.totals.get(b, 0)),
        )
        for b in found.buckets
    ]
    note = _("Tickets created per %(interval)s; a ticket with several tags counts once per tag.") % {
        "interval": str(INTERVAL_LABELS[interval]).lower()
    }
    title = _("Tickets by %(dimension)s") % {"dimension": str(queries.DIMENSIONS[dimension]).lower()}
    return [Section(title=title, table=table, chart=bar_chart(bars, title=title), note=note, key="volume")]


# --- times -------------------------------------------------------------------------------------------------------


def _spread_cells(spread: Spread, href: str) -> list[Cell]:
    return [
        Cell(text=_hours(spread.median), href=href if spread.count else "", value=spread.median),
        Cell(text=_hours(spread.p90), href=href if spread.count else "", value=spread.p90),
    ]


def times_sections(filters: ReportFilters, *, interval: str) -> list[Section]:
    found = queries.times(filters, interval=interval)
    titles = {"first_response": _("First response time"), "resolution": _("Resolution time")}
    metrics = {"first_response": "responded", "resolution": "solved"}
    sections = []
    for name, rows in found.measures.items():
        table = Table(
            columns=[
                str(INTERVAL_LABELS[interval]),
                _("Tickets"),
                _("Median (business hours)"),
                _("90th percentile (business hours)"),
                _("Median (calendar hours)"),
                _("90th percentile (calendar hours)"),
            ]
        )
        bars = []
        for row in rows:
            extra = {"interval": interval, "bucket": row.bucket.isoformat()} if row.bucket else {}
            href = drill_link(filters, metric=metrics[name], **extra)
            label = _bucket_label(row.bucket, interval) if row.bucket else _("Whole range")
            table.rows.append(
                [
                    _label(label),
                    _count(row.calendar.count, href),
                    *_spread_cells(row.business, href),
                    *_spread_cells(row.calendar, href),
                ]
            )
            if row.bucket:
                bars.append(
                    Bar(label=label, value=row.business.median or 0, href=href, shown=_hours(row.business.median))
                )
        note = _(
            "Median and 90th percentile by nearest rank (a time some ticket had). Business hours follow the "
            "ticket's SLA calendar; calendar hours count the clock."
        )
        sections.append(
            Section(title=titles[name], table=table, chart=bar_chart(bars, title=titles[name]), note=note, key=name)
        )
    return sections


# --- SLA ---------------------------------------------------------------------------------------------------------


def sla_sections(filters: ReportFilters) -> list[Section]:
    table = Table(columns=[_("Target"), _("Policy"), _("Achieved"), _("Breached"), _("Running"), _("Achievement")])
    bars = []
    for row in queries.sla(filters):
        base = {"metric": "sla", "sla_metric": row.metric, "policy": row.policy_id}
        table.rows.append(
            [
                _label(row.metric_label),
                _label(row.policy_name),
                _count(row.achieved, drill_link(filters, **base, sla_outcome="achieved")),
                _count(row.breached, drill_link(filters, **base, sla_outcome="breached")),
                _count(row.running, drill_link(filters, **base, sla_outcome="running")),
                Cell(text=_percent(row.achievement), href=drill_link(filters, **base), value=row.achievement),
            ]
        )
        bars.append(
            Bar(
                label=f"{row.metric_label} · {row.policy_name}",
                value=(row.achievement or 0) * 100,
                href=drill_link(filters, **base, sla_outcome="breached"),
                shown=_percent(row.achievement),
            )
        )
    note = _("Achievement: targets met over targets met or breached; running targets are not counted yet.")
    title = _("SLA achievement")
    return [Section(title=title, table=table, chart=bar_chart(bars, title=title), note=note, key="sla")]


# --- backlog -----------------------------------------------------------------------------------------------------

AGE_LABELS = {
    "0-1d": gettext_lazy("Under a day"),
    "1-3d": gettext_lazy("1-3 days"),
    "3-7d": gettext_lazy("3-7 days"),
    "7-30d": gettext_lazy("7-30 days"),
    "30d+": gettext_lazy("Over 30 days"),
}


def backlog_sections(filters: ReportFilters) -> list[Section]:
    found = queries.backlog(filters)
    ages = Table(columns=[_("Age"), _("Open tickets")])
    bars = []
    for key, count in found.by_age:
        href = drill_link(filters, metric="backlog", age=key)
        ages.rows.append([_label(str(AGE_LABELS[key])), _count(count, href)])
        bars.append(Bar(label=str(AGE_LABELS[key]), value=count, href=href, shown=str(count)))
    ages.rows.append([_label(_("All open tickets")), _count(found.total, drill_link(filters, metric="backlog"))])
    categories = Table(columns=[_("Status"), _("Open tickets")])
    for value, label, count in found.by_category:
        categories.rows.append(
            [_label(label), _count(count, drill_link(filters, metric="backlog", status_category=value))]
        )
    note = _("Tickets not solved or closed now, whatever the date range; age since the ticket was created.")
    title = _("Backlog by age")
    return [
        Section(title=title, table=ages, chart=bar_chart(bars, title=title), note=note, key="backlog"),
        Section(title=_("Backlog by status"), table=categories, key="backlog_status"),
    ]


# --- agents ------------------------------------------------------------------------------------------------------


def agent_sections(
    filters: ReportFilters, *, quality: Callable[[], dict[int, tuple[float, int]]] | None = None
) -> list[Section]:
    rows = queries.agents(filters)
    scores = quality() if quality is not None else {}
    columns = [
        _("Agent"),
        _("Tickets"),
        _("Solved"),
        _("Replies"),
        _("Tickets replied to"),
        _("First response (median, business hours)"),
        _("Time to solve (median, business hours)"),
        _("Reopen rate"),
        _("CSAT"),
    ]
    if quality is not None:
        columns.append(_("Quality"))
    table = Table(columns=columns)
    bars = []
    for row in rows:
        agent = {"agent": row.agent.pk}
        solved = drill_link(filters, **agent, metric="solved")
        replied = drill_link(filters, metric="replied", replied_by=row.agent.pk)
        cells = [
            _label(row.agent.name),
            _count(row.tickets, drill_link(filters, **agent)),
            _count(row.solved, solved),
            _count(row.replies, replied),
            _count(row.replied_tickets, replied),
            Cell(
                text=_hours(row.first_response.median),
                href=drill_link(filters, **agent, metric="responded"),
                value=row.first_response.median,
            ),
            Cell(text=_hours(row.time_to_solve.median), href=solved, value=row.time_to_solve.median),
            Cell(
                text=f"{_percent(row.reopen_rate)} ({row.reopened}/{row.solved})",
                href=drill_link(filters, **agent, metric="reopened"),
                value=row.reopen_rate,
            ),
            Cell(
                text=f"{_percent(row.csat)} ({row.csat_good}/{row.csat_total})",
                href=drill_link(filters, **agent, metric="csat_bad") if row.csat_total else "",
                value=row.csat,
            ),
        ]
        if quality is not None:
            score = scores.get(row.agent.pk)
            cells.append(
                Cell(
                    text="—" if score is None else f"{score[0]:.1f} ({score[1]})",
                    href="" if score is None else drill_link(filters, metric="reviewed", reviewed=row.agent.pk),
                    value=None if score is None else score[0],
                )
            )
        table.rows.append(cells)
        bars.append(Bar(label=row.agent.name, value=row.solved, href=solved, shown=str(row.solved)))
    note = _(
        "Over the tickets created in the range and assigned to each agent (replies: the agent's public replies on any "
        "of them). Time to solve is business time from creation to solve, not effort. Reopen rate: solved tickets "
        "opened again at least once. The CSAT link lists the unsatisfied answers. Quality: the mean score (0-100) "
        "and count of the conversation reviews written in the range."
    )
    title = _("Agent performance")
    return [
        Section(title=title, table=table, chart=bar_chart(bars, title=_("Solved per agent")), note=note, key="agents")
    ]


# --- problems ----------------------------------------------------------------------------------------------------


def problem_sections(filters: ReportFilters) -> list[Section]:
    before, rows = queries.problems(filters)
    table = Table(columns=[_("Product area"), _("Tickets"), _("Previous period"), _("Change"), _("Top tags")])
    bars = []
    for row in rows:
        area = {"product_area": row.area.pk}
        href = drill_link(filters, **area)
        tags = ", ".join(f"{name} ({count})" for _tag, name, count in row.tags)
        table.rows.append(
            [
                _label(row.area.path),
                _count(row.count, href),
                _count(row.previous, drill_link(before, **area)),
                Cell(text=f"{row.change:+d}", href=href, value=row.change),
                Cell(
                    text=tags,
                    href=drill_link(filters, **area, tag=row.tags[0][0]) if row.tags else "",
                    numeric=False,
                    value=[{"tag": name, "tickets": count} for _tag, name, count in row.tags],
                ),
            ]
        )
        bars.append(Bar(label=row.area.path, value=row.count, href=href, shown=str(row.count)))
    note = _(
        "Tickets per product area (with its sub-areas) against the %(days)s days before (%(since)s – %(until)s)."
    ) % {"days": filters.days, "since": before.since.isoformat(), "until": before.until.isoformat()}
    title = _("Top problems by product area")
    return [Section(title=title, table=table, chart=bar_chart(bars, title=title), note=note, key="problems")]
