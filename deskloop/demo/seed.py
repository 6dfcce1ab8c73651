"""Build the demo workspace "Acme Support" through the real services, then date its history into the past.

Idempotent by design: the whole demo is written in one transaction, and if a workspace with the demo's slug
exists nothing is written at all. So a second run adds nothing and changes nothing (not even what someone
changed in the demo since), and an interrupted first run leaves nothing half-made behind.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from deskloop.accounts.models import Agent, Team, User, Workspace
from deskloop.accounts.services import add_agent, create_team, create_workspace
from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.channels.widget.demo_host import DemoVisitor
from deskloop.core import outbox
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Contact, Organization
from deskloop.customers.services import create_contact, create_organization
from deskloop.demo.automations import seed_automations
from deskloop.demo.calendars_assignment import seed_calendars_assignment
from deskloop.demo.classification import seed_classification
from deskloop.demo.funnel import seed_request_sessions
from deskloop.demo.help_center import seed_help_center
from deskloop.demo.ideas import seed_ideas
from deskloop.demo.ideasportal import seed_ideas_portal
from deskloop.demo.plan import DEFAULT_TICKETS, HISTORY_DAYS, Step, TicketPlan, directory, plan_tickets
from deskloop.demo.pm import seed_product_management
from deskloop.demo.quality import seed_quality
from deskloop.demo.reports import seed_report_figures
from deskloop.demo.revenue import seed_revenue
from deskloop.demo.service_levels import seed_service_levels
from deskloop.demo.surveys import seed_surveys
from deskloop.knowledge.models import HelpCenter
from deskloop.tickets.models import (
    DONE_CATEGORIES,
    Message,
    MessageKind,
    Notification,
    ProductArea,
    Status,
    StatusCategory,
    Ticket,
    TicketEvent,
)
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.configuration_groups import create_product_area
from deskloop.tickets.services.imports import split_area_path
from deskloop.tickets.services.messages import CustomerMessage, add_agent_reply, add_customer_message, add_internal_note
from deskloop.tickets.services.notification_reads import mark_notifications_read
from deskloop.tickets.services.setup import install_workspace_defaults
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

# Notifications older than this are shown as read: the demo's agents have been at work for months.
NOTIFICATIONS_UNREAD_FOR = dt.timedelta(days=3)
# How a ticket's history records the channel it arrived on.
VIA_BY_CHANNEL = {"email": "email", "api": "api"}


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    role: str
    name: str


@dataclass
class SeedReport:
    created: bool
    workspace: Workspace
    sign_ins: list[SignIn]
    tickets: int = 0
    contacts: int = 0
    organizations: int = 0
    messages: int = 0
    articles: int = 0


@dataclass
class _Cast:
    """The rows a ticket plan refers to by key or name, made once before the tickets."""

    workspace: Workspace
    agents: dict[str, Agent]
    teams: dict[str, Team]
    areas: dict[str, ProductArea]
    contacts: dict[str, Contact]
    statuses: dict[str, Status] = field(default_factory=dict)

    def status(self, category: str) -> Status:
        if category not in self.statuses:
            self.statuses[category] = default_status(self.workspace.pk, StatusCategory(category))
        return self.statuses[category]


def sign_ins() -> list[SignIn]:
    people = directory()
    return [
        SignIn(email=agent["email"], password=people["password"], role=agent["role"], name=agent["name"])
        for agent in people["agents"]
    ]


def seed_demo(
    *, now: dt.datetime | None = None, tickets: int = DEFAULT_TICKETS, progress: Callable[[int], object] | None = None
) -> SeedReport:
    """Create the demo workspace unless it exists. ``progress`` is called with 1 after each ticket."""
    people = directory()
    existing = demo_workspace()
    if existing is not None:
        return SeedReport(created=False, workspace=existing, sign_ins=sign_ins())
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    plans = plan_tickets(now=now, count=tickets)
    # writing_history: _settle marks the events dispatched, so no task is queued per event.
    with transaction.atomic(), outbox.writing_history():
        cast = _build_cast(people)
        help_center_articles = seed_help_center(
            workspace=cast.workspace,
            admin=_dispatcher(cast),
            writer=cast.agents[people["help_center_writer"]],
            areas=cast.areas,
        )
        for plan in plans:
            _play(cast, plan, engineer=cast.agents[people["engineer"]], dispatcher=_dispatcher(cast))
            if progress is not None:
                progress(1)
        # Product managers first: the lost deals' tasks below go to the areas' owners.
        seed_product_management(workspace=cast.workspace, agents=cast.agents)
        seed_ideas(workspace=cast.workspace, areas=cast.areas, now=now)
        # Before _settle: its outbox events are history too (no shipped mails to fictional customers).
        seed_ideas_portal(workspace=cast.workspace, product_manager=_dispatcher(cast))
        seed_revenue(workspace=cast.workspace, areas=cast.areas, now=now)
        seed_calendars_assignment(agents=cast.agents, teams=cast.teams, admin=_dispatcher(cast), now=now)
        seed_service_levels(workspace=cast.workspace, admin=_dispatcher(cast))
        seed_automations(workspace=cast.workspace, admin=_dispatcher(cast))
        _settle(cast, now=now)
        _give_widget_secret(cast.workspace)
        # After the tickets (submitted sessions are their requesters') and after the help center's articles.
        seed_request_sessions(workspace=cast.workspace, now=now)
        seed_surveys(workspace=cast.workspace, admin=_dispatcher(cast), now=now)
        seed_classification(workspace=cast.workspace)
        seed_quality(workspace=cast.workspace, agents=cast.agents, now=now)
        seed_report_figures(workspace=cast.workspace)
    workspace = cast.workspace
    return SeedReport(
        created=True,
        workspace=workspace,
        sign_ins=sign_ins(),
        tickets=Ticket.objects.filter(workspace=workspace).count(),
        contacts=Contact.objects.filter(workspace=workspace).count(),
        organizations=Organization.objects.filter(workspace=workspace).count(),
        messages=Message.objects.filter(workspace=workspace).count(),
        articles=help_center_articles,
    )


def demo_workspace() -> Workspace | None:
    return Workspace.objects.filter(slug=directory()["workspace"]["slug"]).first()


def demo_widget_visitor() -> DemoVisitor | None:
    """Who /widget-demo/ says is signed in: the demo customer with the most tickets, so "My conversations" has
    something to show."""
    workspace = demo_workspace()
    if workspace is None:
        return None
    busiest = (
        Ticket.objects.filter(workspace=workspace)
        .values("requester_id")
        .annotate(count=Count("id"))
        .order_by("-count", "requester_id")
        .first()
    )
    contact = Contact.objects.filter(workspace=workspace, pk=busiest["requester_id"]).first() if busiest else None
    if contact is None:
        return None
    return DemoVisitor(
        workspace=workspace, user_id=f"demo-{contact.pk}", email=contact.primary_email, name=contact.name
    )


def _give_widget_secret(workspace: Workspace) -> None:
    """The demo's widget identifies its visitor (/widget-demo/), which needs the workspace's widget secret."""
    help_center, _created = HelpCenter.objects.get_or_create(workspace=workspace)
    if not help_center.widget_secret:
        help_center.widget_secret = secrets.token_urlsafe(32)
        help_center.save(update_fields=["widget_secret"])


def _dispatcher(cast: _Cast) -> Agent:
    return next(agent for agent in cast.agents.values() if agent.role == "admin")


def _build_cast(people: dict[str, Any]) -> _Cast:
    spec = people["workspace"]
    workspace = create_workspace(name=spec["name"], slug=spec["slug"], ticket_prefix=spec["ticket_prefix"])
    install_workspace_defaults(workspace=workspace)
    agents = {
        person["key"]: add_agent(
            workspace=workspace,
            email=person["email"],
            name=person["name"],
            role=person["role"],
            password=people["password"],
            language=person["language"],
        )
        for person in people["agents"]
    }
    teams = {
        name: create_team(workspace=workspace, name=name, members=[agents[key] for key in members])
        for name, members in people["teams"].items()
    }
    owner = next(agent for agent in agents.values() if agent.role == "owner")
    # Set up as an admin would in Settings > Product areas: parents first, then the areas under them.
    areas: dict[str, ProductArea] = {}
    for path in people["product_areas"]:
        parent: ProductArea | None = None
        for name in split_area_path(path):
            full_path = f"{parent.path} > {name}" if parent is not None else name
            if full_path not in areas:
                areas[full_path] = create_product_area(actor=owner, name=name, parent=parent)
            parent = areas[full_path]
        assert parent is not None
        areas[path] = parent
    contacts: dict[str, Contact] = {}
    for spec_org in people["organizations"]:
        organization = create_organization(
            workspace=workspace,
            name=spec_org["name"],
            domains=[spec_org["domain"]],
            plan=spec_org["plan"],
            mrr=Decimal(spec_org["mrr"]),
            customer_since=dt.date.fromisoformat(spec_org["customer_since"]) if spec_org["customer_since"] else None,
            industry=spec_org["industry"],
            lifecycle_stage=spec_org["stage"],
            owner=agents[spec_org["owner"]],
        )
        for name, local in spec_org["contacts"]:
            email = f"{local}@{spec_org['domain']}"
            contacts[email] = create_contact(
                workspace=workspace, email=email, name=name, organization=organization, locale=spec_org["language"]
            )
    for person in people["independent_contacts"]:
        contacts[person["email"]] = create_contact(
            workspace=workspace, email=person["email"], name=person["name"], locale=person["language"]
        )
    mailbox = people["mailbox"]
    create_mailbox(
        actor=owner,
        values=MailboxSettings(
            address=mailbox["address"], display_name=mailbox["display_name"], default_team=teams[mailbox["team"]]
        ),
    )
    return _Cast(workspace=workspace, agents=agents, teams=teams, areas=areas, contacts=contacts)


@dataclass
class _Written:
    """The rows one step wrote, so exactly those can be dated to the step's time."""

    at: dt.datetime
    event_ids: list[int]
    message_ids: list[int]
    notification_ids: list[int]


