"""The outbox consumer that keeps SLA clocks in step with the ticket changes tickets announce.

Tickets sits below service_levels and cannot call it; it publishes ``ticket.created``, ``ticket.updated`` and
``message.created`` in the transaction of each change, and this consumer (registered in ``AppConfig.ready()``)
runs right after the commit, in the dispatch task. It reloads and locks the ticket (two workers dispatching events
of one ticket must not interleave) and applies the change at the event's own time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from deskloop.core.models import OutboxEvent
from deskloop.service_levels import clocks
from deskloop.tickets.models import MessageKind, Ticket

# What the policy is chosen by (``SlaPolicy.conditions``); ``ticket.updated`` lists the changed fields.
_POLICY_FIELDS = frozenset({"priority", "tags", "product_area", "organization", "channel"})


def _when(value: Any, fallback: dt.datetime) -> dt.datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or fallback


def _ticket_id(event: OutboxEvent) -> int | None:
    payload = event.payload
    if event.name in ("ticket.created", "ticket.updated", "ticket.deleted", "ticket.spam"):
        value = payload.get("id")
    elif event.name == "message.created":
        value = payload.get("ticket_id")
    elif event.name == "ticket.merged":
        value = (payload.get("source") or {}).get("id")
    else:
        return None
    return value if isinstance(value, int) else None


def consume_outbox_event(event: OutboxEvent) -> None:
    ticket_id = _ticket_id(event)
    if ticket_id is None:
        return
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("status", "organization")
            .filter(pk=ticket_id, workspace_id=event.workspace_id)
            .first()
        )
        if ticket is None:
            return
        _apply(event, ticket)


def _apply(event: OutboxEvent, ticket: Ticket) -> None:
    payload = event.payload
    if event.name == "ticket.created":
        clocks.start_clocks(ticket=ticket, at=_when(payload.get("created_at"), ticket.created_at))
    elif event.name == "ticket.updated":
        at = _when(payload.get("updated_at"), event.created_at)
        changes = set(payload.get("changes") or [])
        if changes & _POLICY_FIELDS:
            clocks.repick_policy(ticket=ticket, at=at)
        status = payload.get("status") or {}
        # The category the change set (a later change may have moved it on: its own event follows).
        clocks.follow_status(ticket=ticket, category=str(status.get("category", ticket.status.category)), at=at)
    elif event.name == "message.created":
        _message(payload, ticket, _when(payload.get("created_at"), event.created_at))
    elif event.name == "ticket.merged" or (event.name in ("ticket.deleted", "ticket.spam") and _leaves(payload)):
        clocks.stop_all(ticket=ticket, at=event.created_at)


def _leaves(payload: dict[str, Any]) -> bool:
    return payload.get("is_spam", True) is not False


def _message(payload: dict[str, Any], ticket: Ticket, at: dt.datetime) -> None:
    if payload.get("kind") != MessageKind.REPLY:
        return  # notes and system messages answer no one
    if payload.get("author_agent_id") is not None:
        clocks.record_agent_reply(ticket=ticket, at=at)
    elif payload.get("author_contact_id") is not None:
        clocks.record_customer_message(ticket=ticket, at=at)
