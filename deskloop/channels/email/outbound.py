"""Email leaving Deskloop: an agent's public reply goes to the requester (and the ticket's CCs), and every
``OutboundEmail`` (replies and notifications alike) is sent by a task with retries.

Queueing (``queue_reply``, ``queue_outbound``, here) renders everything when the row is written: From, Reply-To,
To, Cc, subject, both bodies, threading headers. Sending (``outbound_sending.send_outbound_now``) builds the MIME
message from the row (``outbound_mime.build_mime``, where header values are sanitized) and hands it to Django's
configured mail backend (``EMAIL_BACKEND`` and the ``EMAIL_*`` settings); there are no per-mailbox SMTP settings.

Decisions:
- From is the mailbox address with the display name "<agent> via <mailbox display name or workspace name>", so
  the customer sees who answered while replies still go to the shared mailbox (Reply-To is the mailbox too).
- The mailbox is the one the ticket's mail came in through; otherwise the workspace's first active mailbox.
- The subject is "Re: <ticket subject> [PREFIX #number]" (``conversation_threads.subject_token``), so a reply threads even
  when a client drops the headers; In-Reply-To/References point at the customer's last email.
- Body: the reply, our "reply above this line" marker in the requester's language, then the last three public
  messages quoted. The marker always has the shape "##- ... -##", whatever the language, so quote stripping can
  look for ``REPLY_MARKER_TOKEN``.
- Retries: a temporary failure (connection lost, 4xx) is retried after 1 min, 5 min, 30 min, 2 h and 12 h; a
  permanent one (5xx) fails at once and marks the refused recipients' email identities as bouncing.
- A message the server accepts for some recipients and refuses for others is sent: those who got it never get it
  again. Each refused address is kept on the row (``OutboundEmail.refused_recipients``): one refused for good (5xx)
  is marked bouncing and shown as "Sent. Not delivered to ..."; one refused for now (4xx: greylisting, a full
  mailbox) is shown as "Sent. Retrying delivery to ..." and gets the very same message (same bytes but the MIME
  boundary; only RCPT TO is limited to it) on the whole email's retry schedule, counted from its first refusal,
  until the server takes it, refuses it for good, or the last retry passes (then "Not delivered ..., gave up").
  The retries reuse the row's lease and ``next_attempt_at`` (a sent row with a due time is one with recipients to
  retry), so the sweep and the idempotent task serve them like any other attempt. This needs Django's SMTP
  backend, whose answer we read ourselves (``outbound_sending._send``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deskloop.accounts.models import Workspace
from deskloop.core.html import sanitize_html
from deskloop.customers.models import ContactEmail
from deskloop.tickets.models import Message, MessageKind, Ticket
from deskloop.tickets.services.channel_writes import record_delivery_state

from . import conversation_threads
from .models import InboundEmail, Mailbox, OutboundEmail, OutboundKind, OutboundState
from .outbound_mime import (
    InvalidAddress,
    ascii_address,
)
from .outbound_sending import enqueue_send

# Written into X-Loop of everything we send (with the mailbox address); the inbound pipeline refuses mail carrying it.
# Every translation of the marker keeps this shape, so one token finds it in any language.
REPLY_MARKER_TOKEN = "##-"  # noqa: S105 (a marker, not a password)
HISTORY_MESSAGES = 3


class SkipReason:
    """Why an email was not sent (``OutboundEmail.skip_reason``)."""

    NO_MAILBOX = "no_mailbox"
    NO_SENDER = "no_sender"
    INVALID_ADDRESS = "invalid_address"
    BOUNCING = "bouncing"
    SYSTEM_ADDRESS = "system_address"
    AUTOMATIC_SOURCE = "automatic_source"
    RATE_LIMITED = "rate_limited"
    DISABLED = "disabled"


SKIP_MESSAGES = {
    SkipReason.NO_MAILBOX: gettext_lazy("the workspace has no active mailbox to send from"),
    SkipReason.NO_SENDER: gettext_lazy("there is no usable sender address (add a mailbox or set DEFAULT_FROM_EMAIL)"),
    SkipReason.INVALID_ADDRESS: gettext_lazy("the recipient's address cannot be written into an email"),
    SkipReason.BOUNCING: gettext_lazy("mail to this address bounces"),
    SkipReason.SYSTEM_ADDRESS: gettext_lazy("the address belongs to a mail system, not a person"),
    SkipReason.AUTOMATIC_SOURCE: gettext_lazy("the ticket came from an automatic email"),
    SkipReason.RATE_LIMITED: gettext_lazy("too many automatic emails to this address in the last hour"),
    SkipReason.DISABLED: gettext_lazy("this kind of email is switched off"),
}


# ---------------------------------------------------------------------------------------------------- pieces


def reply_marker(language: str) -> str:
    """The line under which we quote history, in ``language``: '##- Please type your reply above this line -##'."""
    with translation.override(language or None):
        return f"{REPLY_MARKER_TOKEN} {_('Please type your reply above this line')} -##"


def mailbox_for_ticket(ticket: Ticket) -> Mailbox | None:
    """The active mailbox the ticket's mail came in through, else the workspace's first active mailbox."""
    mailbox_id = (
        InboundEmail.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket, mailbox__is_active=True)
        .order_by("id")
        .values_list("mailbox_id", flat=True)
        .first()
    )
    found = Mailbox.objects.filter(workspace_id=ticket.workspace_id, is_active=True)
    if mailbox_id is not None:
        return found.filter(pk=mailbox_id).first()
    return found.order_by("id").first()


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def new_message_id(ticket: Ticket, kind: str, from_address: str, recipient: str = "") -> str:
    """A signed Message-ID (conversation_threads.make_message_id), stored without angle brackets like inbound ones,
    bound to ``recipient`` (the one the row is about) so that an answer to it proves who received it."""
    domain = domain_of(from_address) or DNS_NAME.get_fqdn()
    made = conversation_threads.make_message_id(ticket, kind, domain=domain, recipient=recipient)
    return conversation_threads.normalize_message_id(made)


_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|odp|r|res|rif|vs|ynt|回复|答复|返信)\s*[:：]\s*)+", re.IGNORECASE)


def with_token(subject: str, ticket: Ticket, workspace: Workspace) -> str:
    """``subject`` ending in the ticket token (added when the wording left it out)."""
    token = conversation_threads.subject_token(ticket, workspace)
    if conversation_threads.subject_token_pattern(workspace.ticket_prefix).search(subject):
        return subject
    return f"{subject} {token}".strip()


def reply_subject(ticket: Ticket, workspace: Workspace) -> str:
    """'Re: <subject> [PREFIX #number]': reply prefixes and any earlier token are taken off first."""
    subject = conversation_threads.subject_token_pattern(workspace.ticket_prefix).sub(" ", ticket.subject)
    subject = " ".join(_REPLY_PREFIX.sub("", subject).split())
    return f"Re: {subject} {conversation_threads.subject_token(ticket, workspace)}"


def language_of_contact(locale: str, workspace: Workspace) -> str:
    return locale or workspace.default_language or settings.LANGUAGE_CODE


def time_zone(name: str, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def requester_identity(ticket: Ticket) -> ContactEmail | None:
    """The requester's address to write to: the one their last email came from, else their primary one."""
    identities = list(ContactEmail.objects.filter(workspace_id=ticket.workspace_id, contact_id=ticket.requester_id))
    if not identities:
        return None
    last_from = (
        Message.objects.filter(ticket=ticket, author_contact_id=ticket.requester_id, kind=MessageKind.REPLY)
        .exclude(email_message_id="")
        .order_by("-created_at", "-id")
        .values_list("channel_meta", flat=True)
        .first()
    )
    if isinstance(last_from, dict):
        sender = str(last_from.get("from", "")).strip().lower()
        for identity in identities:
            if identity.email == sender:
                return identity
    return next((i for i in identities if i.is_primary), identities[0])


