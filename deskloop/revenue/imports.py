"""Importing deals and churn records from CSV (the upload page and ``import_deals`` / ``import_churn``).

One core for both doors: ``plan_rows`` reads every row and resolves what it names (organization, lost reason,
product area, idea, owner) without writing anything, which is the preview; ``import_rows`` then writes each row in
its own transaction through the deal and churn services (the one write path), so a failing row leaves nothing
behind and the others go on. A row is found again by its ``external_id``: importing a file twice changes nothing.
Organizations are found by ``organization_external_id``, else by name, and created when missing (the row says so).

Deal columns: external_id, name, organization, organization_external_id, amount, currency, stage, status
(open/won/lost), lost_reason (a name from the workspace's list), competitor, industry, product_area ("Billing >
Invoices"), idea_id, owner_email, closed_on (YYYY-MM-DD).
Churn columns: external_id, organization, organization_external_id, churned_on, mrr_lost, reason (business_closed,
never_started, no_value, missing_capabilities, competitor, other, or their English labels), product_area, idea_id,
notes, won_back_on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import DomainError, ValidationFailed
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.customers.services import create_organization
from deskloop.ideas.models import Idea
from deskloop.revenue.models import ChurnReason, ChurnRecord, Deal, DealStatus, LostReason
from deskloop.revenue.services.churn import ChurnValues, check_churn_values, record_churn, update_churn
from deskloop.revenue.services.deals import DealValues, check_deal_values, record_deal, update_deal
from deskloop.revenue.services.setup import lost_reasons_of
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.configuration_groups import AREA_SEPARATOR
from deskloop.tickets.services.imports import find_or_create_product_area, split_area_path

Kind = Literal["deals", "churn"]
Outcome = Literal["created", "updated", "unchanged", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "failed")
# A file bigger than this is not a CRM export someone uploads by hand; the command reads files of any size.
UPLOAD_MAX_BYTES = 5_000_000
PREVIEW_ROWS = 20

COLUMNS: dict[str, tuple[str, ...]] = {
    "deals": (
        "external_id",
        "name",
        "organization",
        "organization_external_id",
        "amount",
        "currency",
        "stage",
        "status",
        "lost_reason",
        "competitor",
        "industry",
        "product_area",
        "idea_id",
        "owner_email",
        "closed_on",
    ),
    "churn": (
        "external_id",
        "organization",
        "organization_external_id",
        "churned_on",
        "mrr_lost",
        "reason",
        "product_area",
        "idea_id",
        "notes",
        "won_back_on",
    ),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "deals": ("external_id", "name"),
    "churn": ("external_id", "churned_on", "reason"),
}


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be read (empty, no header, a required column missing)."""


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]
    problem: str = ""


@dataclass
class PlannedRow:
    """One row resolved against the workspace, nothing written: what the preview shows and the import writes."""

    line: int
    external_id: str
    cells: dict[str, str]
    organization: Organization | None = None
    area: ProductArea | None = None
    # What the import adds beside the record: an organization (its name), a product area (its path).
    new_organization: str = ""
    new_area: str = ""
    problem: str = ""
    values: DealValues | ChurnValues | None = None

    @property
    def notes(self) -> list[str]:
        """What the preview says will be created."""
        notes = []
        if self.new_organization:
            notes.append(_("Organization “%(name)s” will be created.") % {"name": self.new_organization})
        if self.new_area:
            notes.append(_("Product area “%(path)s” will be created.") % {"path": self.new_area})
        return notes

    @property
    def done_notes(self) -> tuple[str, ...]:
        """What the import says it created."""
        notes = []
        if self.new_organization:
            notes.append(_("Organization “%(name)s” created.") % {"name": self.new_organization})
        if self.new_area:
            notes.append(_("Product area “%(path)s” created.") % {"path": self.new_area})
        return tuple(notes)


@dataclass(frozen=True)
class RowResult:
    line: int
    external_id: str
    outcome: Outcome
    message: str = ""
    notes: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    results: list[RowResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)


def read_csv(text: str, kind: Kind) -> Iterator[CsvRow]:
    if not text.strip():
        raise ImportFileError(_("The file is empty."), field="file")
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    header = [" ".join(name.split()).lower().replace(" ", "_") for name in next(reader)]
    missing = [column for column in REQUIRED[kind] if column not in header]
    if missing:
        raise ImportFileError(
            _("Required columns are missing: %(columns)s (found: %(found)s).")
            % {"columns": ", ".join(missing), "found": ", ".join(header)},
            field="file",
        )
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield CsvRow(start, {}, _("The row is not valid CSV: %(reason)s") % {"reason": exc})
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield CsvRow(
                start,
                {},
                _("The row has %(found)d fields, the header %(expected)d.")
                % {"found": len(cells), "expected": len(header)},
            )
            continue
        yield CsvRow(start, {name: cell.strip() for name, cell in zip(header, cells, strict=True)})


def plan_rows(*, workspace: Workspace, kind: Kind, text: str) -> Iterator[PlannedRow]:
    """Every row resolved, nothing written (raises ImportFileError when the file cannot be read at all)."""
    lookup = _Lookup(workspace)
    for row in read_csv(text, kind):
        planned = PlannedRow(line=row.line, external_id=row.cells.get("external_id", ""), cells=row.cells)
        if row.problem:
            planned.problem = row.problem
        else:
            try:
                _resolve(planned, kind, lookup)
            except DomainError as exc:
                planned.problem = exc.message
        yield planned


def import_rows(
    *,
    workspace: Workspace,
    kind: Kind,
    text: str,
    actor: Agent | None = None,
    on_result: Callable[[RowResult], None] | None = None,
) -> ImportSummary:
    """Write every row that resolves; ``actor`` (None: the command) must be allowed to record deals and churn."""
    summary = ImportSummary()
    for planned in plan_rows(workspace=workspace, kind=kind, text=text):
        if planned.problem:
            result = RowResult(planned.line, planned.external_id, "failed", planned.problem)
        else:
            try:
                outcome = _write(workspace, kind, planned, actor)
                result = RowResult(planned.line, planned.external_id, outcome, notes=planned.done_notes)
            except DomainError as exc:
                result = RowResult(planned.line, planned.external_id, "failed", exc.message)
        summary.results.append(result)
        if on_result is not None:
            on_result(result)
    return summary


class _Lookup:
    """The workspace's vocabulary, read once per file (a file names the same few reasons and areas on every row)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.reasons = {r.name.lower(): r for r in lost_reasons_of(workspace.pk)}
        self.areas = {a.path.lower(): a for a in ProductArea.objects.filter(workspace=workspace)}
        self.owners = {
            a.user.email.lower(): a
            for a in Agent.objects.filter(workspace=workspace, is_active=True).select_related("user")
        }
        # Organizations this file will create: the second row naming one does not create it again.
        self.new_organizations: set[str] = set()
        self.new_areas: set[str] = set()

    def organization(self, planned: PlannedRow) -> Organization | None:
        name = planned.cells.get("organization", "")
        external_id = planned.cells.get("organization_external_id", "")
        found = None
        if external_id:
            found = Organization.objects.filter(workspace=self.workspace, external_id=external_id).first()
        if found is None and name:
            found = Organization.objects.filter(workspace=self.workspace, name__iexact=name).first()
        if found is None:
            if not name:
                raise ValidationFailed(_("The row names no organization."), field="organization")
            if name.lower() not in self.new_organizations:
                self.new_organizations.add(name.lower())
                planned.new_organization = name
        return found

    def area(self, planned: PlannedRow) -> ProductArea | None:
        path = AREA_SEPARATOR.join(split_area_path(planned.cells.get("product_area", "")))
        if not path:
            return None
        found = self.areas.get(path.lower())
        if found is None and path.lower() not in self.new_areas:
            self.new_areas.add(path.lower())
            planned.new_area = path
        return found

    def idea(self, value: str) -> Idea | None:
        if not value:
            return None
        found = Idea.objects.filter(workspace=self.workspace, pk=_integer(value, "idea_id")).first()
        if found is None:
            raise ValidationFailed(_("No idea #%(id)s in this workspace.") % {"id": value}, field="idea_id")
        return found


def _integer(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed(_("“%(value)s” is not a number.") % {"value": value}, field=name) from exc


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            _("“%(value)s” in %(column)s is not a date (YYYY-MM-DD).") % {"value": value, "column": name}, field=name
        ) from exc


def _resolve(planned: PlannedRow, kind: Kind, lookup: _Lookup) -> None:
    cells = planned.cells
    if not planned.external_id:
        raise ValidationFailed(_("The row has no external_id."), field="external_id")
    planned.organization = lookup.organization(planned)
    planned.area = lookup.area(planned)
    # The organization the import will create stands in unsaved, so the values are checked before anything is written.
    organization = planned.organization or Organization(
        workspace_id=lookup.workspace.pk, name=cells.get("organization", ""), industry=cells.get("industry", "")
    )
    idea = lookup.idea(cells.get("idea_id", ""))
    if kind == "deals":
        deal_values = _deal_values(cells, lookup, organization, idea)
        check_deal_values(workspace_id=lookup.workspace.pk, values=deal_values)
        planned.values = deal_values
    else:
        churn_values = _churn_values(cells, organization, idea)
        check_churn_values(workspace_id=lookup.workspace.pk, values=churn_values)
        planned.values = churn_values


def _deal_values(cells: dict[str, str], lookup: _Lookup, organization: Organization, idea: Idea | None) -> DealValues:
    status = (cells.get("status") or DealStatus.OPEN).lower()
    if status not in DealStatus.values:
        raise ValidationFailed(_("“%(value)s” is not open, won or lost.") % {"value": status}, field="status")
    reason: LostReason | None = None
    if cells.get("lost_reason"):
        reason = lookup.reasons.get(cells["lost_reason"].lower())
        if reason is None:
            raise ValidationFailed(
                _("“%(value)s” is not one of the workspace's lost reasons.") % {"value": cells["lost_reason"]},
                field="lost_reason",
            )
    owner = None
    if cells.get("owner_email"):
        owner = lookup.owners.get(cells["owner_email"].lower())
        if owner is None:
            raise ValidationFailed(
                _("No agent with the email %(email)s.") % {"email": cells["owner_email"]}, field="owner_email"
            )
    return DealValues(
        organization=organization,
        name=cells.get("name", ""),
        amount=cells.get("amount") or "0",
        currency=cells.get("currency") or "USD",
        stage=cells.get("stage", ""),
        status=status,
        lost_reason=reason,
        competitor=cells.get("competitor", ""),
        industry=cells.get("industry", ""),
        idea=idea,
        owner=owner,
        closed_on=_date(cells.get("closed_on", ""), "closed_on"),
        external_id=cells.get("external_id"),
    )


def _churn_reason(value: str) -> str:
    wanted = value.strip().lower()
    for code, label in ChurnReason.choices:
        if wanted in (code, str(label).lower(), _(str(label)).lower()):
            return str(code)
    raise ValidationFailed(_("“%(value)s” is not a churn reason.") % {"value": value}, field="reason")


def _churn_values(cells: dict[str, str], organization: Organization, idea: Idea | None) -> ChurnValues:
    churned_on = _date(cells.get("churned_on", ""), "churned_on")
    if churned_on is None:
        raise ValidationFailed(_("The row has no churned_on date."), field="churned_on")
    return ChurnValues(
        organization=organization,
        churned_on=churned_on,
        reason=_churn_reason(cells.get("reason", "")),
        mrr_lost=cells.get("mrr_lost") or "0",
        idea=idea,
        notes=cells.get("notes", ""),
        won_back_on=_date(cells.get("won_back_on", ""), "won_back_on"),
        external_id=cells.get("external_id"),
    )


class _Unchanged(Exception):
    """Raised inside the row's transaction to roll back an update that changed nothing."""


