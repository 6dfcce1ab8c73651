"""Automatic emails from the per-workspace templates: the acknowledgement of a new ticket (to the customer),
and assignment, customer-reply and mention notifications (to agents).

Automatic mail is where helpdesks start mail loops, so every one of them:
- carries ``Auto-Submitted`` (RFC 3834: "auto-replied" to a customer's mail, "auto-generated" for agent
  notifications) and our ``X-Loop``;
- is rate-limited per recipient and kind (``RATE_LIMITS``), and
- for a customer, is never sent to an address marked bouncing, to a system address (noreply, mailer-daemon,
  postmaster ...), or in answer to mail that was itself automatic.
A mail not sent for one of these reasons is still written, as an ``OutboundEmail`` in state "skipped" with the
reason, so support can see why a customer got no acknowledgement.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from deskloop.accounts.models import Agent, Workspace
from deskloop.customers.models import ContactEmail
from deskloop.tickets.attachments import read_blob
from deskloop.tickets.models import Channel, EventKind, Message, MessageKind, Ticket, TicketEvent
from deskloop.tickets.services.notifications import mentioned_agents

from . import conversation_threads, email_templates, outbound
from .models import InboundEmail, Mailbox, OutboundEmail, OutboundKind, OutboundState
from .noise import LOOP_MARKER
from .outbound import SkipReason

# (at most this many, per this window) automatic emails of one kind to one address.
RATE_LIMITS: dict[str, tuple[int, dt.timedelta]] = {
    OutboundKind.ACKNOWLEDGEMENT: (3, dt.timedelta(hours=1)),
    OutboundKind.ASSIGNMENT: (30, dt.timedelta(hours=1)),
    OutboundKind.CUSTOMER_REPLY: (60, dt.timedelta(hours=1)),
    OutboundKind.MENTION: (30, dt.timedelta(hours=1)),
    OutboundKind.AUTOMATION: (5, dt.timedelta(hours=1)),
}
ACKNOWLEDGED_CHANNELS = frozenset({Channel.EMAIL, Channel.WIDGET})
# Local parts of addresses that belong to software, not people.
SYSTEM_LOCAL_PART = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?|mail[-_.]?daemon|"
    r"auto[-_.]?reply|notifications?|listserv|majordomo)([-+_.].*)?$",
    re.IGNORECASE,
)
MESSAGE_EXCERPT_MAX = 4000
HEADER_BLOCK_MAX = 64 * 1024


def is_system_address(address: str) -> bool:
    local = address.strip().lower().partition("@")[0]
    return bool(SYSTEM_LOCAL_PART.match(local)) or local.endswith(("-bounces", "-request", "-owner"))


def _rate_limited(workspace_id: int, recipient: str, kind: str, now: dt.datetime) -> bool:
    limit, window = RATE_LIMITS[kind]
    sent_recently = (
        OutboundEmail.objects.filter(
            workspace_id=workspace_id, recipient=recipient.strip().lower(), kind=kind, created_at__gte=now - window
        )
        .exclude(state=OutboundState.SKIPPED)
        .count()
    )
    return sent_recently >= limit


def came_from_automatic_mail(ticket: Ticket) -> bool:
    """Whether the email that opened ``ticket`` says it was sent by software (the pipeline refuses most such
    mail; this is the second line for what got through, e.g. a list or a robot without Auto-Submitted)."""
    inbound = (
        InboundEmail.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket)
        .select_related("raw")
        .order_by("id")
        .first()
    )
    if inbound is None:
        return False
    raw = read_blob(inbound.raw)[:HEADER_BLOCK_MAX]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    except Exception:  # an unreadable header block: we cannot tell, so we do not answer it automatically
        return True

    def value(name: str) -> str:
        return " ".join(str(headers.get(name, "") or "").split()).lower()

    auto = value("Auto-Submitted")
    return bool(
        (auto and auto != "no")
        or value("Precedence") in ("bulk", "junk", "list", "auto_reply")
        or value("X-Autoreply")
        or value("X-Autorespond")
        or value("List-Id")
        or LOOP_MARKER in value("X-Loop")
        or value("Return-Path") == "<>"
    )


def _opened_by_agent(ticket: Ticket) -> bool:
    return TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED, actor_agent__isnull=False).exists()


def ticket_context(ticket: Ticket, workspace: Workspace, language: str) -> dict[str, Any]:
    """What templates may say about the ticket, its status named in the recipient's ``language``."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "url": settings.SITE_URL.rstrip("/") + reverse("tickets:detail", args=[ticket.number]),
        "token": conversation_threads.subject_token(ticket, workspace),
        "status": ticket.status.localized_name(language),
        "priority": ticket.get_priority_display(),
    }


def _sender(ticket: Ticket, workspace: Workspace) -> tuple[Mailbox | None, str, str]:
    """(mailbox, display name, address) automatic mail is sent from: the ticket's mailbox, or for agent mail
    in a workspace without one, DEFAULT_FROM_EMAIL."""
    mailbox = outbound.mailbox_for_ticket(ticket)
    if mailbox is not None:
        return mailbox, mailbox.display_name or workspace.name, mailbox.address
    name, address = email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)
    return None, name or workspace.name, address


