"""Rebuilding a ticket's SLA clocks from its history: for history written without the outbox consumer (the demo
seed writes months of conversations with dispatch off) and for tickets that predate their policy.

It walks the ticket's public messages and status changes in time order through the same clock functions the
consumer calls, on a copy of the ticket set to what it was at each moment, so a replayed ticket ends with exactly
the clocks it would have had live (warnings and breaches still open are left to the next sweep).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.db import transaction

from deskloop.service_levels import clocks
from deskloop.service_levels.models import SlaTarget
from deskloop.tickets.models import EventKind, Message, MessageKind, Status, StatusCategory, Ticket, TicketEvent

# At the same moment a status change goes before the message that came with it: a reply that solves stops the
# clocks once, and a customer's message that reopens starts its next-response clock on an open ticket.
_STATUS, _MESSAGE = 0, 1


def _moments(ticket: Ticket) -> list[tuple[dt.datetime, int, int, dict[str, Any]]]:
    moments: list[tuple[dt.datetime, int, int, dict[str, Any]]] = []
    messages = Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY).values(
        "pk", "created_at", "author_agent_id", "author_contact_id"
    )
    for message in messages:
        moments.append((message["created_at"], _MESSAGE, message["pk"], dict(message)))
    changes = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.FIELD_CHANGED, field="status").values(
        "pk", "created_at", "old_value", "new_value"
    )
    for change in changes:
        moments.append((change["created_at"], _STATUS, change["pk"], dict(change)))
    return sorted(moments, key=lambda moment: moment[:3])


def _status_id(value: Any) -> int | None:
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def replay_clocks(*, ticket: Ticket) -> None:
    """Throw away the ticket's clocks and play its history through them again."""
    statuses = {status.pk: status for status in Status.objects.filter(workspace_id=ticket.workspace_id)}
    moments = _moments(ticket)
    first_change = next((row for _at, kind, _pk, row in moments if kind == _STATUS), None)
    initial = _status_id(first_change["old_value"]) if first_change else None
    then = copy.copy(ticket)
    then.status = statuses.get(initial or ticket.status_id, ticket.status)
    then.first_response_at = then.last_agent_message_at = then.solved_at = then.closed_at = None
    then.first_response_business_minutes = then.resolution_business_minutes = None
    with transaction.atomic():
        SlaTarget.objects.filter(ticket=ticket).delete()
        clocks.start_clocks(ticket=then, at=then.created_at)
        for at, kind, _pk, row in moments:
            if kind == _STATUS:
                status = statuses.get(_status_id(row["new_value"]) or 0)
                if status is None:
                    continue
                then.status = status
                then.solved_at = at if status.category in clocks.STOPPING else None
                then.closed_at = at if status.category == StatusCategory.CLOSED else None
                clocks.follow_status(ticket=then, category=status.category, at=at)
            elif row["author_agent_id"] is not None:
                then.first_response_at = then.first_response_at or at
                then.last_agent_message_at = at
                clocks.record_agent_reply(ticket=then, at=at)
            elif row["author_contact_id"] is not None:
                clocks.record_customer_message(ticket=then, at=at)
