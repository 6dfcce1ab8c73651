"""record_* helpers: every change to a ticket writes a TicketEvent (timeline + audit trail)."""

from __future__ import annotations

from typing import Any

from deskloop.accounts.models import Agent
from deskloop.customers.models import Contact
from deskloop.tickets.models import EventKind, Ticket, TicketEvent


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
    return TicketEvent.objects.create(
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


def record_field_changes(
    *, ticket: Ticket, changes: dict[str, tuple[Any, Any]], agent: Agent | None, via: str
) -> list[TicketEvent]:
    """One row per changed field; values are stored as display-stable primitives (ids, names)."""
    rows = [
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
    return TicketEvent.objects.bulk_create(rows)
