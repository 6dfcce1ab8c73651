"""Which ticket an incoming email belongs to.

Order of evidence, strongest first:
1. In-Reply-To, then References (newest first), against the Message-IDs we stored: inbound emails of this
   workspace, ticket messages (``tickets.Message.email_message_id``) and our outgoing emails. A Message-ID in
   our own format (``dl.<ticket>.<random>.<hmac>@...``) is trusted only if its HMAC verifies, so a forged
   In-Reply-To cannot post into someone else's ticket.
2. The ticket token in the subject, ``[PREFIX #1234]`` (``Workspace.ticket_prefix``).
3. Optionally (``Mailbox.subject_threading_days`` > 0): the same subject from the same requester within N days.

Finding a ticket is not the end: the pipeline then checks that the sender is on it (requester, CC contact or
agent) and applies the mailbox's unknown-sender rule otherwise; mail failing DMARC never threads by itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.utils import timezone

from deskloop.accounts.models import Workspace
from deskloop.tickets.models import Message, Ticket

from . import header_text
from .models import InboundEmail, Mailbox, OutboundEmail

_OURS = re.compile(r"^dl\.(\d{1,19})\.([A-Za-z0-9]{8,64})\.([0-9a-f]{1,64})@", re.IGNORECASE)
_SIGNATURE_HEX = 24  # 96 bits of HMAC-SHA256: unguessable, and short enough for a header line
_RECIPIENT_TAG_HEX = 16  # 64 bits: each guess needs a mail sent; the nonce stays within the id's 64 characters
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|odp|rif|r|tr|enc|res|ref|rv|vb|ynt|atb|回复|答复|转发|返信|転送)"
    r"\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def _signature(ticket_id: int, nonce: str) -> str:
    key = hashlib.sha256(b"deskloop.email.message-id:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{ticket_id}.{nonce}".encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def _recipient_tag(ticket_id: int, nonce: str, recipient: str) -> str:
    key = hashlib.sha256(b"deskloop.email.recipient:" + settings.SECRET_KEY.encode()).digest()
    message = f"{ticket_id}.{nonce}.{recipient.strip().lower()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_RECIPIENT_TAG_HEX]


def make_message_id(ticket: Ticket, kind: str = "reply", *, domain: str = "", recipient: str = "") -> str:
    """A Message-ID for an email we send about ``ticket``, with angle brackets. Replies referencing it thread
    back to the ticket; the HMAC makes it unforgeable. ``kind`` (reply, acknowledgement ...) is a readable hint
    inside the random part, not part of the trust decision.

    With ``recipient``, the random part ends in "x" and an HMAC of the ticket, the random part and that address
    (``sent_to``): a reply quoting the id proves its writer received our mail at that address, which is how mail
    from an agent's address proves it is the agent's (sender_trust). The ticket signature covers the tag too."""
    nonce = f"{re.sub(r'[^a-z]', '', kind.lower())[:12]}{secrets.token_hex(8)}"
    if recipient:
        nonce = f"{nonce}x{_recipient_tag(ticket.pk, nonce, recipient)}"
    host = (domain or DNS_NAME.get_fqdn()).strip().strip("<>@ ") or "deskloop.invalid"
    return f"<dl.{ticket.pk}.{nonce}.{_signature(ticket.pk, nonce)}@{host}>"


def sent_to(message_id: str, *, ticket_id: int, recipient: str) -> bool:
    """Whether ``message_id`` is one we signed for an email about ticket ``ticket_id`` sent to ``recipient``."""
    if verify_message_id(message_id) != ticket_id:
        return False
    nonce = _OURS.match(normalize_message_id(message_id)).group(2)  # type: ignore[union-attr]  # verified above
    base, separator, tag = nonce.rpartition("x")
    if not separator or len(tag) != _RECIPIENT_TAG_HEX:
        return False
    return hmac.compare_digest(tag.lower(), _recipient_tag(ticket_id, base, recipient))


def normalize_message_id(value: str) -> str:
    """A Message-ID as stored: the parser's normal form (see header_text.normalize_message_id), so what we send, what we
    store and what we look up compare equal."""
    return header_text.normalize_message_id(value)


def is_ours(message_id: str) -> bool:
    """Whether the id claims to be one of ours (whether or not its signature is good)."""
    return normalize_message_id(message_id).lower().startswith("dl.")


def verify_message_id(message_id: str) -> int | None:
    """The ticket id a Message-ID of ours was made for, or None if it is not ours or its signature is wrong."""
    match = _OURS.match(normalize_message_id(message_id))
    if match is None:
        return None
    ticket_id, nonce, signature = int(match.group(1)), match.group(2), match.group(3).lower()
    if not hmac.compare_digest(signature, _signature(ticket_id, nonce)):
        return None
    return ticket_id


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket
    how: str  # "in_reply_to", "references", "subject_token", "subject"


def _ticket_for_reference(workspace_id: int, reference: str) -> Ticket | None:
    reference = normalize_message_id(reference)
    if not reference:
        return None
    # Our own ids are trusted by signature alone; an unsigned or forged one never threads.
    ticket_id = verify_message_id(reference) if is_ours(reference) else _ticket_id_of_stored(workspace_id, reference)
    if ticket_id is None:
        return None
    # With its status: the pipeline asks whether the ticket is closed.
    return (
        Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id, deleted_at__isnull=True)
        .select_related("status")
        .first()
    )


def _ticket_id_of_stored(workspace_id: int, reference: str) -> int | None:
    """The ticket of a mail we stored or sent with this Message-ID: inbound first, then messages, then outbound."""
    ticket_id: int | None = (
        InboundEmail.objects.filter(workspace_id=workspace_id, header_message_id=reference, ticket__isnull=False)
        .order_by("-id")
        .values_list("ticket_id", flat=True)
        .first()
    )
    if ticket_id is None:
        ticket_id = (
            Message.objects.filter(workspace_id=workspace_id, email_message_id=reference)
            .order_by("-id")
            .values_list("ticket_id", flat=True)
            .first()
        )
    if ticket_id is None:
        ticket_id = (
            OutboundEmail.objects.filter(workspace_id=workspace_id, header_message_id=reference, ticket__isnull=False)
            .values_list("ticket_id", flat=True)
            .first()
        )
    return ticket_id


def subject_token_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(r"\[\s*" + re.escape(prefix.strip()) + r"\s*#\s*(\d{1,18})\s*\]", re.IGNORECASE)


def subject_token(ticket: Ticket, workspace: Workspace) -> str:
    """The token our outgoing subjects carry, e.g. ``[ACME #1234]``."""
    return f"[{workspace.ticket_prefix} #{ticket.number}]"


def base_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, ticket tokens and extra spaces, lower-cased, for comparison."""
    cleaned = " ".join((subject or "").split())
    cleaned = re.sub(r"\[[^\]]*#\s*\d+\s*\]", " ", cleaned)
    previous = None
    while previous != cleaned:
        previous = cleaned
        cleaned = _SUBJECT_PREFIX.sub("", cleaned).strip()
    return " ".join(cleaned.split()).lower()


def find_ticket(
    *,
    mailbox: Mailbox,
    workspace: Workspace,
    in_reply_to: str,
    references: list[str],
    subject: str,
    requester_id: int | None,
    now: dt.datetime | None = None,
) -> ThreadMatch | None:
    """The ticket this email continues, by the evidence described in the module docstring."""
    wid = workspace.pk
    if in_reply_to:
        ticket = _ticket_for_reference(wid, in_reply_to)
        if ticket is not None:
            return ThreadMatch(ticket=ticket, how="in_reply_to")
    seen = {normalize_message_id(in_reply_to)}
    for reference in reversed(references[-50:]):
        key = normalize_message_id(reference)
        if key in seen:
            continue
        seen.add(key)
        ticket = _ticket_for_reference(wid, key)
        if ticket is not None:
            return ThreadMatch(ticket=ticket, how="references")
    token = subject_token_pattern(workspace.ticket_prefix).search(subject or "")
    if token is not None:
        ticket = (
            Ticket.objects.filter(workspace_id=wid, number=int(token.group(1)), deleted_at__isnull=True)
            .select_related("status")
            .first()
        )
        if ticket is not None:
            return ThreadMatch(ticket=ticket, how="subject_token")
    if mailbox.subject_threading_days and requester_id is not None:
        wanted = base_subject(subject)
        if wanted:
            since = (now or timezone.now()) - dt.timedelta(days=mailbox.subject_threading_days)
            candidates = (
                Ticket.objects.filter(
                    workspace_id=wid, requester_id=requester_id, updated_at__gte=since, deleted_at__isnull=True
                )
                .select_related("status")
                .order_by("-updated_at", "-id")[:50]
            )
            for ticket in candidates:
                if base_subject(ticket.subject) == wanted:
                    return ThreadMatch(ticket=ticket, how="subject")
    return None
