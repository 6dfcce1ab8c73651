"""In-app notifications for agents (assignments, mentions in notes): a consumer of the outbox.

Registered in ``TicketsConfig.ready()`` beside the email channel's consumer, so a ticket created with an assignee
tells the assignee in the app as it does by email, whichever path created it (UI, API, email, import).
The consumer may run twice for one event: each row carries the event's id and a unique constraint keeps one
notification per (event, agent).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils import translation

from deskloop.accounts.models import Agent
from deskloop.core.models import OutboxEvent
from deskloop.tickets.models import EventKind, MessageKind, Notification, Ticket, TicketEvent

# @maria or @maria.lopez: the local part of an agent's email address, or a one-word display name.
MENTION_PATTERN = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})")


def mentioned_agents(*, workspace_id: int, text: str) -> list[Agent]:
    handles = {m.group(1).rstrip(".").lower() for m in MENTION_PATTERN.finditer(text or "")}
    if not handles:
        return []
    agents = Agent.objects.filter(workspace_id=workspace_id, is_active=True).select_related("user")
    found = []
    for agent in agents:
        local_part = agent.user.email.split("@", 1)[0].lower()
        names = {local_part, agent.name.lower().replace(" ", "")}
        if names & handles:
            found.append(agent)
    return found


def assigned_by(ticket_id: int, *, created: bool) -> Agent | None:
    """Who gave the ticket its current assignee: its creator, or whoever last changed the assignee."""
    events = TicketEvent.objects.filter(ticket_id=ticket_id).select_related("actor_agent__user")
    if created:
        event = events.filter(kind=EventKind.CREATED).first()
    else:
        event = events.filter(kind=EventKind.FIELD_CHANGED, field="assignee").order_by("-created_at", "-id").first()
    return event.actor_agent if event is not None else None


def notify_in_app(event: OutboxEvent) -> None:
    """The outbox consumer (see the module doc)."""
    payload = event.payload
    if event.name == "message.created":
        if payload.get("kind") == MessageKind.NOTE and payload.get("mentioned_agent_ids"):
            _notify_mentions(event)
    elif payload.get("assignee_id") is not None and (
        event.name == "ticket.created" or (event.name == "ticket.updated" and "assignee" in payload.get("changes", []))
    ):
        _notify_assignment(event, created=event.name == "ticket.created")


def _notify_assignment(event: OutboxEvent, *, created: bool) -> None:
    ticket_id = int(event.payload["id"])
    ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=event.workspace_id).first()
    assignee = (
        Agent.objects.select_related("user")
        .filter(pk=event.payload["assignee_id"], workspace_id=event.workspace_id)
        .first()
    )
    if ticket is None or assignee is None:
        return
    by = assigned_by(ticket_id, created=created)
    if by is not None and by.pk == assignee.pk:
        return
    _create(event, ticket, [(assignee, {"number": ticket.number})], Notification.Kind.ASSIGNMENT)


def _notify_mentions(event: OutboxEvent) -> None:
    payload = event.payload
    ticket = Ticket.objects.filter(pk=payload.get("ticket_id"), workspace_id=event.workspace_id).first()
    author = Agent.objects.select_related("user").filter(pk=payload.get("author_agent_id")).first()
    if ticket is None or author is None:
        return
    targets = Agent.objects.select_related("user").filter(
        workspace_id=event.workspace_id, pk__in=payload["mentioned_agent_ids"]
    )
    params = {"author": author.name, "number": ticket.number}
    _create(
        event, ticket, [(t, params) for t in targets.order_by("id") if t.pk != author.pk], Notification.Kind.MENTION
    )


def _create(event: OutboxEvent, ticket: Ticket, recipients: list[tuple[Agent, dict[str, Any]]], kind: str) -> None:
    """Store what happened, not a sentence: each reader sees it in their own language when they read it."""
    rows = []
    for agent, params in recipients:
        row = Notification(
            workspace_id=ticket.workspace_id, agent=agent, kind=kind, ticket=ticket, params=params, event_id=event.pk
        )
        with translation.override(settings.LANGUAGE_CODE):
            row.text = row.message
        rows.append(row)
    Notification.objects.bulk_create(rows, ignore_conflicts=True)  # ignore: the consumer ran for this event before


def notify_for_automation(*, ticket: Ticket, agents: list[Agent], rule_name: str) -> None:
    """An automation rule's "notify agent" action: an in-app notification naming the rule (no outbox event: the
    rule's run is the one event, and it runs once)."""
    rows = []
    for agent in agents:
        row = Notification(
            workspace_id=ticket.workspace_id,
            agent=agent,
            kind=Notification.Kind.AUTOMATION,
            ticket=ticket,
            params={"number": ticket.number, "rule": rule_name},
        )
        with translation.override(settings.LANGUAGE_CODE):
            row.text = row.message
        rows.append(row)
    Notification.objects.bulk_create(rows)
