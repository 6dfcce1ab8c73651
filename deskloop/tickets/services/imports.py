"""Importing tickets from another helpdesk: a CSV or JSON Lines file, or a batch of rows over the API.

One row is one ticket with its first message. Rows are imported one by one, each in its own transaction, so a
bad row is reported (with its line number and the problem) and the others still go in. A row is keyed by its
``external_id`` (the id in the helpdesk it came from, unique per workspace): importing the same file again
creates nothing and reports those rows as "skipped (already imported)".

What a row may name that does not exist yet, decided as a helpdesk migration expects:
- tags are created (free-form vocabulary, as everywhere else tags are set);
- product areas are created from their path ("Billing/Invoices" makes "Billing" and "Billing > Invoices");
- organizations are created by name, and a requester who is new joins the row's organization;
- requesters are found by email or created;
- statuses are NOT created: a status names one of the workspace's statuses or a category (new, open, pending,
  on_hold, solved, closed); anything else is an error, because a typo must not invent a workflow state.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import DomainError, ValidationFailed
from deskloop.customers.models import Contact, ContactEmail, Organization
from deskloop.customers.services import create_contact, create_organization, find_or_create_contact, normalize_email
from deskloop.tickets.models import Channel, Priority, ProductArea, RequestType, Status, StatusCategory, Ticket
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.configuration_groups import AREA_NAME_MAX, AREA_PATH_MAX, AREA_SEPARATOR
from deskloop.tickets.services.tickets import NewTicket, clean_subject, clean_tag_names, open_ticket

ImportFormat = Literal["csv", "jsonl"]
RowOutcome = Literal["created", "skipped", "error"]

EXTERNAL_ID_MAX = 200
NAME_MAX = 200
# A clock a few minutes fast on the exporting machine is not an error; a ticket from next week is.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)

COLUMNS = (
    "external_id",
    "subject",
    "body",
    "requester_email",
    "requester_name",
    "organization",
    "product_area",
    "tags",
    "status",
    "priority",
    "request_type",
    "created_at",
)
REQUIRED_COLUMNS = ("external_id", "subject", "requester_email")
# Column names other helpdesks' exports use for the same thing.
COLUMN_ALIASES = {
    "id": "external_id",
    "ticket_id": "external_id",
    "description": "body",
    "body_text": "body",
    "message": "body",
    "email": "requester_email",
    "requester": "requester_email",
    "name": "requester_name",
    "company": "organization",
    "created": "created_at",
}

FILE_EMPTY = gettext_lazy("The file is empty.")
FILE_NOT_UTF8 = gettext_lazy("The file is not UTF-8 text (first bad byte on line %(line)d). Save it as UTF-8.")
FILE_UNREADABLE = gettext_lazy("The file could not be read: %(reason)s")
FILE_FORMAT_UNKNOWN = gettext_lazy("Cannot tell the format from “%(name)s”; name it .csv or .jsonl, or pass --format.")
FILE_MISSING_COLUMNS = gettext_lazy("The header has no column %(columns)s (it has: %(found)s).")
ROW_FIELD_COUNT = gettext_lazy(
    "The row has %(found)d fields but the header has %(expected)d (a value with a comma needs quotes)."
)
ROW_CSV_BROKEN = gettext_lazy("The row could not be read as CSV: %(reason)s.")
ROW_NOT_JSON = gettext_lazy("The line is not valid JSON: %(reason)s.")
ROW_NOT_OBJECT = gettext_lazy("The line must be a JSON object with the ticket's fields.")
ROW_NOT_TEXT = gettext_lazy("%(column)s must be text.")
ROW_NO_EXTERNAL_ID = gettext_lazy("external_id is missing; it is what makes running the import again safe.")
ROW_EXTERNAL_ID_TOO_LONG = gettext_lazy("external_id can be at most %(max)d characters.")
ROW_NO_EMAIL = gettext_lazy("requester_email is missing.")
ROW_BAD_DATE = gettext_lazy("created_at “%(value)s” is not an ISO 8601 date and time (e.g. 2025-03-01T09:30:00Z).")
ROW_FUTURE_DATE = gettext_lazy("created_at “%(value)s” is in the future.")
ROW_UNKNOWN_STATUS = gettext_lazy(
    "Unknown status “%(value)s”; use one of %(names)s, or a category (new, open, pending, on_hold, solved, closed)."
)
ROW_UNKNOWN_PRIORITY = gettext_lazy("Unknown priority “%(value)s”; use low, normal, high or urgent.")
ROW_UNKNOWN_REQUEST_TYPE = gettext_lazy(
    "Unknown request type “%(value)s”; use question, problem, bug or feature_request."
)
ROW_AREA_NAME_TOO_LONG = gettext_lazy("A product area name can be at most %(max)d characters.")
ROW_AREA_PATH_TOO_LONG = gettext_lazy("A product area path can be at most %(max)d characters.")
ROW_NOT_SAVED = gettext_lazy("The row could not be saved: %(reason)s")
WORKSPACE_WITHOUT_STATUSES = gettext_lazy("The workspace has no status for new tickets; set up its statuses first.")
ACTOR_OF_OTHER_WORKSPACE = gettext_lazy("The importing agent must belong to the workspace.")
SKIPPED_ALREADY_IMPORTED = gettext_lazy("skipped (already imported as #%(number)d)")


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be imported (unreadable, not UTF-8, no header); no row was touched."""

    code = "import_file_unreadable"