def _last_ids(ticket: Ticket) -> tuple[int, int, int]:
    def top(rows: Any) -> int:
        return int(rows.aggregate(top=Max("id"))["top"] or 0)

    return (
        top(TicketEvent.objects.filter(ticket=ticket)),
        top(Message.objects.filter(ticket=ticket)),
        top(Notification.objects.filter(ticket=ticket)),
    )


def _written_since(ticket: Ticket, marks: tuple[int, int, int], at: dt.datetime) -> _Written:
    events, messages, notifications = marks
    return _Written(
        at=at,
        event_ids=list(TicketEvent.objects.filter(ticket=ticket, pk__gt=events).values_list("id", flat=True)),
        message_ids=list(Message.objects.filter(ticket=ticket, pk__gt=messages).values_list("id", flat=True)),
        notification_ids=list(
            Notification.objects.filter(ticket=ticket, pk__gt=notifications).values_list("id", flat=True)
        ),
    )


def _play(cast: _Cast, plan: TicketPlan, *, engineer: Agent, dispatcher: Agent) -> Ticket:
    """Write one ticket's whole story through the services that agents, customers and channels use."""
    requester = cast.contacts[plan.requester_email]
    assignee = cast.agents[plan.assignee] if plan.assignee else None
    via = VIA_BY_CHANNEL.get(plan.channel, "web")
    marks = (0, 0, 0)
    ticket = open_ticket(
        workspace=cast.workspace,
        ticket=NewTicket(
            requester=requester,
            subject=plan.subject,
            body_text=plan.first_message,
            channel=plan.channel,
            priority=plan.priority,
            team=cast.teams[plan.team],
            product_area=cast.areas[plan.area],
            tags=plan.tags,
            created_at=plan.created_at,
        ),
        via=via,
    )[0]
    written = [_written_since(ticket, marks, plan.created_at)]
    for step in plan.steps:
        marks = _last_ids(ticket)
        ticket = _apply(cast, ticket, step, requester=requester, assignee=assignee, engineer=engineer,
                        dispatcher=dispatcher, channel=plan.channel, via=via)  # fmt: skip
        written.append(_written_since(ticket, marks, step.at))
    _backdate(ticket, written, plan.steps)
    return ticket