def thread_headers(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for a new email about ``ticket``: the customer's last email, else our last one."""
    last = (
        Message.objects.filter(ticket=ticket, author_contact__isnull=False, kind=MessageKind.REPLY)
        .exclude(email_message_id="")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is not None:
        earlier = last.channel_meta.get("references", []) if isinstance(last.channel_meta, dict) else []
        references = [conversation_threads.normalize_message_id(str(r)) for r in earlier if r][-19:]
        return last.email_message_id, [*references, last.email_message_id]
    previous = (
        OutboundEmail.objects.filter(ticket=ticket, kind=OutboundKind.REPLY, state=OutboundState.SENT)
        .order_by("-id")
        .first()
    )
    if previous is not None:
        return previous.header_message_id, [*previous.references.split()[-19:], previous.header_message_id]
    return "", []


def _cc_entries(ticket: Ticket, exclude: set[str]) -> list[list[str]]:
    entries: list[list[str]] = []
    for contact in ticket.cc_contacts.prefetch_related("emails").order_by("id"):
        address = contact.primary_email
        if address and address.lower() not in exclude:
            exclude.add(address.lower())
            entries.append([contact.name, address])
    return entries


def _history(message: Message, language: str, zone: zoneinfo.ZoneInfo) -> list[dict[str, Any]]:
    """The last public messages before ``message``, newest first, for quoting under the marker."""
    earlier = (
        Message.objects.filter(ticket_id=message.ticket_id, kind=MessageKind.REPLY, created_at__lte=message.created_at)
        .exclude(pk=message.pk)
        .select_related("author_agent__user", "author_contact")
        .prefetch_related("author_contact__emails")
        .order_by("-created_at", "-id")[:HISTORY_MESSAGES]
    )
    items = []
    with translation.override(language or None):
        for item in earlier:
            author = (
                item.author_agent.name
                if item.author_agent
                else item.author_contact.display_name
                if item.author_contact
                else "Deskloop"
            )
            text = item.body_text.strip()
            items.append(
                {
                    "author": author,
                    "date": formats.date_format(timezone.localtime(item.created_at, zone), "DATETIME_FORMAT"),
                    "quoted": "\n".join(f"> {line}".rstrip() for line in text.split("\n")),
                    # Stored message HTML is always sanitize_html output.
                    "html": SafeString(item.body_html),
                }
            )
    return items


# ---------------------------------------------------------------------------------------------------- queueing


@dataclass(frozen=True)
class NewOutboundEmail:
    """One email about a ticket as it is to be queued, rendered already. ``to``/``cc``: [name, address] pairs, the
    first of ``to`` being the recipient the row is about; ``message``: the ticket message it carries, if any;
    ``skip_reason`` (a ``SkipReason``): the caller already knows it must not be sent, and why."""

    kind: str
    to: Sequence[Sequence[str]]
    subject: str
    body_text: str
    body_html: str
    from_name: str
    from_address: str
    mailbox: Mailbox | None
    message: Message | None = None
    cc: Sequence[Sequence[str]] = ()
    reply_to: str = ""
    auto_submitted: str = ""
    in_reply_to: str = ""
    references: Sequence[str] = ()
    skip_reason: str = ""


def standalone_message_id(kind: str, from_address: str) -> str:
    """A Message-ID for an email about no ticket (a survey invitation): an answer to it opens a ticket of its own."""
    domain = domain_of(from_address) or DNS_NAME.get_fqdn()
    return conversation_threads.normalize_message_id(make_msgid(idstring=kind[:12], domain=domain))


def queue_outbound(*, ticket: Ticket | None, email: NewOutboundEmail, workspace_id: int | None = None) -> OutboundEmail:
    """Write one OutboundEmail and, unless it is skipped, send it after commit. A skipped one is kept with its
    reason (a decision on record, not a silent drop). Without a ticket (a survey invitation) ``workspace_id`` says
    whose email it is."""
    now = timezone.now()
    owner_id = ticket.workspace_id if ticket is not None else workspace_id
    assert owner_id is not None, "an email about no ticket needs its workspace"
    recipient = (email.to[0][1] if email.to else "").strip().lower()
    skip_reason = email.skip_reason
    if not skip_reason:
        try:
            ascii_address(email.from_address)
        except InvalidAddress:
            skip_reason = SkipReason.NO_SENDER
    if not skip_reason:
        try:
            ascii_address(recipient)
        except InvalidAddress:
            skip_reason = SkipReason.INVALID_ADDRESS
    outbound = OutboundEmail.objects.create(
        workspace_id=owner_id,
        mailbox=email.mailbox,
        ticket=ticket,
        message=email.message,
        kind=email.kind,
        to=[[str(n), str(a)] for n, a in email.to],
        cc=[[str(n), str(a)] for n, a in email.cc],
        recipient=recipient[:254],
        from_name=email.from_name[:200],
        from_address=email.from_address[:254],
        reply_to=email.reply_to[:254],
        subject=email.subject[:998],
        body_text=email.body_text,
        body_html=email.body_html,
        auto_submitted=email.auto_submitted,
        header_message_id=(
            new_message_id(ticket, email.kind, email.from_address, recipient)
            if ticket is not None
            else standalone_message_id(email.kind, email.from_address)
        ),
        in_reply_to=conversation_threads.normalize_message_id(email.in_reply_to)[:998],
        references=" ".join(conversation_threads.normalize_message_id(r) for r in email.references if r),
        state=OutboundState.SKIPPED if skip_reason else OutboundState.QUEUED,
        skip_reason=skip_reason,
        next_attempt_at=None if skip_reason else now,
        created_at=now,
    )
    if not skip_reason:
        transaction.on_commit(partial(enqueue_send, outbound.pk))
    return outbound


def skip_text(reason: str, language: str) -> str:
    with translation.override(language or None):
        return str(SKIP_MESSAGES.get(reason, reason))


def queue_reply(*, message: Message) -> OutboundEmail | None:
    """Email an agent's public reply to the requester (CCs copied). None when there is nobody to email (the
    requester has no email identity) or it is not a public agent reply. Safe to call twice."""
    if message.kind != MessageKind.REPLY or message.author_agent_id is None:
        return None
    existing = OutboundEmail.objects.filter(message=message, kind=OutboundKind.REPLY).first()
    if existing is not None:
        return existing
    ticket = Ticket.objects.select_related("workspace", "requester").get(pk=message.ticket_id)
    if ticket.deleted_at is not None or ticket.is_spam:
        return None
    identity = requester_identity(ticket)
    if identity is None:
        return None
    workspace = ticket.workspace
    mailbox = mailbox_for_ticket(ticket)
    language = language_of_contact(ticket.requester.locale, workspace)
    zone = time_zone(ticket.requester.time_zone, workspace.time_zone)
    own = {a.lower() for a in Mailbox.objects.filter(workspace=workspace).values_list("address", flat=True)}
    cc = _cc_entries(ticket, exclude={identity.email.lower()} | own)
    in_reply_to, references = thread_headers(ticket)
    agent = message.author_agent
    assert agent is not None
    with translation.override(language or None):
        team = (mailbox.display_name if mailbox else "") or workspace.name
        from_name = _("%(agent)s via %(team)s") % {"agent": agent.name, "team": team}
        context = {
            "reply_text": message.body_text.strip(),
            "reply_html": SafeString(message.body_html),  # stored message HTML is sanitize_html output
            "marker": reply_marker(language),
            "history": _history(message, language, zone),
        }
        body_text = render_to_string("email_channel/mail/reply.txt", context)
        body_html = render_to_string("email_channel/mail/reply.html", context)
    email = NewOutboundEmail(
        kind=OutboundKind.REPLY,
        message=message,
        mailbox=mailbox,
        to=[[ticket.requester.name, identity.email]],
        cc=cc,
        from_name=from_name,
        from_address=mailbox.address if mailbox else "",
        reply_to=mailbox.address if mailbox else "",
        subject=reply_subject(ticket, workspace),
        body_text=body_text.strip() + "\n",
        body_html=sanitize_html(body_html, block_remote_images=False),
        in_reply_to=in_reply_to,
        references=references,
        skip_reason="" if mailbox else SkipReason.NO_MAILBOX,
    )
    outbound = queue_outbound(ticket=ticket, email=email)
    if outbound.state == OutboundState.SKIPPED:
        record_delivery_state(
            message=message,
            state="skipped",
            error=skip_text(outbound.skip_reason, workspace.default_language),
        )
    else:
        record_delivery_state(message=message, state="sending")
    return outbound
