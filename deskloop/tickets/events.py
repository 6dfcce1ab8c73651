"""record_* helpers: every change to a ticket writes a TicketEvent (timeline + audit trail)."""

from __future__ import annotations

from typing import Any

from deskloop.accounts.models import Agent
from deskloop.core.plain_sql import MAX_INSERT_ROWS, insert_rows
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
