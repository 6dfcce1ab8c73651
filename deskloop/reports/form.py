"""The filter form every report page shows: the choices of this workspace and the values the URL asked for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from deskloop.accounts.models import Agent, Team
from deskloop.reports.filters import PARAMS, ReportFilters
from deskloop.tickets.models import Channel, Priority, ProductArea, RequestType, Tag

# Shown as selects; organization and segment ride along as hidden fields (a workspace may have thousands).
LABELS = {
    "channel": _("Channel"),
    "team": _("Team"),
    "agent": _("Agent"),
    "product_area": _("Product area"),
    "tag": _("Tag"),
    "request_type": _("Request type"),
    "priority": _("Priority"),
}


@dataclass(frozen=True)
class SelectField:
    name: str
    label: str
    options: list[tuple[str, str]]
    selected: str


@dataclass(frozen=True)
class FilterForm:
    shown: dict[str, str]
    selects: list[SelectField]
    hidden: list[tuple[str, str]]


def filter_form(
    workspace_id: int,
    filters: ReportFilters | None,
    *,
    asked: Mapping[str, str] | None = None,
    keep: Mapping[str, str] | None = None,
) -> FilterForm:
    """``filters`` read from the URL, or (when it was refused) what was ``asked``, so it can be corrected;
    ``keep``: a page's own parameters (a drill-down's metric) that the form carries along."""
    shown = filters.params() if filters is not None else {k: str((asked or {}).get(k, ""))[:100] for k in PARAMS}
    choices = {
        "channel": [(str(v), str(label)) for v, label in Channel.choices],
        "team": [(str(t.pk), t.name) for t in Team.objects.filter(workspace_id=workspace_id).order_by("name")],
        "agent": [
            (str(a.pk), a.name)
            for a in Agent.objects.filter(workspace_id=workspace_id).select_related("user").order_by("user__name")
        ],
        "product_area": [
            (str(a.pk), str(a)) for a in ProductArea.objects.filter(workspace_id=workspace_id).order_by("path")
        ],
        "tag": [(str(t.pk), t.name) for t in Tag.objects.filter(workspace_id=workspace_id).order_by("name")],
        "request_type": [(str(v), str(label)) for v, label in RequestType.choices],
        "priority": [(str(v), str(label)) for v, label in Priority.choices],
    }
    hidden = [(name, shown[name]) for name in ("organization", "segment") if shown.get(name)]
    hidden += [(name, value) for name, value in (keep or {}).items()]
    selects = [
        SelectField(name=name, label=str(label), options=choices[name], selected=shown.get(name, ""))
        for name, label in LABELS.items()
    ]
    return FilterForm(shown=shown, selects=selects, hidden=hidden)
