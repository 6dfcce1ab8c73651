"""Email leaving Deskloop: an agent's public reply goes to the requester (and the ticket's CCs), and every
``OutboundEmail`` (replies and notifications alike) is sent by a task with retries.

Queueing (``queue_reply``, ``queue_outbound``) renders everything when the row is written: From, Reply-To, To,
Cc, subject, both bodies, threading headers. Sending (``send_outbound_now``) builds the MIME message from the
row (``outbound_mime.build_mime``, where header values are sanitized) and hands it to Django's configured mail
backend (``EMAIL_BACKEND`` and the ``EMAIL_*`` settings); there are no per-mailbox SMTP settings.

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
  backend, whose answer we read ourselves (``_send``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import zoneinfo
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from deskloop.accounts.models import Workspace
from deskloop.core.html import sanitize_html
from deskloop.core.retries import MAX_ATTEMPTS, retry_delay
from deskloop.customers.models import ContactEmail
from deskloop.customers.services import mark_emails_bouncing
from deskloop.tickets.attachments import read_blob
from deskloop.tickets.models import Attachment, Message, MessageKind, Ticket
from deskloop.tickets.services.channel_writes import record_delivery_state

from . import conversation_threads
from .models import InboundEmail, Mailbox, OutboundEmail, OutboundKind, OutboundState
from .noise import LOOP_MARKER
from .outbound_mime import (
    InvalidAddress,
    OutgoingFile,
    OutgoingMail,
    PreparedEmail,
    ascii_address,
    build_mime,
    recipient_headers,
)

log = logging.getLogger(__name__)

# Written into X-Loop of everything we send (with the mailbox address); the inbound pipeline refuses mail carrying it.
# Every translation of the marker keeps this shape, so one token finds it in any language.
REPLY_MARKER_TOKEN = "##-"  # noqa: S105 (a marker, not a password)
HISTORY_MESSAGES = 3
# While an attempt is in flight the row is due again only after this lease: a duplicate task does nothing, and
# a worker that died mid-send is retried later. Longer than any SMTP timeout we expect.
SEND_LEASE = dt.timedelta(minutes=10)
DUE_SLACK = dt.timedelta(seconds=5)
ERROR_MAX = 500


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


class RecipientOutcome:
    """What became of an address the server refused while it took the email for others (``refused_recipients``)."""

    RETRYING = "retrying"  # refused for now (4xx): the email is sent to it again, alone, on the retry schedule
    REFUSED = "refused"  # refused for good (5xx): marked bouncing
    GIVEN_UP = "given_up"  # still refused for now after the last retry


# An SMTP reply kept per refused address; the whole note is cut at ERROR_MAX anyway.
REPLY_MAX = 200


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


def loop_marker(mailbox_address: str) -> str:
    return f"{LOOP_MARKER}; {mailbox_address}"


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


def new_message_id(ticket: Ticket, kind: str, from_address: str) -> str:
    """A signed Message-ID (conversation_threads.make_message_id), stored without angle brackets like inbound ones."""
    domain = domain_of(from_address) or DNS_NAME.get_fqdn()
    return conversation_threads.normalize_message_id(conversation_threads.make_message_id(ticket, kind, domain=domain))


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


def queue_outbound(
    *,
    ticket: Ticket,
    kind: str,
    to: Sequence[Sequence[str]],
    subject: str,
    body_text: str,
    body_html: str,
    from_name: str,
    from_address: str,
    mailbox: Mailbox | None,
    message: Message | None = None,
    cc: Sequence[Sequence[str]] = (),
    reply_to: str = "",
    auto_submitted: str = "",
    in_reply_to: str = "",
    references: Sequence[str] = (),
    skip_reason: str = "",
) -> OutboundEmail:
    """Write one OutboundEmail and, unless it is skipped, send it after commit. A skipped one is kept with its
    reason (a decision on record, not a silent drop)."""
    now = timezone.now()
    recipient = (to[0][1] if to else "").strip().lower()
    if not skip_reason:
        try:
            ascii_address(from_address)
        except InvalidAddress:
            skip_reason = SkipReason.NO_SENDER
    if not skip_reason:
        try:
            ascii_address(recipient)
        except InvalidAddress:
            skip_reason = SkipReason.INVALID_ADDRESS
    outbound = OutboundEmail.objects.create(
        workspace_id=ticket.workspace_id,
        mailbox=mailbox,
        ticket=ticket,
        message=message,
        kind=kind,
        to=[[str(n), str(a)] for n, a in to],
        cc=[[str(n), str(a)] for n, a in cc],
        recipient=recipient[:254],
        from_name=from_name[:200],
        from_address=from_address[:254],
        reply_to=reply_to[:254],
        subject=subject[:998],
        body_text=body_text,
        body_html=body_html,
        auto_submitted=auto_submitted,
        header_message_id=new_message_id(ticket, kind, from_address),
        in_reply_to=conversation_threads.normalize_message_id(in_reply_to)[:998],
        references=" ".join(conversation_threads.normalize_message_id(r) for r in references if r),
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
    outbound = queue_outbound(
        ticket=ticket,
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
    if outbound.state == OutboundState.SKIPPED:
        record_delivery_state(
            message=message,
            state="skipped",
            error=skip_text(outbound.skip_reason, workspace.default_language),
        )
    else:
        record_delivery_state(message=message, state="sending")
    return outbound


# ---------------------------------------------------------------------------------------------------- sending


def enqueue_send(outbound_id: int, run_after: dt.datetime | None = None) -> None:
    """Queue the send task. Backends that cannot defer (the inline test backend) skip deferred retries;
    ``send_due_emails`` picks those up when they are due."""
    from .outbound_tasks import send_outbound_email

    task = send_outbound_email
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    task.enqueue(outbound_id)


def send_due_emails(limit: int = 200) -> int:
    """Sweep: queue every email whose time has come (a lost task, a worker that was down, a backend that cannot
    defer): queued ones, and sent ones with recipients to retry. Sending twice is prevented by the lease taken in
    ``_claim``."""
    ids = list(
        OutboundEmail.objects.filter(
            state__in=(OutboundState.QUEUED, OutboundState.SENT), next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for outbound_id in ids:
        enqueue_send(outbound_id)
    return len(ids)


def retrying_recipients(outbound: OutboundEmail) -> list[str]:
    """The addresses a sent email still waits to be delivered to (refused for now), in envelope order."""
    return [
        str(entry["address"])
        for entry in outbound.refused_recipients
        if entry.get("outcome") == RecipientOutcome.RETRYING
    ]


def _claim(outbound_id: int, now: dt.datetime) -> OutboundEmail | None:
    """Lock the row, check it is due (queued, or sent with recipients to retry), and lease it for one attempt."""
    with transaction.atomic():
        outbound = OutboundEmail.objects.select_for_update().filter(pk=outbound_id).first()
        if outbound is None or outbound.next_attempt_at is None:
            return None  # final or gone: a sent email is never sent again to those who got it
        if outbound.state not in (OutboundState.QUEUED, OutboundState.SENT):
            return None
        if outbound.next_attempt_at > now + DUE_SLACK:
            return None
        if outbound.state == OutboundState.SENT:
            if not retrying_recipients(outbound):
                # Nobody left to retry (cannot happen through _record_attempt): stop the sweep from coming back.
                outbound.next_attempt_at = None
                outbound.save(update_fields=["next_attempt_at"])
                return None
            outbound.recipient_retries += 1
        outbound.attempts += 1
        outbound.next_attempt_at = now + SEND_LEASE
        outbound.save(update_fields=["attempts", "recipient_retries", "next_attempt_at"])
        return outbound


def outgoing_mail(outbound: OutboundEmail) -> OutgoingMail:
    files: list[OutgoingFile] = []
    if outbound.message_id is not None and outbound.kind == OutboundKind.REPLY:
        for attachment in Attachment.objects.filter(message_id=outbound.message_id).select_related("blob"):
            files.append(OutgoingFile(attachment.filename, attachment.content_type, read_blob(attachment.blob)))
    return OutgoingMail(
        from_name=outbound.from_name,
        from_address=outbound.from_address,
        to=[(str(n), str(a)) for n, a in outbound.to],
        cc=[(str(n), str(a)) for n, a in outbound.cc],
        reply_to=outbound.reply_to,
        subject=outbound.subject,
        message_id=outbound.header_message_id,
        in_reply_to=outbound.in_reply_to,
        references=outbound.references.split(),
        body_text=outbound.body_text,
        body_html=outbound.body_html,
        auto_submitted=outbound.auto_submitted,
        loop_marker=loop_marker(outbound.from_address),
        date=outbound.created_at.timestamp(),
        attachments=files,
    )


def prepared_email(outbound: OutboundEmail, *, envelope: Sequence[str] = ()) -> PreparedEmail:
    """The message and its envelope, ready for a Django mail backend. ``envelope`` limits RCPT TO to these
    addresses (a retry for the recipients refused for now); the headers stay those of the whole email."""
    mail = outgoing_mail(outbound)
    mime = build_mime(mail)
    if not envelope:
        envelope = [a.addr_spec for a in recipient_headers([*mail.to, *mail.cc])]
    return PreparedEmail(mime, envelope_from=ascii_address(mail.from_address), recipients=envelope)


def _smtp_text(code: int, text: bytes | str) -> str:
    detail = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(detail.split())}".strip()


_BAD_MAILBOX = re.compile(r"\b5\.1\.[0-9]{1,3}\b")


def classify_failure(exc: BaseException, recipients: Sequence[str] = ()) -> tuple[bool, str, list[str]]:
    """(permanent?, a short error for people, recipients refused permanently) for a failed send. A 5xx refusal
    of the whole message counts against the recipient only when there was one and the enhanced status code says
    its mailbox is bad (5.1.x); a refused sender or content says nothing about the customer's address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = dict(exc.recipients)
        permanent_ones = [addr for addr, (code, _text) in refused.items() if 500 <= int(code) < 600]
        first_code, first_text = next(iter(refused.values()), (0, b""))
        permanent = bool(refused) and len(permanent_ones) == len(refused)
        return permanent, _smtp_text(int(first_code), first_text), permanent_ones
    if isinstance(exc, smtplib.SMTPResponseException):
        code = int(exc.smtp_code)
        text = _smtp_text(code, exc.smtp_error)
        bad_mailbox = (
            not isinstance(exc, smtplib.SMTPSenderRefused)
            and len(recipients) == 1
            and code in (550, 551, 553)
            and _BAD_MAILBOX.search(text) is not None
        )
        return 500 <= code < 600, text, list(recipients) if bad_mailbox else []
    if isinstance(exc, InvalidAddress):
        return True, _("An address of this email cannot be used: %(address)s") % {"address": str(exc)}, []
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return False, _("The mail server closed the connection."), []
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return False, _("The mail server cannot be reached: %(error)s") % {"error": exc}, []
    return False, f"{type(exc).__name__}: {exc}", []


