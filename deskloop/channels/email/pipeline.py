"""Every inbound email, whatever way it came (IMAP, SMTP/LMTP, HTTP, archive import), goes through ``ingest_raw``.

Two steps, two transactions:

1. Store. The raw bytes go to content-addressed storage and an ``InboundEmail`` row is written; the caller's
   ``on_stored`` callback runs inside the same transaction (the IMAP fetcher advances its UID checkpoint there,
   so a crash can repeat a fetch but never skip a message). The same Message-ID with the same bytes arriving
   again in the same mailbox is a duplicate: nothing new is created and the first arrival's result is returned.
2. Process. Parse, refuse noise on purpose (too large, bounce, auto-reply, loop, list, blocked sender, no
   sender), thread onto a ticket or open one. Any exception here rolls processing back and quarantines the
   row with the error; the raw bytes stay, so an admin can process it again after a fix (``reprocess``).
   Processing is idempotent: a row that is no longer "received" or "quarantined" is left alone.

Decisions (see also threading.py):
- A customer reply to a *closed* ticket opens a follow-up ticket (first message's channel_meta carries
  ``follow_up_of``: the closed ticket's number) and the closed ticket gets a system note pointing at it;
  pending/solved tickets are reopened by ``add_customer_message``.
- A reply from an address that is not on the ticket follows ``Mailbox.unknown_sender_rule``: a new ticket
  (channel_meta ``related_to``) or the sender is added as CC and the message appended.
- An agent writing to the mailbox about a ticket adds an internal note (never a customer-visible reply that
  would be emailed out again); an agent's mail that matches no ticket is refused as "loop" when it comes from
  the mailbox's own address and otherwise opens a ticket like anyone's.
- Mail that fails DMARC for its From domain is flagged (``dmarc_failed``) and always opens a new ticket.
- Dates: archive imports keep the Date header (so history reads right); live mail uses the arrival time.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from email.message import Message as MimeMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import ValidationFailed
from deskloop.core.html import html_to_text, sanitize_html
from deskloop.customers.models import Contact, ContactEmail
from deskloop.customers.services import find_or_create_contact, mark_email_bouncing, normalize_email
from deskloop.tickets.attachments import IncomingFile, store_blob
from deskloop.tickets.models import Channel, Message, StatusCategory, Ticket
from deskloop.tickets.services.channel_writes import add_cc_contacts, add_system_note, link_inline_images
from deskloop.tickets.services.messages import add_customer_message, add_internal_note
from deskloop.tickets.services.tickets import create_ticket

from . import threading
from .models import InboundEmail, InboundState, Mailbox, OutboundEmail, UnknownSenderRule

log = logging.getLogger(__name__)

VIAS = frozenset({"imap", "smtp", "http", "import"})
MAX_CC_CONTACTS = 20
DETAIL_MAX = 4000


class Refusal:
    """Why a message was refused on purpose (``InboundEmail.refusal_reason``)."""

    TOO_LARGE = "too_large"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    LOOP = "loop"
    LIST = "list"
    BLOCKED_SENDER = "blocked_sender"
    NO_SENDER = "no_sender"


class Outcome:
    NEW_TICKET = "new_ticket"
    FOLLOW_UP = "follow_up"
    THREADED = "threaded"


@dataclass(frozen=True)
class IngestResult:
    """What became of one delivery. ``duplicate`` means these bytes had arrived before; the fields then describe
    the first arrival (nothing new was created)."""

    inbound_id: int
    state: str
    refusal_reason: str
    outcome: str
    ticket_id: int | None
    ticket_number: int | None
    duplicate: bool = False

    @classmethod
    def of(cls, inbound: InboundEmail, *, duplicate: bool = False) -> IngestResult:
        number = None
        if inbound.ticket_id is not None:
            number = Ticket.objects.filter(pk=inbound.ticket_id).values_list("number", flat=True).first()
        return cls(
            inbound_id=inbound.pk,
            state=inbound.state,
            refusal_reason=inbound.refusal_reason,
            outcome=inbound.outcome,
            ticket_id=inbound.ticket_id,
            ticket_number=number,
            duplicate=duplicate,
        )


# ---------------------------------------------------------------------------------------------------- storing


def header_message_id(raw: bytes, sha256: str) -> str:
    """The Message-ID (without brackets) read from the header block alone, or a synthetic one derived from the
    bytes when the mail has none, so dedupe still works. Never raises."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:262144])
        value = str(headers.get("Message-ID", "") or "")
    except Exception:  # a broken header block must not stop the mail from being stored
        value = ""
    value = "".join(ch for ch in value if ch.isprintable()).strip()
    found = threading.normalize_message_id(value.split()[0] if value.split() else "")
    return found[:990] if found else f"no-message-id.{sha256[:40]}@deskloop.invalid"