def _apply(
    cast: _Cast,
    ticket: Ticket,
    step: Step,
    *,
    requester: Contact,
    assignee: Agent | None,
    engineer: Agent,
    dispatcher: Agent,
    channel: str,
    via: str,
) -> Ticket:
    if step.kind == "assign":
        assert assignee is not None
        by = dispatcher if step.actor == "dispatcher" else assignee
        return update_ticket(ticket=ticket, changes=TicketChanges(assignee=assignee), agent=by, via="web")
    if step.kind == "customer":
        add_customer_message(
            ticket=ticket,
            contact=requester,
            message=CustomerMessage(body_text=step.text, channel=channel, created_at=step.at),
            via=via,
        )
    elif step.kind == "agent":
        assert assignee is not None
        status = cast.status(step.status) if step.status else None
        add_agent_reply(ticket=ticket, agent=assignee, body_text=step.text, status=status)
    elif step.kind in ("note", "engineer"):
        author = engineer if step.kind == "engineer" else assignee
        assert author is not None
        add_internal_note(ticket=ticket, agent=author, body_text=step.text)
    elif step.kind == "status":
        automated = step.actor == "automation"
        return update_ticket(
            ticket=ticket,
            changes=TicketChanges(status=cast.status(step.status)),
            agent=None if automated else assignee,
            via="automation" if automated else "web",
        )
    return Ticket.objects.get(pk=ticket.pk)