@dataclass(frozen=True)
class ImportRow:
    """One ticket to import, as read: ``line`` is its line in the file (or its position in an API request);
    ``problem`` is set when the row could not even be parsed."""

    line: int
    values: Mapping[str, Any]
    problem: str = ""


@dataclass(frozen=True)
class RowResult:
    line: int
    external_id: str
    outcome: RowOutcome
    message: str = ""
    field: str = ""
    ticket_number: int | None = None


@dataclass
class ImportSummary:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    results: list[RowResult] = field(default_factory=list)

    def add(self, result: RowResult) -> None:
        self.results.append(result)
        if result.outcome == "created":
            self.created += 1
        elif result.outcome == "skipped":
            self.skipped += 1
        else:
            self.failed += 1


@dataclass(frozen=True)
class _ParsedRow:
    external_id: str
    subject: str
    body: str
    requester_email: str
    requester_name: str
    organization: str
    area_parts: list[str]
    tags: list[str]
    status: Status | None
    priority: str
    request_type: str
    created_at: dt.datetime | None


# ----------------------------------------------------------------------------------------------------------
# Reading files


def canonical_column(name: str) -> str:
    key = "_".join(str(name).strip().lower().replace("-", " ").split())
    return COLUMN_ALIASES.get(key, key)


def detect_format(path: Path, given: str | None = None) -> ImportFormat:
    choice = (given or path.suffix.lstrip(".")).lower()
    if choice == "csv":
        return "csv"
    if choice in {"jsonl", "ndjson"}:
        return "jsonl"
    raise ImportFileError(str(FILE_FORMAT_UNKNOWN) % {"name": path.name}, field="format")


