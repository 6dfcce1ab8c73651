"""Which report a name means and the options of its URL (``dimension``, ``interval``): shared by the pages, the
API and the weekly summary, so a report reads the same everywhere."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _

from deskloop.quality.queries import quality_by_agent
from deskloop.reports import pages
from deskloop.reports.drilldown import INTERVALS
from deskloop.reports.filters import BadFilter, ReportFilters
from deskloop.reports.queries import DIMENSIONS

# Each report's options and their defaults.
OPTIONS: dict[str, dict[str, str]] = {
    "volume": {"dimension": "channel", "interval": "week"},
    "times": {"interval": "week"},
    "sla": {},
    "backlog": {},
    "agents": {},
    "problems": {},
}
ALLOWED = {"dimension": tuple(DIMENSIONS), "interval": INTERVALS}


def parse_options(report: str, params: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for name, default in OPTIONS[report].items():
        value = (params.get(name) or "").strip() or default
        if value not in ALLOWED[name]:
            raise BadFilter(_("Unknown %(name)s: %(value)s.") % {"name": name, "value": value[:60]}, field=name)
        found[name] = value
    return found


def report_sections(report: str, filters: ReportFilters, options: Mapping[str, str]) -> list[pages.Section]:
    if report == "volume":
        return pages.volume_sections(filters, dimension=options["dimension"], interval=options["interval"])
    if report == "times":
        return pages.times_sections(filters, interval=options["interval"])
    if report == "sla":
        return pages.sla_sections(filters)
    if report == "backlog":
        return pages.backlog_sections(filters)
    if report == "agents":
        return pages.agent_sections(
            filters, quality=lambda: quality_by_agent(filters.workspace_id, filters.since, filters.until)
        )
    return pages.problem_sections(filters)


def option_links(report: str, filters: ReportFilters, options: Mapping[str, str]) -> list[list[tuple[str, str, bool]]]:
    """Per option of the report, a link to each of its values (label, query string, current), filters kept."""
    labels = {"dimension": DIMENSIONS, "interval": pages.INTERVAL_LABELS}
    found = []
    for name in OPTIONS[report]:
        found.append(
            [
                (str(label), filters.as_query_string(**{**options, name: value}), options[name] == value)
                for value, label in labels[name].items()
            ]
        )
    return found