def _store(
    *, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None
) -> tuple[InboundEmail, bool]:
    sha256 = hashlib.sha256(raw).hexdigest()
    message_id = header_message_id(raw, sha256)
    lookup = {"mailbox": mailbox, "header_message_id": message_id, "raw_sha256": sha256}
    existing = InboundEmail.objects.filter(**lookup).first()
    if existing is None:
        # File I/O before the transaction: the blob is content-addressed, so a crash here leaves only an
        # unreferenced file that the next delivery of the same bytes reuses.
        blob = store_blob(raw)
    with transaction.atomic():
        if existing is None:
            try:
                with transaction.atomic():
                    inbound = InboundEmail.objects.create(
                        workspace_id=mailbox.workspace_id,
                        mailbox=mailbox,
                        raw=blob,
                        raw_sha256=sha256,
                        header_message_id=message_id,
                        received_via=via,
                    )
            except IntegrityError:
                # A concurrent delivery of the same message won the race; this one is the duplicate.
                existing = InboundEmail.objects.get(**lookup)
        if on_stored is not None:
            # Runs for duplicates too: a message delivered twice must still move the IMAP checkpoint past it.
            on_stored()
    if existing is not None:
        return existing, True
    return inbound, False


def ingest_raw(*, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None = None) -> IngestResult:
    """Store, dedupe and process one raw RFC 822 message; see the module docstring. Raises only if storing
    fails (database or storage down) or ``on_stored`` raises; processing errors quarantine the message."""
    if via not in VIAS:
        raise ValueError(f"unknown ingest path {via!r}")
    inbound, duplicate = _store(mailbox=mailbox, raw=bytes(raw), via=via, on_stored=on_stored)
    if duplicate:
        return IngestResult.of(inbound, duplicate=True)
    return IngestResult.of(process(inbound=inbound, raw=raw))


def reprocess(*, inbound: InboundEmail) -> IngestResult:
    """Process a stored message again (the quarantine's "Process again"). A processed or refused message is
    left as it is, so clicking twice, or retrying a message that made it meanwhile, changes nothing."""
    return IngestResult.of(process(inbound=inbound))


# ---------------------------------------------------------------------------------------------------- processing


def process(*, inbound: InboundEmail, raw: bytes | None = None) -> InboundEmail:
    """Process a stored message (see the module docstring). Never raises for a bad message."""
    try:
        with transaction.atomic():
            locked = (
                InboundEmail.objects.select_for_update().select_related("mailbox__workspace", "raw").get(pk=inbound.pk)
            )
            if locked.state not in (InboundState.RECEIVED, InboundState.QUARANTINED):
                return locked
            if raw is None:
                from deskloop.tickets.attachments import read_blob

                raw = read_blob(locked.raw)
            _process(locked, raw)
            locked.processed_at = timezone.now()
            locked.detail = locked.detail[:DETAIL_MAX]
            locked.save()
            return locked
    except Exception as exc:  # one bad message must never block the rest; it goes to quarantine
        log.warning("inbound email %s quarantined: %s", inbound.pk, exc, exc_info=True)
        detail = _error_summary(exc)
        InboundEmail.objects.filter(pk=inbound.pk).update(
            state=InboundState.QUARANTINED,
            refusal_reason="",
            outcome="",
            detail=detail,
            processed_at=timezone.now(),
        )
        return InboundEmail.objects.get(pk=inbound.pk)