def _write(workspace: Workspace, kind: Kind, planned: PlannedRow, actor: Agent | None) -> Outcome:
    try:
        with transaction.atomic():
            organization = planned.organization or _created_organization(workspace, planned)
            area = planned.area or find_or_create_product_area(
                workspace=workspace, path=planned.cells.get("product_area", "")
            )
            values = planned.values
            assert values is not None
            values = replace(values, organization=organization, product_area=area)
            if isinstance(values, DealValues):
                return _write_deal(workspace, values, actor)
            return _write_churn(workspace, values, actor)
    except _Unchanged:
        return "unchanged"


def _created_organization(workspace: Workspace, planned: PlannedRow) -> Organization:
    name = planned.cells["organization"]
    existing = Organization.objects.filter(workspace=workspace, name__iexact=name).first()
    if existing is not None:  # an earlier row of this file created it
        return existing
    stage = LifecycleStage.LEAD if "status" in planned.cells else LifecycleStage.CUSTOMER
    return create_organization(
        workspace=workspace,
        name=name,
        industry=planned.cells.get("industry", ""),
        lifecycle_stage=stage,
        external_id=planned.cells.get("organization_external_id") or None,
    )


def _deal_state(deal: Deal) -> tuple[object, ...]:
    return tuple(getattr(deal, f.attname) for f in Deal._meta.concrete_fields if f.name not in ("updated_at",))


def _write_deal(workspace: Workspace, values: DealValues, actor: Agent | None) -> Outcome:
    existing = Deal.objects.filter(workspace=workspace, external_id=values.external_id).first()
    if existing is None:
        record_deal(workspace=workspace, values=values, actor=actor)
        return "created"
    before = _deal_state(existing)
    update_deal(deal=existing, values=values, actor=actor)
    if _deal_state(existing) == before:
        raise _Unchanged
    return "updated"


def _churn_state(record: ChurnRecord) -> tuple[object, ...]:
    return tuple(getattr(record, f.attname) for f in ChurnRecord._meta.concrete_fields)


def _write_churn(workspace: Workspace, values: ChurnValues, actor: Agent | None) -> Outcome:
    existing = ChurnRecord.objects.filter(workspace=workspace, external_id=values.external_id).first()
    if existing is None:
        record_churn(workspace=workspace, values=values, actor=actor)
        return "created"
    before = _churn_state(existing)
    update_churn(record=existing, values=values, actor=actor)
    if _churn_state(existing) == before:
        raise _Unchanged
    return "updated"
