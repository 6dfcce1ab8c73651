"""record_* helpers: every change to a ticket writes a TicketEvent (timeline + audit trail)."""

from __future__ import annotations

from typing import Any

from django.db.models import Expression, F, QuerySet, Value
from django.utils import timezone

from deskloop.accounts.models import Agent
from deskloop.core.plain_sql import MAX_INSERT_ROWS, insert_rows, insert_selected
from deskloop.customers.models import Contact
from deskloop.tickets.models import EventKind, Ticket, TicketEvent


def event(
    *,
    ticket: Ticket,
    kind: EventKind,
    agent: Agent | None = None,
    contact: Contact | None = None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    via: str = "",
) -> TicketEvent:
    """An event row not yet written: collect a write's events and record them together (``record_events``)."""
    return TicketEvent(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        kind=kind,
        actor_agent=agent,
        actor_contact=contact,
        field=field,
        old_value=old,
        new_value=new,
        via=via,
    )


def record_event(
    *,
    ticket: Ticket,
    kind: EventKind,
    agent: Agent | None = None,
    contact: Contact | None = None,
    field: str = "",
    old: Any = None,
    new: Any = None,
    via: str = "",
) -> TicketEvent:
    row = event(ticket=ticket, kind=kind, agent=agent, contact=contact, field=field, old=old, new=new, via=via)
    row.save(force_insert=True)
    return row


def record_events(rows: list[TicketEvent]) -> list[TicketEvent]:
    """Write several events in one INSERT, in the order given (ids, and so the timeline, keep that order)."""
    if len(rows) <= MAX_INSERT_ROWS:
        # Most writes record one to three events: the statement built once, not compiled by bulk_create each time.
        insert_rows(rows)
        return rows
    return TicketEvent.objects.bulk_create(rows)


def record_selected(rows: QuerySet[Any], *, kind: EventKind, new: Expression, via: str) -> int:
    """One history row of ``kind`` per row of ``rows`` (a queryset of a model with ``workspace_id`` and
    ``ticket_id``, in timeline order), its new value computed by the database (``new``, a ``JSONObject`` over the
    row), in one INSERT ... SELECT; returns how many. For a job that records thousands of events at once (the SLA
    sweep after an outage); a write of a few rows uses ``record_events``."""
    columns = {
        "workspace_id": F("workspace_id"),
        "ticket_id": F("ticket_id"),
        "kind": Value(str(kind)),
        "field": Value(""),
        "new_value": new,
        "via": Value(via),
        "created_at": Value(timezone.now()),
    }
    return len(insert_selected(TicketEvent, columns, rows))


def record_field_changes(
    *, ticket: Ticket, changes: dict[str, tuple[Any, Any]], agent: Agent | None, via: str
) -> list[TicketEvent]:
    """One row per changed field; values are stored as display-stable primitives (ids, names)."""
    return record_events(field_change_events(ticket=ticket, changes=changes, agent=agent, via=via))


def field_change_events(
    *, ticket: Ticket, changes: dict[str, tuple[Any, Any]], agent: Agent | None, via: str
) -> list[TicketEvent]:
    """The rows ``record_field_changes`` writes, not yet written."""
    return [
        TicketEvent(
            workspace_id=ticket.workspace_id,
            ticket=ticket,
            kind=EventKind.FIELD_CHANGED,
            actor_agent=agent,
            field=field,
            old_value=old,
            new_value=new,
            via=via,
        )
        for field, (old, new) in changes.items()
    ]
