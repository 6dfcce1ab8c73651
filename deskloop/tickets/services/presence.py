"""Collision notice: who else is looking at or replying to a ticket right now.

The ticket page heart-beats every ~10 seconds; a row not refreshed for ``PRESENCE_TTL`` means the agent left
(closed the tab, lost the network). Old rows are deleted by ``presence_cleanup`` in the periodic process;
reads here simply ignore them, so the notice is right even when the cleanup has not run yet.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.tickets.models import Message, MessageKind, Ticket, TicketPresence

PRESENCE_TTL = dt.timedelta(seconds=30)


def heartbeat(*, ticket: Ticket, agent: Agent, is_replying: bool) -> TicketPresence:
    """Record that ``agent`` has the ticket open (and whether they are typing a reply) as of now."""
    if ticket.workspace_id != agent.workspace_id:
        # Reported as "not found": another workspace's ticket ids must not be confirmed to exist.
        raise ValidationFailed(_("The ticket was not found."), field="ticket", code="not_found")
    now = timezone.now()
    updated = TicketPresence.objects.filter(ticket=ticket, agent=agent).update(is_replying=is_replying, seen_at=now)
    if updated:
        return TicketPresence(
            workspace_id=ticket.workspace_id, ticket=ticket, agent=agent, is_replying=is_replying, seen_at=now
        )
    try:
        # Two tabs of the same agent can race to create the row; the loser just updates it.
        with transaction.atomic():
            return TicketPresence.objects.create(
                workspace_id=ticket.workspace_id, ticket=ticket, agent=agent, is_replying=is_replying, seen_at=now
            )
    except IntegrityError:
        TicketPresence.objects.filter(ticket=ticket, agent=agent).update(is_replying=is_replying, seen_at=now)
        return TicketPresence.objects.get(ticket=ticket, agent=agent)


def leave(*, ticket: Ticket, agent: Agent) -> None:
    """The agent closed the page: stop showing them at once instead of waiting for the TTL."""
    TicketPresence.objects.filter(ticket=ticket, agent=agent).delete()


def stop_replying(*, ticket: Ticket, agent: Agent) -> None:
    """The agent's reply or note was sent: they are no longer "replying", whatever their open tab last said.

    Without this the notice lasted until the sender's next heart-beat, and for as long as the tab stayed open
    when that heart-beat still carried the old flag."""
    TicketPresence.objects.filter(ticket=ticket, agent=agent, is_replying=True).update(is_replying=False)


def others_present(*, ticket: Ticket, agent: Agent) -> list[TicketPresence]:
    """Other agents with a fresh heart-beat on this ticket, those replying first."""
    return list(
        TicketPresence.objects.filter(ticket=ticket, seen_at__gte=timezone.now() - PRESENCE_TTL)
        .exclude(agent=agent)
        .select_related("agent__user")
        .order_by("-is_replying", "agent__display_name", "agent_id")
    )


def last_message_id(ticket: Ticket) -> int:
    """The newest message of the ticket (0 when there is none); the composer remembers it at load time."""
    newest = Message.objects.filter(ticket=ticket).order_by("-id").values_list("id", flat=True).first()
    return newest or 0


def messages_since(*, ticket: Ticket, agent: Agent, after_id: int) -> list[Message]:
    """Replies and notes other people added after message ``after_id``: what the agent has not seen yet."""
    return list(
        Message.objects.filter(ticket=ticket, id__gt=after_id)
        .exclude(kind=MessageKind.SYSTEM)
        .exclude(author_agent=agent)
        .select_related("author_agent__user", "author_contact")
        .order_by("id")
    )
