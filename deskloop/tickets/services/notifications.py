"""In-app notifications for agents: mentions in notes and assignments."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.tickets.models import Notification, Ticket

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


def notify_mentions(*, ticket: Ticket, author: Agent, mentioned: list[Agent]) -> None:
    Notification.objects.bulk_create(
        [
            Notification(
                workspace_id=ticket.workspace_id,
                agent=target,
                kind=Notification.Kind.MENTION,
                ticket=ticket,
                text=_("%(author)s mentioned you on #%(number)s") % {"author": author.name, "number": ticket.number},
            )
            for target in mentioned
            if target.pk != author.pk
        ]
    )


def notify_assignment(*, ticket: Ticket, assignee: Agent, by: Agent | None) -> None:
    if by is not None and by.pk == assignee.pk:
        return
    Notification.objects.create(
        workspace_id=ticket.workspace_id,
        agent=assignee,
        kind=Notification.Kind.ASSIGNMENT,
        ticket=ticket,
        text=_("#%(number)s was assigned to you") % {"number": ticket.number},
    )