def _send(connection: BaseEmailBackend, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Send ``message``; returns the recipients the server refused while it accepted the others.

    Django's SMTP backend drops smtplib's answer, so a partly refused message (a CC's mailbox gone) would pass as
    delivered to everyone. With that backend we make its SMTP call ourselves on the connection it opened, with
    the same address handling as its ``_send``. Other backends (console, locmem, a provider's API) send as usual
    and report no partial refusals."""
    smtp = getattr(connection, "connection", None)
    if isinstance(connection, SmtpEmailBackend) and isinstance(smtp, smtplib.SMTP):
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in message.recipients()]
        refused = smtp.sendmail(sender, recipients, message.message().as_bytes(linesep="\r\n"))
        return {address: (int(code), text) for address, (code, text) in refused.items()}
    connection.send_messages([message])
    return {}


def partial_refusal_note(refused_recipients: Sequence[dict[str, Any]], recipient_retries: int) -> str:
    """What the agent reads on a message that reached some recipients but not (or not yet) these: "Not delivered
    to a@x (550 ...). Retrying delivery to b@x (451 ...)"; "" when every recipient has it."""
    not_delivered: list[str] = []
    retrying: list[str] = []
    for entry in refused_recipients:
        address, reply, outcome = str(entry["address"]), str(entry["reply"]), entry.get("outcome")
        if outcome == RecipientOutcome.RETRYING:
            retrying.append(f"{address} ({reply})")
        elif outcome == RecipientOutcome.GIVEN_UP:
            tries = recipient_retries + 1
            not_delivered.append(
                ngettext(
                    "%(address)s (%(reply)s; gave up after %(count)d attempt)",
                    "%(address)s (%(reply)s; gave up after %(count)d attempts)",
                    tries,
                )
                % {"address": address, "reply": reply, "count": tries}
            )
        else:
            not_delivered.append(f"{address} ({reply})")
    sentences = []
    if not_delivered:
        sentences.append(_("Not delivered to %(refusals)s") % {"refusals": "; ".join(not_delivered)})
    if retrying:
        sentences.append(_("Retrying delivery to %(refusals)s") % {"refusals": "; ".join(retrying)})
    return ". ".join(sentences)


def _first_refusals(refusals: dict[str, tuple[int, bytes]]) -> tuple[list[dict[str, Any]], list[str]]:
    """(refused_recipients, addresses to mark bouncing) after an email went out with these recipients refused."""
    entries: list[dict[str, Any]] = []
    bouncing: list[str] = []
    for address, (code, text) in refusals.items():
        permanent = 500 <= code < 600
        outcome = RecipientOutcome.REFUSED if permanent else RecipientOutcome.RETRYING
        entries.append({"address": address, "reply": _smtp_text(code, text)[:REPLY_MAX], "outcome": outcome})
        if permanent:
            bouncing.append(address)
    return entries, bouncing


def _retried_refusals(
    outbound: OutboundEmail, *, error: str, permanent: bool, refusals: dict[str, tuple[int, bytes]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(refused_recipients, addresses to mark bouncing) after a retry for the recipients refused for now: the ones
    the server took leave the list; the others take their new answer (``error`` when the retry failed as a
    whole: connection lost, refused at MAIL FROM or DATA)."""
    exhausted = outbound.recipient_retries >= MAX_ATTEMPTS - 1
    entries: list[dict[str, Any]] = []
    bouncing: list[str] = []
    for entry in outbound.refused_recipients:
        address = str(entry["address"])
        if entry.get("outcome") != RecipientOutcome.RETRYING:
            entries.append(entry)
            continue
        if error:
            reply, for_good = error, permanent
        elif address in refusals:
            code, text = refusals[address]
            reply, for_good = _smtp_text(code, text), 500 <= code < 600
            if for_good:
                bouncing.append(address)
        else:
            continue  # delivered
        outcome = (
            RecipientOutcome.REFUSED
            if for_good
            else RecipientOutcome.GIVEN_UP
            if exhausted
            else RecipientOutcome.RETRYING
        )
        entries.append({"address": address, "reply": reply[:REPLY_MAX], "outcome": outcome})
    return entries, bouncing


def send_outbound_now(outbound_id: int) -> str | None:
    """Make one attempt if the email is due; returns its state afterwards, or None when there was nothing to
    do (sent already, not due, gone, or another worker holds it). Safe to call any number of times.

    At least once, not exactly once: if the process dies after the mail server accepted the message but before
    the row says "sent", the lease runs out and the email is sent again. SMTP offers no way to ask whether a
    message was accepted, so a rare duplicate is the price of never losing a reply."""
    outbound = _claim(outbound_id, timezone.now())
    if outbound is None:
        return None
    # A sent email is claimed again only for the recipients the server refused for now: they alone get it.
    retrying = retrying_recipients(outbound) if outbound.state == OutboundState.SENT else []
    error = ""
    permanent = False
    bouncing: list[str] = []
    envelope: list[str] = []
    partly_refused: dict[str, tuple[int, bytes]] = {}
    # Slow I/O outside any transaction: a slow mail server must not hold database locks.
    try:
        prepared = prepared_email(outbound, envelope=retrying)
        envelope = list(prepared.recipients())
        with get_connection(fail_silently=False) as connection:
            partly_refused = _send(connection, prepared)
    except Exception as exc:  # every failure is recorded on the row and shown on the message
        if retrying and isinstance(exc, smtplib.SMTPRecipientsRefused):
            # Every address of the retry refused again: each answer counts alone, as in a partial refusal.
            partly_refused = {address: (int(code), text) for address, (code, text) in exc.recipients.items()}
        else:
            permanent, error, bouncing = classify_failure(exc, envelope)
            log.warning("outbound email %s attempt %s failed: %s", outbound.pk, outbound.attempts, error)
    return _record_attempt(
        outbound.pk, error=error[:ERROR_MAX], permanent=permanent, bouncing=bouncing, refusals=partly_refused
    )


def _record_attempt(
    outbound_id: int, *, error: str, permanent: bool, bouncing: list[str], refusals: dict[str, tuple[int, bytes]]
) -> str | None:
    """Write down what one attempt came to. ``refusals`` are the recipients refused while the server took the
    email for the others; ``bouncing`` the addresses a failure of the whole attempt showed to be bad."""
    now = timezone.now()
    with transaction.atomic():
        outbound = OutboundEmail.objects.select_for_update().select_related("workspace").filter(pk=outbound_id).first()
        if outbound is None:
            return None
        bouncing = list(bouncing)
        if outbound.state == OutboundState.SENT:
            # A retry for the recipients refused for now; the others got the email on an earlier attempt.
            outbound.refused_recipients, refused_for_good = _retried_refusals(
                outbound, error=error, permanent=permanent, refusals=refusals
            )
            bouncing += refused_for_good
        elif not error:
            outbound.state = OutboundState.SENT
            outbound.sent_at = now
            # Sent even if some were refused: the others have it, and sending it again would duplicate it for them.
            outbound.refused_recipients, refused_for_good = _first_refusals(refusals)
            bouncing += refused_for_good
        elif permanent or outbound.attempts >= MAX_ATTEMPTS:
            outbound.state = OutboundState.FAILED
            outbound.next_attempt_at = None
        else:
            outbound.next_attempt_at = now + retry_delay(outbound.attempts)
            transaction.on_commit(partial(enqueue_send, outbound.pk, outbound.next_attempt_at))
        if outbound.state == OutboundState.SENT:
            delivery = "sent"
            outbound.last_error = partial_refusal_note(outbound.refused_recipients, outbound.recipient_retries)
            outbound.last_error = outbound.last_error[:ERROR_MAX]
            if retrying_recipients(outbound):
                outbound.next_attempt_at = now + retry_delay(outbound.recipient_retries + 1)
                transaction.on_commit(partial(enqueue_send, outbound.pk, outbound.next_attempt_at))
            else:
                outbound.next_attempt_at = None
            if outbound.last_error:
                log.warning("outbound email %s partly refused: %s", outbound.pk, outbound.last_error)
        else:
            delivery = "failed" if outbound.state == OutboundState.FAILED else "retrying"
            outbound.last_error = error
        outbound.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error", "refused_recipients"])
        mark_emails_bouncing(workspace_id=outbound.workspace_id, emails=bouncing, since=now)
        if outbound.message_id is not None and outbound.kind == OutboundKind.REPLY:
            message = Message.objects.filter(pk=outbound.message_id).first()
            if message is not None:
                record_delivery_state(message=message, state=delivery, error=outbound.last_error)
    return outbound.state