def decode_import_file(content: bytes) -> str:
    """UTF-8 (a byte-order mark, as Excel writes, is dropped); anything else is refused as a whole."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ImportFileError(str(FILE_NOT_UTF8) % {"line": line}) from exc


def read_import_file(path: Path, *, file_format: str | None = None) -> list[ImportRow]:
    """Every row of a CSV or JSON Lines file, parsed but not validated. Raises ImportFileError when the file as
    a whole cannot be read; a single broken row comes back as an ImportRow with ``problem`` set."""
    chosen = detect_format(path, file_format)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(str(FILE_UNREADABLE) % {"reason": exc.strerror or exc}) from exc
    text = decode_import_file(content)
    return list(parse_csv(text) if chosen == "csv" else parse_jsonl(text))


def _delimiter(header_line: str) -> str:
    # Spreadsheets in many locales save "CSV" with semicolons; the header tells which one this file uses.
    counts = {candidate: header_line.count(candidate) for candidate in (",", ";", "\t")}
    return max(counts, key=lambda candidate: counts[candidate]) if any(counts.values()) else ","


def parse_csv(text: str) -> Iterator[ImportRow]:
    if not text.strip():
        raise ImportFileError(str(FILE_EMPTY))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]))
    header = [canonical_column(name) for name in next(reader)]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            str(FILE_MISSING_COLUMNS) % {"columns": ", ".join(missing), "found": ", ".join(header)}, field="header"
        )
    last_line = reader.line_num
    while True:
        first_line = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield ImportRow(line=first_line, values={}, problem=str(ROW_CSV_BROKEN) % {"reason": exc})
            continue
        last_line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (often at the end of a file) are not rows
        if len(cells) != len(header):
            problem = str(ROW_FIELD_COUNT) % {"found": len(cells), "expected": len(header)}
            yield ImportRow(line=first_line, values={}, problem=problem)
            continue
        yield ImportRow(line=first_line, values=dict(zip(header, cells, strict=True)))


def parse_jsonl(text: str) -> Iterator[ImportRow]:
    if not text.strip():
        raise ImportFileError(str(FILE_EMPTY))
    # Split on newlines only: str.splitlines() would also split inside strings at U+2028 and friends.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            decoded = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ImportRow(line=number, values={}, problem=str(ROW_NOT_JSON) % {"reason": exc.msg})
            continue
        if not isinstance(decoded, dict):
            yield ImportRow(line=number, values={}, problem=str(ROW_NOT_OBJECT))
            continue
        yield ImportRow(line=number, values={canonical_column(key): value for key, value in decoded.items()})


# ----------------------------------------------------------------------------------------------------------
# Vocabulary the rows name


def split_area_path(path: str) -> list[str]:
    """ "Billing/Invoices", "Billing > Invoices" -> ["Billing", "Invoices"]."""
    parts = (" ".join(part.split()) for part in path.replace(">", "/").split("/"))
    return [part for part in parts if part]


def _check_area_parts(parts: Sequence[str]) -> None:
    for part in parts:
        if len(part) > AREA_NAME_MAX:
            raise ValidationFailed(str(ROW_AREA_NAME_TOO_LONG) % {"max": AREA_NAME_MAX}, field="product_area")
    if len(AREA_SEPARATOR.join(parts)) > AREA_PATH_MAX:
        raise ValidationFailed(str(ROW_AREA_PATH_TOO_LONG) % {"max": AREA_PATH_MAX}, field="product_area")


def find_or_create_product_area(*, workspace: Workspace, path: str | Sequence[str]) -> ProductArea | None:
    """The product area at ``path``, creating it and any missing parent ("Billing/Invoices" makes "Billing" and
    "Billing > Invoices"). Matching is case-insensitive, so "billing/invoices" finds the existing area.
    Returns None for an empty path."""
    parts = split_area_path(path if isinstance(path, str) else "/".join(path))
    _check_area_parts(parts)
    parent: ProductArea | None = None
    with transaction.atomic():
        for depth in range(1, len(parts) + 1):
            full_path = AREA_SEPARATOR.join(parts[:depth])
            area = ProductArea.objects.filter(workspace=workspace, path__iexact=full_path).first()
            if area is None:
                area = ProductArea.objects.create(
                    workspace=workspace, name=parts[depth - 1], parent=parent, path=full_path
                )
            parent = area
    return parent


def resolve_status(statuses: Sequence[Status], value: str) -> Status | None:
    """A status by its name, or the default status of a category; None when neither matches."""
    wanted = value.strip().lower()
    for status in statuses:
        if status.name.lower() == wanted:
            return status
    category = "_".join(wanted.replace("-", " ").split())
    if category in StatusCategory.values:
        in_category = [s for s in statuses if s.category == category]
        if in_category:
            return sorted(in_category, key=lambda s: (not s.is_default, s.position, s.pk))[0]
    return None


def _organization(workspace: Workspace, name: str) -> Organization:
    found = Organization.objects.filter(workspace=workspace, name__iexact=name).first()
    return found or create_organization(workspace=workspace, name=name)


def _requester(workspace: Workspace, row: _ParsedRow) -> Contact:
    if row.organization and not ContactEmail.objects.filter(workspace=workspace, email=row.requester_email).exists():
        return create_contact(
            workspace=workspace,
            email=row.requester_email,
            name=row.requester_name,
            organization=_organization(workspace, row.organization),
        )
    # An existing contact keeps their organization: an import does not move people between companies.
    return find_or_create_contact(workspace=workspace, email=row.requester_email, name=row.requester_name)


# ----------------------------------------------------------------------------------------------------------
# Rows


def _text(values: Mapping[str, Any], column: str) -> str:
    value = values.get(column)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationFailed(str(ROW_NOT_TEXT) % {"column": column}, field=column)
    return str(value).strip()


def _tags(values: Mapping[str, Any]) -> list[str]:
    raw = values.get("tags")
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        names = raw.split(",")
    elif isinstance(raw, list) and all(isinstance(name, str) for name in raw):
        names = raw
    else:
        raise ValidationFailed(str(ROW_NOT_TEXT) % {"column": "tags"}, field="tags")
    return clean_tag_names(names)


def parse_created_at(value: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """ISO 8601, with or without a time; a time without an offset is taken as UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(str(ROW_BAD_DATE) % {"value": value}, field="created_at") from exc
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed > (now or timezone.now()) + FUTURE_TOLERANCE:
        raise ValidationFailed(str(ROW_FUTURE_DATE) % {"value": value}, field="created_at")
    return parsed


