"""Adding messages to tickets: customer messages, agent replies and internal notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core import outbox
from deskloop.core.errors import ValidationFailed
from deskloop.core.html import clean_html, html_to_text, text_to_html
from deskloop.core.plain_sql import insert_row
from deskloop.customers.models import Contact
from deskloop.tickets import events, search
from deskloop.tickets.attachments import IncomingFile, check_size, guess_content_type, safe_filename, store_blob
from deskloop.tickets.models import (
    Attachment,
    Channel,
    EventKind,
    Message,
    MessageKind,
    Status,
    StatusCategory,
    Ticket,
)
from deskloop.tickets.payloads import message_payload, ticket_payload
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.notifications import mentioned_agents

REPLIES_WRITERS_ONLY = gettext_noop("Your role cannot reply to customers. You can add an internal note.")
NOTES_NOTE_ROLES_ONLY = gettext_noop("Your role cannot add notes.")


def _bodies(body_text: str, body_html: str) -> tuple[str, str, str]:
    """Both a plain-text and a sanitized HTML body (either may be derived from the other), and why the HTML is only
    the text ("" when it is not): HTML over the cost budget is shown as the text given with it (an email's text
    part), else as the text read from it, never parsed (core.html_budget)."""
    cleaned = clean_html(body_html, fallback=body_text)
    safe_html = cleaned.html
    text = body_text if body_text.strip() else html_to_text(safe_html)
    if not safe_html and text:
        safe_html = text_to_html(text)
    return text, safe_html, cleaned.fallback_reason


def _store_attachments(message: Message, attachments: Sequence[IncomingFile]) -> None:
    for incoming in attachments:
        check_size(incoming)
    rows = []
    for incoming in attachments:
        name = safe_filename(incoming.filename)
        rows.append(
            Attachment(
                workspace_id=message.workspace_id,
                message=message,
                blob=store_blob(incoming.content),
                filename=name,
                content_type=guess_content_type(name, incoming.content_type),
                size=len(incoming.content),
                content_id=incoming.content_id.strip("<>")[:255],
            )
        )
    Attachment.objects.bulk_create(rows)


def _lock_ticket(ticket: Ticket) -> Ticket:
    """The ticket's row, locked for this transaction's read-modify-write of its counters and status, with what
    its search document is built from. ``of=("self",)``: only the ticket row is locked; a plain FOR UPDATE on
    PostgreSQL would lock the joined status and contact rows too, so messages to different tickets in the same
    status would wait for each other."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("status", "requester", "organization")
        .get(pk=ticket.pk)
    )


def store_message(
    *,
    ticket: Ticket,
    kind: MessageKind,
    body_text: str,
    body_html: str,
    agent: Agent | None,
    contact: Contact | None,
    channel: str,
    attachments: Sequence[IncomingFile],
    created_at: dt.datetime,
    channel_meta: dict[str, Any] | None,
) -> Message:
    """The message row and its attachments; nothing else. The caller updates the ticket, records the event and
    reindexes the ticket (``search.index_ticket``) in the same transaction, so a committed message is
    searchable at once and a failed one leaves nothing behind."""
    text, safe_html, fallback_reason = _bodies(body_text, body_html)
    if not text.strip() and not attachments:
        raise ValidationFailed(_("The message is empty."), field="body")
    meta = channel_meta or {}
    # A plain INSERT ... RETURNING (core.plain_sql): the same statement, without compiling it per message.
    message = Message(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        kind=kind,
        author_agent=agent,
        author_contact=contact,
        body_text=text,
        body_html=safe_html,
        html_fallback_reason=fallback_reason,
        channel=channel,
        channel_meta=meta,
        email_message_id=str(meta.get("message_id", ""))[:998],
        created_at=created_at,
    )
    insert_row(message)
    _store_attachments(message, attachments)
    return message


@dataclass(frozen=True)
class CustomerMessage:
    """What a customer wrote, as ``add_customer_message`` stores it (the fields of a ``NewTicket``'s first message).
    ``created_at``: now when None; ``channel_meta``: what the channel keeps about it (an email's ids)."""

    body_text: str = ""
    body_html: str = ""
    channel: str = Channel.WEB
    attachments: Sequence[IncomingFile] = ()
    created_at: dt.datetime | None = None
    channel_meta: dict[str, Any] | None = None


def add_customer_message(
    *,
    ticket: Ticket,
    contact: Contact,
    message: CustomerMessage,
    via: str = "web",
    reopen: bool = True,
    publish: bool = True,
) -> Message:
    """``message`` from the requester or a CC'd contact. Reopens a pending or solved ticket. Inside a caller's
    transaction it joins that one, as ``open_ticket`` does (no savepoint: nothing rolls back to it)."""
    if contact.workspace_id != ticket.workspace_id:
        raise ValidationFailed(_("The contact was not found."), field="contact")
    when = message.created_at or timezone.now()
    with transaction.atomic(savepoint=False):
        stored = store_message(
            ticket=ticket,
            kind=MessageKind.REPLY,
            body_text=message.body_text,
            body_html=message.body_html,
            agent=None,
            contact=contact,
            channel=message.channel,
            attachments=message.attachments,
            created_at=when,
            channel_meta=message.channel_meta,
        )
        locked = _lock_ticket(ticket)
        locked.last_customer_message_at = when
        locked.message_count += 1
        locked.updated_at = max(locked.updated_at, when)
        locked.version += 1
        timeline = []
        if reopen and locked.status.category in (StatusCategory.PENDING, StatusCategory.SOLVED, StatusCategory.CLOSED):
            reopened = default_status(locked.workspace_id, StatusCategory.OPEN)
            timeline.append(
                events.event(
                    ticket=locked,
                    kind=EventKind.FIELD_CHANGED,
                    contact=contact,
                    field="status",
                    old={"id": locked.status_id, "name": locked.status.name},
                    new={"id": reopened.pk, "name": reopened.name},
                    via=via,
                )
            )
            if locked.status.category != StatusCategory.PENDING:
                locked.reopen_count += 1
            locked.status = reopened
            locked.solved_at = None
            locked.closed_at = None
        locked.save(update_fields=[*_MESSAGE_FIELDS, "last_customer_message_at"])
        _sync_ticket(ticket, locked)
        timeline.append(
            events.event(ticket=locked, kind=EventKind.MESSAGE_ADDED, contact=contact, new=stored.pk, via=via)
        )
        events.record_events(timeline)
        search.index_ticket(locked)
        if publish:
            outbox.publish(workspace_id=ticket.workspace_id, name="message.created", payload=message_payload(stored))
    return stored