def _queue_automatic(
    *,
    ticket: Ticket,
    kind: str,
    to_name: str,
    to_address: str,
    language: str,
    context: dict[str, Any],
    for_customer: bool,
    message: Message | None = None,
    skip_reason: str = "",
    source: email_templates.TemplateSource | None = None,
) -> OutboundEmail:
    """``source``: the wording (an automation rule's own); the workspace's template of ``kind`` when None."""
    workspace = ticket.workspace
    source = source or email_templates.template_source(workspace.pk, kind)
    rendered = email_templates.render(source, context, language=language)
    mailbox, from_name, from_address = _sender(ticket, workspace)
    now = timezone.now()
    address = to_address.strip().lower()
    if not skip_reason:
        if not source.is_active:
            skip_reason = SkipReason.DISABLED
        elif for_customer and mailbox is None:
            skip_reason = SkipReason.NO_MAILBOX
        elif is_system_address(address):
            skip_reason = SkipReason.SYSTEM_ADDRESS
        elif _rate_limited(workspace.pk, address, kind, now):
            skip_reason = SkipReason.RATE_LIMITED
    in_reply_to, references = outbound.thread_headers(ticket) if for_customer else ("", [])
    outgoing = outbound.NewOutboundEmail(
        kind=kind,
        message=message,
        mailbox=mailbox,
        to=[[to_name, to_address]],
        from_name=from_name,
        from_address=from_address,
        reply_to=mailbox.address if mailbox else "",
        subject=outbound.with_token(rendered.subject, ticket, workspace),
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        auto_submitted="auto-replied" if for_customer else "auto-generated",
        in_reply_to=in_reply_to,
        references=references,
        skip_reason=skip_reason,
    )
    return outbound.queue_outbound(ticket=ticket, email=outgoing)


def acknowledge_new_ticket(*, ticket: Ticket) -> OutboundEmail | None:
    """Tell the customer their new ticket arrived. Only for tickets the customer opened by email or the widget
    (or opened by an agent, when the workspace's template says so); None when there is no one to write to."""
    ticket = Ticket.objects.select_related("workspace", "requester", "status").get(pk=ticket.pk)
    if ticket.channel not in ACKNOWLEDGED_CHANNELS or ticket.deleted_at is not None or ticket.is_spam:
        return None
    workspace = ticket.workspace
    source = email_templates.template_source(workspace.pk, OutboundKind.ACKNOWLEDGEMENT)
    if _opened_by_agent(ticket) and not source.include_agent_created:
        return None
    if InboundEmail.objects.filter(ticket=ticket, received_via="import").exists():
        return None  # an archive import replays history: its customers wrote long ago and were answered then
    first = ticket.messages.filter(kind=MessageKind.REPLY).order_by("created_at", "id").first()
    return _mail_requester(
        ticket=ticket, kind=OutboundKind.ACKNOWLEDGEMENT, quoted=first, about_message=True, source=None
    )


def _mail_requester(
    *,
    ticket: Ticket,
    kind: str,
    quoted: Message | None,
    about_message: bool,
    source: email_templates.TemplateSource | None,
) -> OutboundEmail | None:
    """Automatic mail to the requester quoting ``quoted`` (the acknowledgement the first message, a rule's email the
    latest reply; only the acknowledgement is filed as the mail about that message: ``about_message``), with what every automatic mail obeys: bouncing addresses and mail that came from a robot are
    written as skipped with the reason. None when the requester has no email address."""
    preferred = outbound.requester_identity(ticket)
    if preferred is None:
        return None
    # Locked: two tickets opened at once by the same address must not both slip under the rate limit.
    identity = ContactEmail.objects.select_for_update().get(pk=preferred.pk)
    skip_reason = ""
    if identity.bouncing_since is not None:
        skip_reason = SkipReason.BOUNCING
    elif came_from_automatic_mail(ticket):
        skip_reason = SkipReason.AUTOMATIC_SOURCE
    workspace = ticket.workspace
    requester = ticket.requester
    language = outbound.language_of_contact(requester.locale, workspace)
    context = email_templates.email_context(
        ticket=ticket_context(ticket, workspace, language),
        requester={"name": requester.name, "email": identity.email},
        recipient={"name": requester.name, "email": identity.email},
        actor={"name": ""},
        message_text=quoted.body_text[:MESSAGE_EXCERPT_MAX] if quoted else "",
        message_html=SafeString(quoted.body_html if quoted else ""),  # stored HTML is sanitize_html output
        workspace_name=workspace.name,
    )
    return _queue_automatic(
        ticket=ticket,
        kind=kind,
        to_name=requester.name,
        to_address=identity.email,
        language=language,
        context=context,
        for_customer=True,
        message=quoted if about_message else None,
        skip_reason=skip_reason,
        source=source,
    )


