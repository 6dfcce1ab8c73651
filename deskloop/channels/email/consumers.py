"""The email channel's outbox consumer: domain events from tickets become emails (registered in apps.py).

Tickets never import the email channel; it learns of replies, new tickets and assignments from the outbox,
after the change committed. The consumer runs inside the outbox dispatch transaction, so its rows commit with
the event's "dispatched" mark and the send tasks start after that commit.
"""

from __future__ import annotations

import logging

from django.db import transaction

from deskloop.core.models import OutboxEvent
from deskloop.tickets.models import Message, MessageKind
from deskloop.tickets.services.notifications import assigned_by

from . import notifications, outbound, spam_learning

log = logging.getLogger(__name__)


def handle_event(event: OutboxEvent) -> None:
    payload = event.payload
    if event.name == "message.created":
        message = (
            Message.objects.select_related("author_agent__user", "author_contact")
            .filter(pk=payload.get("id"), workspace_id=event.workspace_id)
            .first()
        )
        if message is None:
            return
        if message.kind == MessageKind.REPLY and message.author_agent_id is not None:
            outbound.queue_reply(message=message)
        elif message.is_from_customer:
            notifications.notify_customer_reply(message=message)
        elif message.kind == MessageKind.NOTE:
            notifications.notify_mentions(message=message)
    elif event.name == "ticket.created":
        from deskloop.tickets.models import Ticket

        ticket = Ticket.objects.filter(pk=payload.get("id"), workspace_id=event.workspace_id).first()
        if ticket is None:
            return
        notifications.acknowledge_new_ticket(ticket=ticket)
        if ticket.assignee_id is not None:
            notifications.notify_assignment(ticket_id=ticket.pk, actor=assigned_by(ticket.pk, created=True))
    elif event.name == "ticket.spam":
        from deskloop.tickets.models import Ticket

        ticket = Ticket.objects.filter(pk=payload.get("id"), workspace_id=event.workspace_id).first()
        if ticket is not None:
            spam_learning.learn_from_ticket(ticket=ticket, is_spam=bool(payload.get("is_spam")))
    elif event.name == "survey.invitation_created":
        from . import survey_mail

        survey_mail.handle_survey_event(event)
    elif event.name == "ticket.updated" and "assignee" in payload.get("changes", []):
        if payload.get("assignee_id") is None:
            return
        ticket_id = int(payload["id"])
        notifications.notify_assignment(ticket_id=ticket_id, actor=assigned_by(ticket_id, created=False))


def consume_outbox_event(event: OutboxEvent) -> None:
    """Registered with deskloop.core.outbox in EmailChannelConfig.ready(). A failure here is logged and does
    not block the other consumers (webhooks) of the same event: an email we could not even queue must not stop
    the rest of the product."""
    if event.name not in (
        "message.created",
        "ticket.created",
        "ticket.updated",
        "ticket.spam",
        "survey.invitation_created",
    ):
        return
    try:
        with transaction.atomic():
            handle_event(event)
    except Exception:
        log.exception("email channel: could not handle outbox event %s (%s)", event.pk, event.name)