def _parse_row(values: Mapping[str, Any], statuses: Sequence[Status]) -> _ParsedRow:
    """Every check that needs no write, so a row that fails leaves nothing behind."""
    external_id = _text(values, "external_id")
    if not external_id:
        raise ValidationFailed(str(ROW_NO_EXTERNAL_ID), field="external_id")
    if len(external_id) > EXTERNAL_ID_MAX:
        raise ValidationFailed(str(ROW_EXTERNAL_ID_TOO_LONG) % {"max": EXTERNAL_ID_MAX}, field="external_id")
    subject = clean_subject(_text(values, "subject"))
    email = _text(values, "requester_email")
    if not email:
        raise ValidationFailed(str(ROW_NO_EMAIL), field="requester_email")
    email = normalize_email(email)
    status_name = _text(values, "status")
    status = None
    if status_name:
        status = resolve_status(statuses, status_name)
        if status is None:
            names = ", ".join(s.name for s in statuses)
            raise ValidationFailed(str(ROW_UNKNOWN_STATUS) % {"value": status_name, "names": names}, field="status")
    priority = _text(values, "priority").lower() or Priority.NORMAL
    if priority not in Priority.values:
        raise ValidationFailed(str(ROW_UNKNOWN_PRIORITY) % {"value": priority}, field="priority")
    request_type = _text(values, "request_type").lower().replace(" ", "_")
    if request_type and request_type not in RequestType.values:
        raise ValidationFailed(str(ROW_UNKNOWN_REQUEST_TYPE) % {"value": request_type}, field="request_type")
    created_text = _text(values, "created_at")
    area_parts = split_area_path(_text(values, "product_area"))
    _check_area_parts(area_parts)
    return _ParsedRow(
        external_id=external_id,
        subject=subject,
        body=_text(values, "body"),
        requester_email=email,
        requester_name=_text(values, "requester_name")[:NAME_MAX],
        organization=_text(values, "organization")[:NAME_MAX],
        area_parts=area_parts,
        tags=_tags(values),
        status=status,
        priority=priority,
        request_type=request_type,
        created_at=parse_created_at(created_text) if created_text else None,
    )