def add_agent_reply(
    *,
    ticket: Ticket,
    agent: Agent,
    body_text: str = "",
    body_html: str = "",
    attachments: Sequence[IncomingFile] = (),
    status: Status | None = None,
    via: str = "web",
) -> Message:
    """A public reply to the customer. Sets first_response_at; a new ticket becomes open unless a status
    is chosen ("reply and set pending")."""
    require_role(agent, Capability.WRITE, REPLIES_WRITERS_ONLY)
    if status is not None and status.workspace_id != ticket.workspace_id:
        raise ValidationFailed(_("The status was not found."), field="status")
    from deskloop.tickets.services.tickets import change_status

    now = timezone.now()
    with transaction.atomic():
        message = store_message(
            ticket=ticket,
            kind=MessageKind.REPLY,
            body_text=body_text,
            body_html=body_html,
            agent=agent,
            contact=None,
            channel=ticket.channel,
            attachments=attachments,
            created_at=now,
            channel_meta=None,
        )
        locked = _lock_ticket(ticket)
        locked.first_response_at = locked.first_response_at or now
        locked.last_agent_message_at = now
        locked.message_count += 1
        locked.updated_at = now
        locked.version += 1
        timeline = [events.event(ticket=locked, kind=EventKind.MESSAGE_ADDED, agent=agent, new=message.pk, via=via)]
        target = status
        if target is None and locked.status.category == StatusCategory.NEW:
            target = default_status(locked.workspace_id, StatusCategory.OPEN)
        changed = change_status(locked, target, now) if target is not None else {}
        published: list[tuple[str, dict[str, Any]]] = []
        if changed:
            # The status change is a change of its own, as update_ticket makes it: one more version, its
            # field event and a ticket.updated event; written with the reply's in one UPDATE and one INSERT.
            locked.version += 1
            timeline += events.field_change_events(ticket=locked, changes=changed, agent=agent, via=via)
            published.append(("ticket.updated", {**ticket_payload(locked), "changes": sorted(changed)}))
        locked.save(update_fields=[*_MESSAGE_FIELDS, "first_response_at", "last_agent_message_at"])
        events.record_events(timeline)
        search.index_ticket(locked)
        _sync_ticket(ticket, locked)
        ticket.followers.add(agent)
        published.append(("message.created", message_payload(message)))
        outbox.publish_many(workspace_id=ticket.workspace_id, events=published)
    return message


def add_internal_note(
    *,
    ticket: Ticket,
    agent: Agent,
    body_text: str = "",
    body_html: str = "",
    attachments: Sequence[IncomingFile] = (),
    via: str = "web",
) -> Message:
    """A note only agents see. @mentions notify the mentioned agents and make them followers."""
    require_role(agent, Capability.NOTE, NOTES_NOTE_ROLES_ONLY)
    now = timezone.now()
    with transaction.atomic():
        message = store_message(
            ticket=ticket,
            kind=MessageKind.NOTE,
            body_text=body_text,
            body_html=body_html,
            agent=agent,
            contact=None,
            channel=Channel.WEB,
            attachments=attachments,
            created_at=now,
            channel_meta=None,
        )
        locked = _lock_ticket(ticket)
        locked.message_count += 1
        locked.updated_at = now
        locked.version += 1
        locked.save(update_fields=["message_count", "updated_at", "version"])
        _sync_ticket(ticket, locked)
        events.record_event(ticket=locked, kind=EventKind.NOTE_ADDED, agent=agent, new=message.pk, via=via)
        search.index_ticket(locked)
        mentioned = mentioned_agents(workspace_id=ticket.workspace_id, text=message.body_text)
        if mentioned:
            ticket.followers.add(*mentioned)
        # The in-app and email notifications of the mentioned agents are outbox consumers.
        payload = {**message_payload(message), "mentioned_agent_ids": [a.pk for a in mentioned]}
        outbox.publish(workspace_id=ticket.workspace_id, name="message.created", payload=payload)
    return message


# What a message may change on its (locked) ticket besides its own timestamp; only these columns are written.
_MESSAGE_FIELDS = ["message_count", "updated_at", "version", "status", "solved_at", "closed_at", "reopen_count"]


def _sync_ticket(stale: Ticket, fresh: Ticket) -> None:
    """Copy the saved state onto the caller's instance so it does not write stale values later."""
    for name in (
        "status_id",
        "version",
        "updated_at",
        "message_count",
        "first_response_at",
        "last_agent_message_at",
        "last_customer_message_at",
        "solved_at",
        "closed_at",
        "reopen_count",
    ):
        setattr(stale, name, getattr(fresh, name))
    if "status" in fresh._state.fields_cache:
        stale.status = fresh.status