def _agent_mail(
    *, ticket: Ticket, kind: str, agent: Agent, actor_name: str, message: Message | None
) -> OutboundEmail | None:
    if not agent.is_active or not agent.user.email:
        return None
    workspace = ticket.workspace
    requester = ticket.requester
    context = email_templates.email_context(
        ticket=ticket_context(ticket, workspace, agent.user.language),
        requester={"name": requester.display_name, "email": requester.primary_email},
        recipient={"name": agent.name, "email": agent.user.email},
        actor={"name": actor_name},
        message_text=message.body_text[:MESSAGE_EXCERPT_MAX] if message else "",
        message_html=SafeString(message.body_html if message else ""),  # stored HTML is sanitize_html output
        workspace_name=workspace.name,
    )
    return _queue_automatic(
        ticket=ticket,
        kind=kind,
        to_name=agent.name,
        to_address=agent.user.email,
        language=agent.user.language,
        context=context,
        for_customer=False,
        message=message,
    )


def _ticket(ticket_id: int) -> Ticket | None:
    ticket = (
        Ticket.objects.select_related("workspace", "requester", "status", "assignee__user")
        .prefetch_related("requester__emails")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or ticket.deleted_at is not None or ticket.is_spam:
        return None
    return ticket


def notify_assignment(*, ticket_id: int, actor: Agent | None) -> OutboundEmail | None:
    """Tell the assignee a ticket is theirs (not when they took it themselves)."""
    ticket = _ticket(ticket_id)
    if ticket is None or ticket.assignee is None:
        return None
    if actor is not None and actor.pk == ticket.assignee_id:
        return None
    return _agent_mail(
        ticket=ticket,
        kind=OutboundKind.ASSIGNMENT,
        agent=ticket.assignee,
        actor_name=actor.name if actor else "",
        message=None,
    )


def notify_customer_reply(*, message: Message) -> list[OutboundEmail]:
    """Tell the assignee, or when nobody is assigned the agents following the ticket, that the customer wrote."""
    ticket = _ticket(message.ticket_id)
    if ticket is None or not message.is_from_customer:
        return []
    inbound_id = message.channel_meta.get("inbound_email") if isinstance(message.channel_meta, dict) else None
    if inbound_id and InboundEmail.objects.filter(pk=inbound_id, received_via="import").exists():
        return []  # history replayed by an archive import, not news for anyone
    if ticket.assignee is not None:
        agents = [ticket.assignee]
    else:
        agents = list(ticket.followers.filter(is_active=True).select_related("user").order_by("id"))
    author = message.author_contact.display_name if message.author_contact else ""
    queued = []
    for agent in agents:
        mail = _agent_mail(
            ticket=ticket, kind=OutboundKind.CUSTOMER_REPLY, agent=agent, actor_name=author, message=message
        )
        if mail is not None:
            queued.append(mail)
    return queued


def notify_mentions(*, message: Message) -> list[OutboundEmail]:
    """Tell each agent @mentioned in an internal note (the author mentioning themselves excepted)."""
    ticket = _ticket(message.ticket_id)
    if ticket is None or message.kind != MessageKind.NOTE or message.author_agent is None:
        return []
    author = message.author_agent
    queued = []
    for agent in mentioned_agents(workspace_id=ticket.workspace_id, text=message.body_text):
        if agent.pk == author.pk:
            continue
        mail = _agent_mail(
            ticket=ticket, kind=OutboundKind.MENTION, agent=agent, actor_name=author.name, message=message
        )
        if mail is not None:
            queued.append(mail)
    return queued


def email_requester_for_rule(*, ticket: Ticket, subject: str, body: str) -> OutboundEmail | None:
    """An automation rule's email to the requester: its own subject and text (template text, rendered by the same
    sandbox and with the same context as the acknowledgement), with everything automatic mail obeys (Auto-Submitted,
    rate limit, bouncing and system addresses, no answer to automatic mail: written as skipped with the reason).
    None when the requester has no email address."""
    ticket = Ticket.objects.select_related("workspace", "requester", "status").get(pk=ticket.pk)
    last = ticket.messages.filter(kind=MessageKind.REPLY).order_by("-created_at", "-id").first()
    return _mail_requester(
        ticket=ticket,
        kind=OutboundKind.AUTOMATION,
        quoted=last,
        about_message=False,
        source=rule_email_source(subject=subject, body=body),
    )


def rule_email_source(*, subject: str, body: str) -> email_templates.TemplateSource:
    return email_templates.TemplateSource(
        kind=OutboundKind.AUTOMATION,
        subject=subject,
        body_text=body,
        body_html="",
        is_active=True,
        include_agent_created=False,
        is_default=False,
    )


def check_rule_email(*, subject: str, body: str, workspace_name: str) -> None:
    """Refuse (ValidationFailed) an automation rule's email whose template text does not render."""
    email_templates.check_source(
        rule_email_source(subject=subject, body=body), workspace_name=workspace_name, prefix=""
    )
