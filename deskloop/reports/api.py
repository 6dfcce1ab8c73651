"""The reports over the API: ``GET /api/v1/reports/<report>`` with the page's filters and options, as JSON (the
sections' tables, each cell with its value and the URL of the tickets behind it) or, with ``format=csv``, as CSV
(one row per table row, the section first). The same reads as the pages (``reports.sections``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from deskloop.accounts.api import caller_agent
from deskloop.core.api_support import api_policy, problems
from deskloop.core.csv_export import csv_lines, spreadsheet_safe
from deskloop.reports.access import REPORT_ROLES
from deskloop.reports.filters import parse_filters
from deskloop.reports.pages import REPORTS, Section
from deskloop.reports.sections import parse_options, report_sections

router = Router(tags=["reports"])


class ReportQuery(Schema):
    since: str | None = Field(None, description="First day (YYYY-MM-DD, workspace time zone); 30 days before `until`.")
    until: str | None = Field(None, description="Last day, included; today when left out. At most 400 days.")
    channel: str | None = None
    team: str | None = Field(None, description="Team id.")
    agent: str | None = Field(None, description="Agent id (the assignee).")
    product_area: str | None = Field(None, description="Product area id; includes its sub-areas.")
    tag: str | None = Field(None, description="Tag id.")
    request_type: str | None = None
    organization: str | None = Field(None, description="Organization id.")
    segment: str | None = Field(None, description="Saved segment id.")
    priority: str | None = None
    dimension: str | None = Field(None, description="volume: channel, product_area, tag, request_type, organization.")
    interval: str | None = Field(None, description="volume and times: day, week or month.")
    format: Literal["json", "csv"] = "json"


class CellOut(Schema):
    text: str
    value: Any = Field(None, description="The number behind the text (a count, minutes, a 0-1 rate), or null.")
    tickets_url: str | None = Field(None, description="The tickets behind the number (HTML page; .csv for CSV).")


class SectionOut(Schema):
    key: str
    title: str
    note: str
    columns: list[str]
    rows: list[list[CellOut]]


class ReportOut(Schema):
    report: str
    filters: dict[str, str]
    options: dict[str, str]
    sections: list[SectionOut]


def _section_body(section: Section) -> dict[str, object]:
    return {
        "key": section.key,
        "title": section.title,
        "note": section.note,
        "columns": section.table.columns,
        "rows": [
            [{"text": c.text, "value": c.value, "tickets_url": c.href or None} for c in row]
            for row in section.table.rows
        ],
    }


def _csv(report: str, sections: list[Section]) -> Iterator[list[str]]:
    for section in sections:
        yield ["section", *section.table.columns]
        for row in section.table.rows:
            yield [section.key, *(spreadsheet_safe(cell.text) for cell in row)]


def _endpoint(report: str) -> Callable[..., object]:
    def read_report(request: HttpRequest, query: Query[ReportQuery]) -> object:
        params = {k: v for k, v in query.dict().items() if v is not None and k != "format"}
        filters = parse_filters(caller_agent(request).workspace, params)
        options = parse_options(report, params)
        sections = report_sections(report, filters, options)
        if query.format == "csv":
            body = "".join(csv_lines(_csv(report, sections)))
            response = HttpResponse(body, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="report-{report}-{filters.until}.csv"'
            return response
        return {
            "report": report,
            "filters": filters.params(),
            "options": options,
            "sections": [_section_body(s) for s in sections],
        }

    read_report.__name__ = f"report_{report}"
    return read_report


for _name, _title in REPORTS.items():
    router.get(
        f"/reports/{_name}",
        response={200: ReportOut, **problems(400, 401, 403, 422, 429)},
        summary=f"Report: {_title}",
        description="The report's tables with the numbers' drill-down URLs; `format=csv` for CSV.",
        operation_id=f"report_{_name}",
        # format=csv answers the same tables as CSV: documented, so clients (and the API fuzz test) expect it.
        openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
    )(api_policy(REPORT_ROLES)(_endpoint(_name)))
