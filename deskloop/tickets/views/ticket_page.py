"""The reads behind the ticket page: everything it shows in a fixed number of queries, whatever the ticket's size.

Kept apart from the views so the query count has one place to look at, and so the history's wording (which turns
ids stored in events into names) is testable without HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Team
from deskloop.core.when import exact
from deskloop.customers.models import Contact, ContactEmail
from deskloop.tickets.models import (
    CustomField,
    EventKind,
    Message,
    Priority,
    ProductArea,
    RequestType,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketPresence,
)
from deskloop.tickets.queries import live_tickets
from deskloop.tickets.services.macros import macros_for_agent
from deskloop.tickets.services.presence import others_present

OTHER_TICKETS_SHOWN = 5
HISTORY_SHOWN = 300


@dataclass
class CustomFieldRow:
    definition: CustomField
    value: Any

    @property
    def display(self) -> str:
        if self.value in (None, "", []):
            return ""
        if isinstance(self.value, list):
            return ", ".join(str(v) for v in self.value)
        return str(self.value)

    @property
    def selected(self) -> list[str]:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [] if self.value in (None, "") else [str(self.value)]


@dataclass
class HistoryEntry:
    event: TicketEvent
    actor: str
    text: str


@dataclass
class TicketPage:
    ticket: Ticket
    messages: list[Message]
    tags: list[Tag]
    followers: list[Agent]
    statuses: list[Status]
    agents: list[Agent]
    teams: list[Team]
    product_areas: list[ProductArea]
    custom_fields: list[CustomFieldRow]
    requester_emails: list[ContactEmail]
    requester_tickets: list[Ticket]
    organization_tickets: list[Ticket]
    history: list[HistoryEntry]
    present: list[TicketPresence]
    macros: list[Any] = field(default_factory=list)

    @property
    def last_message_id(self) -> int:
        return max((m.pk for m in self.messages), default=0)

    @property
    def active_agents(self) -> list[Agent]:
        return [a for a in self.agents if a.is_active]

    @property
    def assignable_agents(self) -> list[Agent]:
        """Agents who can work the ticket, plus the current assignee whatever their role now."""
        return [a for a in self.agents if (a.is_active and a.can_write) or a.pk == self.ticket.assignee_id]

    @property
    def tag_names(self) -> str:
        return ", ".join(t.name for t in self.tags)

    @property
    def spam_filter_reason(self) -> str:
        """Why a spam filter put the ticket in Spam ("" when an agent did, or it is not spam), from the history
        already loaded."""
        for entry in self.history:  # latest first
            if entry.event.kind == EventKind.SPAM:
                verdict = entry.event.new_value
                return spam_verdict_text(verdict) if isinstance(verdict, dict) else ""
        return ""


def load_messages(ticket: Ticket) -> list[Message]:
    return list(
        Message.objects.filter(ticket=ticket)
        .select_related("author_agent__user", "author_contact")
        .prefetch_related("attachments", "author_contact__emails")
        .order_by("created_at", "id")
    )


def load_ticket_page(*, ticket: Ticket, agent: Agent) -> TicketPage:
    """Everything the page shows. ``ticket`` comes from get_ticket_for_agent, already scoped and joined."""
    wid = ticket.workspace_id
    agents = list(Agent.objects.filter(workspace_id=wid).select_related("user").order_by("display_name", "id"))
    teams = list(Team.objects.filter(workspace_id=wid).order_by("name"))
    areas = list(ProductArea.objects.filter(workspace_id=wid))
    statuses = list(Status.objects.filter(workspace_id=wid))
    definitions = list(CustomField.objects.filter(workspace_id=wid))
    live = live_tickets(wid).select_related("status").exclude(pk=ticket.pk).order_by("-created_at", "-id")
    requester_tickets = list(live.filter(requester_id=ticket.requester_id)[:OTHER_TICKETS_SHOWN])
    organization_tickets = (
        list(live.filter(organization_id=ticket.organization_id).exclude(requester_id=ticket.requester_id)[:5])
        if ticket.organization_id
        else []
    )
    events = list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor_agent__user", "actor_contact")
        .order_by("-created_at", "-id")[:HISTORY_SHOWN]
    )
    page = TicketPage(
        ticket=ticket,
        messages=load_messages(ticket),
        tags=list(ticket.tags.order_by("name")),
        followers=list(ticket.followers.select_related("user").order_by("display_name", "id")),
        statuses=statuses,
        agents=agents,
        teams=teams,
        product_areas=areas,
        custom_fields=[CustomFieldRow(d, ticket.custom_fields.get(d.key)) for d in definitions],
        requester_emails=list(
            ContactEmail.objects.filter(contact_id=ticket.requester_id).order_by("-is_primary", "id")
        ),
        requester_tickets=requester_tickets,
        organization_tickets=organization_tickets,
        history=[],
        present=others_present(ticket=ticket, agent=agent),
        macros=list(macros_for_agent(agent)) if agent.can_add_notes else [],
    )
    page.history = describe_events(
        events,
        agents={a.pk: a.name for a in agents},
        teams={t.pk: t.name for t in teams},
        areas={a.pk: str(a) for a in areas},
        fields={d.key: d for d in definitions},
    )
    return page


def _actor(event: TicketEvent) -> str:
    if event.actor_agent is not None:
        return event.actor_agent.name
    if event.actor_contact is not None:
        contact: Contact = event.actor_contact
        return contact.name or _("Customer")
    return _("Deskloop")


def _when(value: Any) -> str:
    if not value:
        return _("none")
    parsed = parse_datetime(str(value))
    if parsed is None:
        return str(value)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return exact(parsed)


def _agent_name(value: Any, agents: dict[int, str]) -> str:
    return agents.get(value, _("a removed agent")) if isinstance(value, int) else _("a removed agent")


def _field_value(name: str, value: Any, agents: dict[int, str], teams: dict[int, str], areas: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return _("none")
    if name == "status" and isinstance(value, dict):
        return str(value.get("name", ""))
    if name == "assignee":
        return _agent_name(value, agents)
    if name == "team":
        return teams.get(value, _("a removed team"))
    if name == "product_area":
        return areas.get(value, _("a removed product area"))
    if name == "priority":
        return str(Priority(value).label) if value in Priority.values else str(value)
    if name == "request_type":
        return str(RequestType(value).label) if value in RequestType.values else str(value)
    if name == "due_at":
        return _when(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _field_label(name: str, fields: dict[str, CustomField]) -> str:
    if name.startswith("custom_fields."):
        definition = fields.get(name.split(".", 1)[1])
        return definition.label if definition else name.split(".", 1)[1]
    labels = {
        "subject": _("Subject"),
        "status": _("Status"),
        "priority": _("Priority"),
        "assignee": _("Assignee"),
        "team": _("Team"),
        "product_area": _("Product area"),
        "request_type": _("Request type"),
        "due_at": _("Due date"),
    }
    return labels.get(name, name)


def describe_events(
    events: list[TicketEvent],
    *,
    agents: dict[int, str],
    teams: dict[int, str],
    areas: dict[int, str],
    fields: dict[str, CustomField],
) -> list[HistoryEntry]:
    """One plain-text sentence per event (escaped by the template like any other text)."""
    entries = []
    for event in events:
        kind = event.kind
        old, new = event.old_value, event.new_value
        if kind == EventKind.CREATED:
            text = _("created the ticket")
        elif kind == EventKind.FIELD_CHANGED:
            text = _("changed %(field)s from “%(old)s” to “%(new)s”") % {
                "field": _field_label(event.field, fields),
                "old": _field_value(event.field, old, agents, teams, areas),
                "new": _field_value(event.field, new, agents, teams, areas),
            }
        elif kind == EventKind.MESSAGE_ADDED:
            text = _("replied") if event.actor_agent_id else _("wrote a message")
        elif kind == EventKind.NOTE_ADDED:
            text = _("added an internal note")
        elif kind == EventKind.TAG_ADDED:
            text = _("added the tag “%(tag)s”") % {"tag": new}
        elif kind == EventKind.TAG_REMOVED:
            text = _("removed the tag “%(tag)s”") % {"tag": old}
        elif kind == EventKind.FOLLOWER_ADDED:
            text = _("added %(agent)s as a follower") % {"agent": _agent_name(new, agents)}
        elif kind == EventKind.FOLLOWER_REMOVED:
            text = _("removed %(agent)s from the followers") % {"agent": _agent_name(old, agents)}
        elif kind == EventKind.MERGED:
            text = _("merged ticket #%(number)s into this one") % {"number": old}
        elif kind == EventKind.MERGED_INTO:
            text = _("merged this ticket into #%(number)s") % {"number": new}
        elif kind == EventKind.SPAM and isinstance(new, dict):
            text = _("filed the ticket as spam: %(reason)s") % {"reason": spam_verdict_text(new)}
        elif kind == EventKind.SPAM:
            text = _("marked the ticket as spam") if new else _("unmarked the ticket as spam")
        elif kind == EventKind.DELETED:
            text = _("moved the ticket to the trash")
        elif kind == EventKind.RESTORED:
            text = _("restored the ticket from the trash")
        elif kind == EventKind.MACRO_APPLIED:
            name = new.get("name", "") if isinstance(new, dict) else new
            text = _("applied the macro “%(macro)s”") % {"macro": name}
        elif kind == EventKind.AUTOMATION and isinstance(new, dict):
            text = automation_text(new)
        elif kind in (EventKind.SLA_WARNING, EventKind.SLA_BREACHED) and isinstance(new, dict):
            text = _sla_event_text(kind, new)
        else:
            text = str(EventKind(kind).label) if kind in EventKind.values else kind
        entries.append(HistoryEntry(event=event, actor=_actor(event), text=text))
    return entries


def automation_text(run: dict[str, Any]) -> str:
    """An automation rule's run (``EventKind.AUTOMATION``): the rule, and what it did or why it did not."""
    outcome = run.get("outcome")
    values = {"rule": run.get("rule", ""), "detail": run.get("detail", "")}
    if outcome == "applied":
        return _("Automation “%(rule)s”: %(detail)s") % values
    if outcome == "loop_cut":
        return _("Automation “%(rule)s” stopped to prevent a loop: %(detail)s") % values
    if outcome == "skipped":
        return _("Automation “%(rule)s” skipped: %(detail)s") % values
    return _("Automation “%(rule)s” failed: %(detail)s") % values


