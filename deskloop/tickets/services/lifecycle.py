"""Merging, spam, soft delete, restore and purge."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core import outbox
from deskloop.core.errors import Conflict, ValidationFailed
from deskloop.customers.models import Contact
from deskloop.tickets import events, search
from deskloop.tickets.models import EventKind, Message, MessageKind, StatusCategory, Ticket, TicketTag
from deskloop.tickets.payloads import ticket_payload
from deskloop.tickets.queries import default_status

TICKETS_WRITERS_ONLY = gettext_noop("Your role cannot change tickets.")
DELETE_WRITERS_ONLY = gettext_noop("Your role cannot delete tickets.")


def merge_tickets(*, source: Ticket, target: Ticket, agent: Agent, via: str = "web") -> Ticket:
    """Move everything from ``source`` into ``target``; the source is closed and points at the survivor.

    Messages keep their original times, so the survivor's conversation reads in order.
    """
    require_role(agent, Capability.WRITE, TICKETS_WRITERS_ONLY)
    if source.workspace_id != target.workspace_id or source.workspace_id != agent.workspace_id:
        raise ValidationFailed(_("The ticket to merge into was not found."), field="target")
    if source.pk == target.pk:
        raise ValidationFailed(_("A ticket cannot be merged into itself."), field="target")
    with transaction.atomic():
        # Lock both in id order so two opposite merges cannot deadlock.
        locked = {
            t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        }
        src, dst = locked[source.pk], locked[target.pk]
        if src.merged_into_id is not None:
            raise Conflict(_("Ticket #%(number)s was already merged.") % {"number": src.number})
        if dst.merged_into_id is not None or dst.deleted_at is not None:
            raise Conflict(_("Ticket #%(number)s cannot receive a merge.") % {"number": dst.number})
        moved = Message.objects.filter(ticket=src).update(ticket=dst)
        dst.followers.add(*src.followers.all())
        dst.cc_contacts.add(*src.cc_contacts.all())
        if src.requester_id != dst.requester_id:
            dst.cc_contacts.add(src.requester_id)
        existing_tags = set(TicketTag.objects.filter(ticket=dst).values_list("tag_id", flat=True))
        TicketTag.objects.bulk_create(
            [
                TicketTag(workspace_id=dst.workspace_id, ticket=dst, tag_id=tag_id)
                for tag_id in TicketTag.objects.filter(ticket=src).values_list("tag_id", flat=True)
                if tag_id not in existing_tags
            ]
        )
        now = timezone.now()
        Message.objects.create(
            workspace_id=dst.workspace_id,
            ticket=dst,
            kind=MessageKind.SYSTEM,
            author_agent=agent,
            body_text=_("Ticket #%(source)s (%(subject)s) was merged into this ticket.")
            % {"source": src.number, "subject": src.subject},
            created_at=now,
        )
        dst.message_count = Message.objects.filter(ticket=dst).exclude(kind=MessageKind.SYSTEM).count()
        for stamp in ("last_customer_message_at", "last_agent_message_at"):
            values = [v for v in (getattr(src, stamp), getattr(dst, stamp)) if v is not None]
            setattr(dst, stamp, max(values) if values else None)
        if src.first_response_at and (dst.first_response_at is None or src.first_response_at < dst.first_response_at):
            dst.first_response_at = src.first_response_at
        dst.updated_at = now
        dst.version += 1
        dst.save()
        src.merged_into = dst
        src.message_count = 0
        src.status = default_status(src.workspace_id, StatusCategory.CLOSED)
        src.closed_at = now
        src.updated_at = now
        src.version += 1
        src.save()
        # Both documents change: the messages moved from one to the other. (Purging needs no call: the
        # document row cascades with the ticket.)
        search.index_tickets([src.pk, dst.pk])
        events.record_event(ticket=dst, kind=EventKind.MERGED, agent=agent, old=src.number, new=moved, via=via)
        events.record_event(ticket=src, kind=EventKind.MERGED_INTO, agent=agent, new=dst.number, via=via)
        outbox.publish(
            workspace_id=dst.workspace_id,
            name="ticket.merged",
            payload={"source": ticket_payload(src), "target": ticket_payload(dst)},
        )
    return dst


def mark_spam(*, ticket: Ticket, agent: Agent, via: str = "web") -> Ticket:
    """Hide the ticket and block its requester: their next messages are refused with a recorded reason."""
    require_role(agent, Capability.WRITE, TICKETS_WRITERS_ONLY)
    with transaction.atomic():
        ticket.is_spam = True
        ticket.version += 1
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["is_spam", "version", "updated_at"])
        Contact.objects.filter(pk=ticket.requester_id).update(is_blocked=True)
        events.record_event(ticket=ticket, kind=EventKind.SPAM, agent=agent, new=True, via=via)
        _publish_spam_verdict(ticket)
    return ticket


def unmark_spam(*, ticket: Ticket, agent: Agent, via: str = "web") -> Ticket:
    require_role(agent, Capability.WRITE, TICKETS_WRITERS_ONLY)
    with transaction.atomic():
        ticket.is_spam = False
        ticket.version += 1
        ticket.save(update_fields=["is_spam", "version"])
        Contact.objects.filter(pk=ticket.requester_id).update(is_blocked=False)
        events.record_event(ticket=ticket, kind=EventKind.SPAM, agent=agent, old=True, new=False, via=via)
        _publish_spam_verdict(ticket)
    return ticket


def _publish_spam_verdict(ticket: Ticket) -> None:
    """An agent's "spam" / "not spam" is a lesson for the email channel's spam filter (its consumer learns it)."""
    outbox.publish(
        workspace_id=ticket.workspace_id,
        name="ticket.spam",
        payload={"id": ticket.pk, "number": ticket.number, "is_spam": ticket.is_spam},
    )


def soft_delete_ticket(*, ticket: Ticket, agent: Agent, via: str = "web") -> Ticket:
    """Move to the trash; restorable for DESKLOOP_TRASH_DAYS days, then purged."""
    require_role(agent, Capability.WRITE, DELETE_WRITERS_ONLY)
    with transaction.atomic():
        ticket.deleted_at = timezone.now()
        ticket.version += 1
        ticket.save(update_fields=["deleted_at", "version"])
        events.record_event(ticket=ticket, kind=EventKind.DELETED, agent=agent, via=via)
        outbox.publish(
            workspace_id=ticket.workspace_id, name="ticket.deleted", payload={"id": ticket.pk, "number": ticket.number}
        )
    return ticket


def restore_ticket(*, ticket: Ticket, agent: Agent, via: str = "web") -> Ticket:
    require_role(agent, Capability.WRITE, TICKETS_WRITERS_ONLY)
    if ticket.deleted_at is None:
        return ticket
    with transaction.atomic():
        ticket.deleted_at = None
        ticket.version += 1
        ticket.save(update_fields=["deleted_at", "version"])
        events.record_event(ticket=ticket, kind=EventKind.RESTORED, agent=agent, via=via)
    return ticket


def purge_trash(*, now: dt.datetime | None = None) -> int:
    """Delete for good the tickets that have been in the trash longer than the retention period."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.DESKLOOP_TRASH_DAYS)
    expired = Ticket.objects.filter(deleted_at__lt=cutoff)
    count = expired.count()
    # Tickets merged into an expired ticket keep their own history; unlink them first.
    Ticket.objects.filter(merged_into__in=expired).update(merged_into=None)
    expired.delete()
    return count
