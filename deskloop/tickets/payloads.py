"""Plain-dict pictures of tickets and messages for outbox events (webhooks) and audit values."""

from __future__ import annotations

from typing import Any

from deskloop.tickets.models import Message, Ticket


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": {"id": ticket.status_id, "name": ticket.status.name, "category": ticket.status.category},
        "priority": ticket.priority,
        "channel": ticket.channel,
        "requester_id": ticket.requester_id,
        "organization_id": ticket.organization_id,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "product_area_id": ticket.product_area_id,
        "request_type": ticket.request_type,
        "custom_fields": ticket.custom_fields,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "version": ticket.version,
    }


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "ticket_id": message.ticket_id,
        "ticket_number": message.ticket.number,
        "kind": message.kind,
        "author_agent_id": message.author_agent_id,
        "author_contact_id": message.author_contact_id,
        "body_text": message.body_text,
        "created_at": message.created_at.isoformat(),
    }