def _backdate(ticket: Ticket, written: Sequence[_Written], steps: Sequence[Step]) -> None:
    """Move what the services just wrote to the times the plan gives it.

    Why this exists: add_agent_reply, add_internal_note and update_ticket stamp ``timezone.now()`` and take no
    time argument, on purpose (nobody may reply "in the past" through them). A demo needs 90 days of history,
    so the real services write every row (events, notifications, search documents, outbox events) and then
    exactly the rows each step wrote get that step's time. This is the only place that does it, and only for the
    demo workspace it has just created.
    """
    for step in written:
        TicketEvent.objects.filter(pk__in=step.event_ids).update(created_at=step.at)
        Message.objects.filter(pk__in=step.message_ids).update(created_at=step.at)
        Notification.objects.filter(pk__in=step.notification_ids).update(created_at=step.at)
    replies = Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY)
    agent_times = list(replies.filter(author_agent__isnull=False).values_list("created_at", flat=True))
    customer_times = list(replies.filter(author_contact__isnull=False).values_list("created_at", flat=True))
    fresh = Ticket.objects.select_related("status").get(pk=ticket.pk)
    done = fresh.status.category in DONE_CATEGORIES
    solved = [s.at for s in steps if s.status == "solved"]
    closed = [s.at for s in steps if s.status == "closed"]
    Ticket.objects.filter(pk=ticket.pk).update(
        updated_at=written[-1].at,
        first_response_at=min(agent_times, default=None),
        last_agent_message_at=max(agent_times, default=None),
        last_customer_message_at=max(customer_times, default=None),
        solved_at=solved[-1] if done and solved else None,
        closed_at=closed[-1] if closed else None,
    )


def _settle(cast: _Cast, *, now: dt.datetime) -> None:
    """The demo's people and settings existed before its history, and its history is over."""
    workspace = cast.workspace
    started = now - dt.timedelta(days=HISTORY_DAYS + 1)
    Workspace.objects.filter(pk=workspace.pk).update(created_at=started)
    Agent.objects.filter(workspace=workspace).update(created_at=started)
    User.objects.filter(agents__workspace=workspace).update(date_joined=started)
    Organization.objects.filter(workspace=workspace).update(created_at=started)
    Contact.objects.filter(workspace=workspace).update(created_at=started)
    Mailbox.objects.filter(workspace=workspace).update(created_at=started)
    # The outbox events describe history that is already over: without this, the worker would email 200
    # fictional customers their months-old replies and acknowledgements, and replay them to webhooks.
    OutboxEvent.objects.filter(workspace=workspace, dispatched_at__isnull=True).update(dispatched_at=now)
    for agent in cast.agents.values():
        old = Notification.objects.filter(agent=agent, created_at__lt=now - NOTIFICATIONS_UNREAD_FOR)
        mark_notifications_read(agent=agent, notification_ids=list(old.values_list("id", flat=True)))
