"""Writes a channel needs beyond customer messages: CC'd contacts, system notes, inline images.

Channels (email, widget ...) sit above tickets and reach ticket rows only through services like these.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed
from deskloop.core.plain_sql import insert_missing
from deskloop.customers.models import Contact
from deskloop.tickets import events
from deskloop.tickets.models import Attachment, EventKind, Message, MessageKind, Ticket


def add_cc_contacts(*, ticket: Ticket, contacts: Sequence[Contact], via: str = "email") -> list[Contact]:
    """Copy contacts on the conversation (they receive public replies). The requester and contacts already
    copied are skipped; returns the contacts actually added, each recorded as a FIELD_CHANGED cc event."""
    unique: dict[int, Contact] = {}
    for contact in contacts:
        if contact.workspace_id == ticket.workspace_id and contact.pk != ticket.requester_id:
            unique.setdefault(contact.pk, contact)
    if not unique:
        return []
    # No savepoint when a caller's transaction is open (the email pipeline's): nothing here catches a database
    # error, so a failure rolls back the caller's whole write, as it must.
    with transaction.atomic(savepoint=False):
        # One statement finds which are new: a link already there is a conflict, not inserted, not returned.
        through = Ticket.cc_contacts.through
        new = insert_missing([through(ticket_id=ticket.pk, contact_id=pk) for pk in unique], returning="contact_id")
        added = [contact for pk, contact in unique.items() if pk in new]
        events.record_events(
            [
                events.event(ticket=ticket, kind=EventKind.FIELD_CHANGED, field="cc", new=contact.display_name, via=via)
                for contact in added
            ]
        )
    return added


def add_system_note(*, ticket: Ticket, body_text: str, via: str = "system") -> Message:
    """A note written by Deskloop itself (a bounce, a follow-up link); agents see it, customers never do."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            workspace_id=ticket.workspace_id,
            ticket=ticket,
            kind=MessageKind.SYSTEM,
            body_text=body_text,
            created_at=now,
        )
        events.record_event(ticket=ticket, kind=EventKind.NOTE_ADDED, new=message.pk, via=via)
    return message


_CID_SRC = re.compile(r'src="cid:([^"]*)"', re.IGNORECASE)


def link_inline_images(*, message: Message) -> int:
    """Point ``cid:`` image references of a message's (sanitized) HTML at its own inline attachments, so the
    ticket page shows the images. Returns how many references were linked; unknown ones are left alone."""
    if "cid:" not in message.body_html.lower():
        return 0
    by_cid = {
        content_id.strip("<>").lower(): pk
        for pk, content_id in Attachment.objects.filter(message=message)
        .exclude(content_id="")
        .values_list("pk", "content_id")
    }
    linked = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal linked
        attachment_id = by_cid.get(html_lib.unescape(match.group(1)).strip("<>").lower())
        if attachment_id is None:
            return match.group(0)
        linked += 1
        return f'src="{reverse("tickets:attachment", args=[attachment_id])}"'

    rewritten = _CID_SRC.sub(replace, message.body_html)
    if linked:
        Message.objects.filter(pk=message.pk).update(body_html=rewritten)
        message.body_html = rewritten
    return linked


# How a public reply's email is doing, as the ticket page shows it next to the message.
DELIVERY_STATES = ("sending", "sent", "retrying", "failed", "skipped")
DELIVERY_ERROR_MAX = 300


def record_delivery_state(*, message: Message, state: str, error: str = "") -> None:
    """Mirror a channel's delivery state of ``message`` into ``channel_meta["delivery"]`` (state, error, when).
    Not a change of the ticket: no event, no version bump (an agent editing the ticket must not get a stale-write
    refusal because a mail went out)."""
    if state not in DELIVERY_STATES:
        raise ValidationFailed(_("Unknown delivery state “%(state)s”.") % {"state": state}, field="state")
    delivery = {"state": state, "error": " ".join(error.split())[:DELIVERY_ERROR_MAX], "at": timezone.now().isoformat()}
    with transaction.atomic():
        # Locked read-modify-write: channel_meta holds other keys (Message-ID, auth results) that must survive.
        locked = Message.objects.select_for_update().get(pk=message.pk)
        meta = dict(locked.channel_meta or {})
        meta["delivery"] = delivery
        locked.channel_meta = meta
        locked.save(update_fields=["channel_meta"])
    message.channel_meta = meta