def _sla_event_text(kind: str, detail: dict[str, Any]) -> str:
    """The sweep's entries (service_levels writes them; the metric names are its SlaMetric labels)."""
    metrics = {
        "first_response": _("First response"),
        "next_response": _("Next response"),
        "resolution": _("Resolution"),
    }
    metric = metrics.get(str(detail.get("metric")), str(detail.get("metric")))
    policy = detail.get("policy") or {}
    values = {"metric": metric, "policy": policy.get("name", "") if isinstance(policy, dict) else ""}
    if kind == EventKind.SLA_WARNING:
        return _("SLA warning: %(metric)s is due soon (%(policy)s)") % values
    return _("SLA breached: %(metric)s is overdue (%(policy)s)") % values


def spam_verdict_text(verdict: dict[str, Any]) -> str:
    """A spam filter's verdict (NewTicket.spam_verdict) as the ticket page says it."""
    source = str(verdict.get("source", ""))
    evidence = str(verdict.get("evidence", ""))
    if source == "classifier":
        return _("the spam filter's score %(evidence)s (learned from this workspace's spam marks)") % {
            "evidence": evidence
        }
    names = {"spamassassin": "SpamAssassin", "rspamd": "rspamd"}
    return _("the mail server's %(filter)s said spam (%(evidence)s)") % {
        "filter": names.get(source, source),
        "evidence": evidence,
    }