def _already_imported(workspace: Workspace, external_id: str) -> int | None:
    number: int | None = (
        Ticket.objects.filter(workspace=workspace, external_id=external_id).values_list("number", flat=True).first()
    )
    return number


def _skipped(line: int, external_id: str, number: int) -> RowResult:
    message = str(SKIPPED_ALREADY_IMPORTED) % {"number": number}
    return RowResult(line=line, external_id=external_id, outcome="skipped", message=message, ticket_number=number)


def import_ticket_row(
    *, workspace: Workspace, row: ImportRow, statuses: Sequence[Status], actor: Agent | None = None
) -> RowResult:
    """Import one row in its own transaction. Never raises for a problem of the row: it is the result."""
    raw_id = row.values.get("external_id")
    external_id = str(raw_id).strip() if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    if row.problem:
        return RowResult(line=row.line, external_id=external_id, outcome="error", message=row.problem)
    try:
        parsed = _parse_row(row.values, statuses)
    except ValidationFailed as exc:
        return RowResult(
            line=row.line, external_id=external_id, outcome="error", message=exc.message, field=exc.field or ""
        )
    number = _already_imported(workspace, parsed.external_id)
    if number is not None:
        return _skipped(row.line, parsed.external_id, number)
    try:
        with transaction.atomic():
            ticket = open_ticket(
                workspace=workspace,
                ticket=NewTicket(
                    requester=_requester(workspace, parsed),
                    subject=parsed.subject,
                    body_text=parsed.body,
                    channel=Channel.IMPORT,
                    priority=parsed.priority,
                    request_type=parsed.request_type,
                    product_area=find_or_create_product_area(workspace=workspace, path=parsed.area_parts),
                    tags=parsed.tags,
                    status=parsed.status,
                    external_id=parsed.external_id,
                    created_at=parsed.created_at,
                ),
                created_by=actor,
                via="import",
            )[0]
    except DomainError as exc:
        return RowResult(
            line=row.line, external_id=parsed.external_id, outcome="error", message=exc.message, field=exc.field or ""
        )
    except (IntegrityError, DataError) as exc:
        # Most likely another import of the same file won the race for this external id.
        number = _already_imported(workspace, parsed.external_id)
        if number is not None:
            return _skipped(row.line, parsed.external_id, number)
        message = str(ROW_NOT_SAVED) % {"reason": exc}
        return RowResult(line=row.line, external_id=parsed.external_id, outcome="error", message=message)
    return RowResult(line=row.line, external_id=parsed.external_id, outcome="created", ticket_number=ticket.number)


def import_tickets(
    *,
    workspace: Workspace,
    rows: Iterable[ImportRow],
    actor: Agent | None = None,
    on_result: Callable[[RowResult], None] | None = None,
) -> ImportSummary:
    """Import rows one by one into ``workspace``; ``actor`` is the agent importing (None from the command line,
    where the history then shows the requester opening the ticket, ``via`` import).

    Precondition: ``actor``, when given, is an agent of ``workspace`` who may create tickets (open_ticket
    refuses others, row by row).
    """
    statuses = list(Status.objects.filter(workspace=workspace).order_by("position", "id"))
    if actor is not None and actor.workspace_id != workspace.pk:
        raise ValidationFailed(str(ACTOR_OF_OTHER_WORKSPACE), field="actor")
    try:
        default_status(workspace.pk, StatusCategory.NEW)
    except LookupError as exc:
        # Every row would need it; say so once instead of failing each row.
        raise ValidationFailed(str(WORKSPACE_WITHOUT_STATUSES), field="status") from exc
    summary = ImportSummary()
    for row in rows:
        result = import_ticket_row(workspace=workspace, row=row, statuses=statuses, actor=actor)
        summary.add(result)
        if on_result is not None:
            on_result(result)
    return summary