def _error_summary(exc: BaseException) -> str:
    """The error and the innermost frames: enough for an admin to report it, bounded in size."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6)
    text = "".join(lines)
    return text[-DETAIL_MAX:]


def _refuse(inbound: InboundEmail, reason: str, detail: str = "") -> None:
    inbound.state = InboundState.REFUSED
    inbound.refusal_reason = reason
    inbound.outcome = ""
    inbound.detail = detail


def _process(inbound: InboundEmail, raw: bytes) -> None:
    mailbox = inbound.mailbox
    workspace = mailbox.workspace
    inbound.detail = ""
    if len(raw) > mailbox.max_message_bytes:
        _refuse(
            inbound,
            Refusal.TOO_LARGE,
            _("The message is %(size)d bytes; this mailbox accepts up to %(limit)d.")
            % {"size": len(raw), "limit": mailbox.max_message_bytes},
        )
        return
    mail = read_mail(raw)
    inbound.subject = mail.subject[:500]
    inbound.sender = mail.from_address[:320]

    if mail.noise == Refusal.BOUNCE:
        _handle_bounce(inbound, workspace, raw, mail)
        return
    if mail.noise in (Refusal.AUTO_REPLY, Refusal.LOOP, Refusal.LIST):
        _refuse(inbound, mail.noise, mail.noise_detail)
        return

    sender = _usable_address(mail.from_address) or _usable_address(mail.reply_to) or _usable_address(mail.sender)
    if sender is None:
        _refuse(inbound, Refusal.NO_SENDER, _("The message has no usable sender address."))
        return
    own_addresses = {a.lower() for a in Mailbox.objects.filter(workspace=workspace).values_list("address", flat=True)}
    if sender in own_addresses:
        # Our own mailbox writing to itself: an MTA or a forwarding rule loops; never a ticket.
        _refuse(inbound, Refusal.LOOP, _("The sender is one of this workspace's mailboxes."))
        return
    identity = ContactEmail.objects.filter(workspace=workspace, email=sender).select_related("contact").first()
    if identity is not None and identity.contact.is_blocked:
        _refuse(inbound, Refusal.BLOCKED_SENDER)
        return
    agent = Agent.objects.filter(workspace=workspace, user__email__iexact=sender, is_active=True).first()
    _deliver(inbound, mailbox, workspace, mail, sender, identity.contact if identity else None, agent, own_addresses)


def _usable_address(address: str) -> str | None:
    try:
        return normalize_email(address)
    except ValidationFailed:
        return None


def _when(inbound: InboundEmail, mail: MailFacts) -> dt.datetime:
    now = timezone.now()
    if inbound.received_via == "import" and mail.date is not None and mail.date <= now:
        return mail.date
    return now


def _deliver(
    inbound: InboundEmail,
    mailbox: Mailbox,
    workspace: Workspace,
    mail: MailFacts,
    sender: str,
    contact: Contact | None,
    agent: Agent | None,
    own_addresses: set[str],
) -> None:
    meta = _channel_meta(inbound, mailbox, mail)
    when = _when(inbound, mail)
    match = threading.find_ticket(
        mailbox=mailbox,
        workspace=workspace,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        subject=mail.subject,
        requester_id=contact.pk if contact else None,
        now=when,
    )
    if match is not None and mail.dmarc_failed:
        # A message failing DMARC may not be who it claims; it never joins an existing conversation by itself.
        meta["unthreaded_from"] = match.ticket.number
        match = None
    if match is not None and agent is not None:
        message = add_internal_note(
            ticket=match.ticket,
            agent=agent,
            body_text=_text_or_placeholder(mail),
            body_html=mail.html,
            attachments=mail.attachments,
            via="email",
        )
        _finish(inbound, match.ticket, message, Outcome.THREADED)
        return
    if contact is None:
        contact = find_or_create_contact(workspace=workspace, email=sender, name=mail.from_name)
    if match is not None:
        ticket = match.ticket
        on_ticket = contact.pk == ticket.requester_id or ticket.cc_contacts.filter(pk=contact.pk).exists()
        if not on_ticket and mailbox.unknown_sender_rule == UnknownSenderRule.ADD_AS_CC:
            add_cc_contacts(ticket=ticket, contacts=[contact], via="email")
            on_ticket = True
        if not on_ticket:
            meta["related_to"] = ticket.number
        elif _category(ticket) == StatusCategory.CLOSED:
            meta["follow_up_of"] = ticket.number
        else:
            message = add_customer_message(
                ticket=ticket,
                contact=contact,
                body_text=_text_or_placeholder(mail),
                body_html=mail.html,
                channel=Channel.EMAIL,
                attachments=mail.attachments,
                created_at=when,
                channel_meta=meta,
                via="email",
            )
            link_inline_images(message=message)
            _add_ccs(ticket, workspace, mail, sender, own_addresses)
            _finish(inbound, ticket, message, Outcome.THREADED)
            return
    ticket = create_ticket(
        workspace=workspace,
        requester=contact,
        subject=mail.subject.strip() or _("(no subject)"),
        body_text=_text_or_placeholder(mail),
        body_html=mail.html,
        channel=Channel.EMAIL,
        team=mailbox.default_team,
        product_area=mailbox.default_product_area,
        attachments=mail.attachments,
        created_at=when,
        channel_meta=meta,
        via="email",
    )
    first = Message.objects.filter(ticket=ticket).order_by("id").first()
    if first is not None:
        link_inline_images(message=first)
    _add_ccs(ticket, workspace, mail, sender, own_addresses)
    if "follow_up_of" in meta and match is not None:
        add_system_note(
            ticket=match.ticket,
            body_text=_("The customer wrote again after this ticket was closed; follow-up: #%(number)s.")
            % {"number": ticket.number},
            via="email",
        )
    _finish(inbound, ticket, first, Outcome.FOLLOW_UP if "follow_up_of" in meta else Outcome.NEW_TICKET)


def _text_or_placeholder(mail: MailFacts) -> str:
    """The text body; a placeholder when neither it nor the HTML has any, so the message is never empty."""
    if mail.text.strip() or html_to_text(sanitize_html(mail.html)).strip():
        return mail.text
    return _("(This email had no text.)")


def _category(ticket: Ticket) -> str:
    category: str = ticket.status.category
    return category


def _finish(inbound: InboundEmail, ticket: Ticket, message: Message | None, outcome: str) -> None:
    inbound.state = InboundState.PROCESSED
    inbound.refusal_reason = ""
    inbound.outcome = outcome
    inbound.ticket = ticket
    inbound.message = message


def _add_ccs(ticket: Ticket, workspace: Workspace, mail: MailFacts, sender: str, own_addresses: set[str]) -> None:
    """Everyone else the customer wrote to (To and Cc, minus our mailboxes and agents) follows the conversation."""
    agent_emails = {e.lower() for e in Agent.objects.filter(workspace=workspace).values_list("user__email", flat=True)}
    wanted: list[tuple[str, str]] = []
    seen = {sender} | own_addresses | agent_emails
    for name, address in [*mail.to, *mail.cc]:
        usable = _usable_address(address)
        if usable is None or usable in seen:
            continue
        seen.add(usable)
        wanted.append((usable, name))
    contacts = [
        find_or_create_contact(workspace=workspace, email=address, name=name)
        for address, name in wanted[:MAX_CC_CONTACTS]
    ]
    if contacts:
        add_cc_contacts(ticket=ticket, contacts=contacts, via="email")


def _channel_meta(inbound: InboundEmail, mailbox: Mailbox, mail: MailFacts) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "message_id": mail.message_id or inbound.header_message_id,
        "in_reply_to": mail.in_reply_to,
        "references": mail.references[-50:],
        "auth": mail.auth,
        "mailbox": mailbox.address,
        "inbound_email": inbound.pk,
        "from": mail.from_address,
        "to": [address for _name, address in mail.to][:MAX_CC_CONTACTS],
        "cc": [address for _name, address in mail.cc][:MAX_CC_CONTACTS],
    }
    if mail.dmarc_failed:
        meta["dmarc_failed"] = True
    return meta


def _handle_bounce(inbound: InboundEmail, workspace: Workspace, raw: bytes, mail: MailFacts) -> None:
    """A delivery status notification: mark failed recipients as bouncing and tell the ticket whose message
    bounced. Never a ticket."""
    report = read_bounce(raw, mail)
    now = timezone.now()
    marked: list[str] = []
    for address in report.failed_recipients:
        usable = _usable_address(address)
        if usable is not None and mark_email_bouncing(workspace=workspace, email=usable, since=now) is not None:
            marked.append(usable)
    ticket = _ticket_of_bounced_message(workspace, report.original_message_id)
    if ticket is not None:
        add_system_note(
            ticket=ticket,
            body_text=_("An email about this ticket could not be delivered to %(recipients)s: %(reason)s")
            % {
                "recipients": ", ".join(report.failed_recipients) or _("an unknown recipient"),
                "reason": report.reason or _("no reason given"),
            },
            via="email",
        )
        inbound.ticket = ticket
    detail = ", ".join(f"{a}" for a in report.failed_recipients)
    _refuse(inbound, Refusal.BOUNCE, detail[:DETAIL_MAX])
    if marked:
        inbound.detail = (inbound.detail + "\n" + _("Marked as bouncing: %(list)s") % {"list": ", ".join(marked)})[
            :DETAIL_MAX
        ]


def _ticket_of_bounced_message(workspace: Workspace, original_message_id: str) -> Ticket | None:
    key = threading.normalize_message_id(original_message_id)
    if not key:
        return None
    ticket_id = (
        OutboundEmail.objects.filter(workspace=workspace, header_message_id__in=[key, f"<{key}>"], ticket__isnull=False)
        .values_list("ticket_id", flat=True)
        .first()
    )
    if ticket_id is None:
        ticket_id = (
            Message.objects.filter(workspace=workspace, email_message_id__in=[key, f"<{key}>"])
            .values_list("ticket_id", flat=True)
            .first()
        )
    if ticket_id is None and threading.is_ours(key):
        ticket_id = threading.verify_message_id(key)
    if ticket_id is None:
        return None
    return Ticket.objects.filter(pk=ticket_id, workspace=workspace).first()


# ---------------------------------------------------------------------------------------------------- parsing glue


@dataclass
class MailFacts:
    """What the pipeline needs from a parsed message (adapted from the parsing module's ParsedEmail)."""

    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    reply_to: str
    sender: str
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    date: dt.datetime | None
    text: str
    html: str
    attachments: list[IncomingFile]
    auth: dict[str, str]
    dmarc_failed: bool
    noise: str  # "" for normal mail, else a Refusal reason
    noise_detail: str


@dataclass
class BounceFacts:
    failed_recipients: list[str]
    original_message_id: str
    reason: str


def read_mail(raw: bytes) -> MailFacts:
    """Parse ``raw`` into the facts the pipeline uses."""
    return _stdlib_mail(raw)


def read_bounce(raw: bytes, mail: MailFacts) -> BounceFacts:
    return _stdlib_bounce(raw)


# A minimal stdlib reading, used until the parsing modules (parsing.py, noise.py, dsn.py) are available.


def _header(message: MimeMessage[Any, Any], name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the modern policy cannot fold or decode; fall back to its raw text
        value = None
        for key, raw_value in message.raw_items():
            if key.lower() == name.lower():
                value = raw_value
                break
    if value is None:
        return ""
    try:
        text = str(value)
    except Exception:  # defective encoded words
        text = ""
    return " ".join(text.split())


def _addresses(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    value = _header(message, name)
    if not value:
        return []
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:  # an address list the stdlib cannot split
        return []
    return [(n.strip(), a.strip()) for n, a in pairs if "@" in a]


def _decoded_text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except Exception:  # unknown charset label, broken transfer encoding: decode by hand below
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    for charset in (part.get_content_charset() or "utf-8", "utf-8", "cp1252"):
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def _stdlib_mail(raw: bytes) -> MailFacts:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = _addresses(message, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    reply_to = _addresses(message, "Reply-To")
    sender = _addresses(message, "Sender")
    text = html = ""
    body_parts: set[int] = set()
    for kind in ("plain", "html"):
        try:
            part = message.get_body(preferencelist=(kind,))
        except Exception:  # a malformed structure: no body of this kind
            part = None
        if part is not None and part.get_content_type() == f"text/{kind}":
            body_parts.add(id(part))
            if kind == "plain":
                text = _decoded_text(part)
            else:
                html = _decoded_text(part)
    attachments: list[IncomingFile] = []
    for part in message.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        if part.get_content_maintype() == "message":
            continue
        filename = part.get_filename() or ""
        content_id = _header(part, "Content-ID")
        if not filename and not content_id and part.get_content_maintype() == "text":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        attachments.append(
            IncomingFile(
                filename=filename or f"attachment-{len(attachments) + 1}",
                content=payload,
                content_type=part.get_content_type(),
                content_id=content_id.strip("<> "),
            )
        )
    references = [ref for ref in _header(message, "References").split() if ref.strip("<>")]
    auth = _authentication_results(_header(message, "Authentication-Results"))
    noise, noise_detail = _stdlib_noise(message, from_address)
    return MailFacts(
        message_id=threading.normalize_message_id(_header(message, "Message-ID"))[:990],
        in_reply_to=threading.normalize_message_id((_header(message, "In-Reply-To").split() or [""])[0]),
        references=[threading.normalize_message_id(r) for r in references],
        subject=_header(message, "Subject"),
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to[0][1] if reply_to else "",
        sender=sender[0][1] if sender else "",
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        date=_parse_date(_header(message, "Date")),
        text=text.replace("\r\n", "\n"),
        html=html,
        attachments=attachments,
        auth=auth,
        dmarc_failed=auth.get("dmarc", "") == "fail",
        noise=noise,
        noise_detail=noise_detail,
    )


def _authentication_results(value: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for method in ("spf", "dkim", "dmarc"):
        match = re.search(rf"\b{method}\s*=\s*([a-z]+)", value, re.IGNORECASE)
        if match:
            found[method] = match.group(1).lower()
    return found


_BOUNCE_SUBJECT = re.compile(
    r"(mail delivery failed|returned mail|undeliver|delivery status|delivery failure|failure notice|"
    r"could not be delivered|not member|loop alert|メールエラー|^mail$|aws notification message|complaint about message)",
    re.IGNORECASE,
)
_SYSTEM_SENDER = re.compile(r"(daemon|post_?ma?st|poostmaster|admin|no-?reply|sysadmin|mailer)", re.IGNORECASE)
_AUTO_REPLY_SUBJECT = re.compile(r"^(automatic reply|auto ?reply|out of (the )?office|autorespons)", re.IGNORECASE)


def _stdlib_noise(message: EmailMessage, from_address: str) -> tuple[str, str]:
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    local = from_address.split("@")[0].lower()
    if (content_type == "multipart/report" and report_type in ("delivery-status", "feedback-report", "")) or _header(
        message, "X-Failed-Recipients"
    ):
        return Refusal.BOUNCE, "delivery status notification"
    if re.match(r"^(mailer-?daemon|post_?master|poostmaster)$", local) or (
        not from_address and _header(message, "Return-Path") == "<>"
    ):
        return Refusal.BOUNCE, "from a mail system"
    subject = _header(message, "Subject")
    if "returned mail: see transcript" in subject.lower() or (
        _BOUNCE_SUBJECT.search(subject) and (not from_address or _SYSTEM_SENDER.search(local) or message.is_multipart())
    ):
        return Refusal.BOUNCE, "delivery failure subject"
    if content_type == "multipart/report":
        return Refusal.AUTO_REPLY, f"report ({report_type})"
    if _AUTO_REPLY_SUBJECT.search(subject):
        return Refusal.AUTO_REPLY, "automatic reply subject"
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return Refusal.AUTO_REPLY, f"Auto-Submitted: {auto}"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return Refusal.AUTO_REPLY, "X-Autoreply"
    if "deskloop" in _header(message, "X-Loop").lower():
        return Refusal.LOOP, "X-Loop"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return (Refusal.AUTO_REPLY if precedence == "auto_reply" else Refusal.LIST), f"Precedence: {precedence}"
    if _header(message, "List-Id"):
        return Refusal.LIST, "List-Id"
    return "", ""


def _stdlib_bounce(raw: bytes) -> BounceFacts:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    failed: list[str] = []
    reason = ""
    original = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                if not isinstance(block, MimeMessage):
                    continue
                action = _header(block, "Action").lower()
                recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
                address = recipient.split(";", 1)[-1].strip().strip("<>")
                if address and "@" in address and action in ("failed", ""):
                    failed.append(address)
                    reason = reason or _header(block, "Diagnostic-Code") or _header(block, "Status")
        elif content_type in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], MimeMessage):
                original = _header(inner[0], "Message-ID")
            elif isinstance(inner, str):
                match = re.search(r"^Message-ID:\s*(<[^>]+>)", inner, re.IGNORECASE | re.MULTILINE)
                original = match.group(1) if match else ""
    for address in _header(message, "X-Failed-Recipients").split(","):
        if "@" in address and address.strip() not in failed:
            failed.append(address.strip())
    return BounceFacts(failed_recipients=failed, original_message_id=original, reason=reason[:500])


def _parse_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed
