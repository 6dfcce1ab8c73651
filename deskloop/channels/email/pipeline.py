"""Every inbound email, whatever way it came (IMAP, SMTP/LMTP, HTTP, archive import), goes through ``ingest_raw``.

Two steps (one transaction, see below):

1. Store. The raw bytes go to content-addressed storage and an ``InboundEmail`` row is written; the caller's
   ``on_stored`` callback runs inside the same transaction (the IMAP fetcher advances its UID checkpoint there,
   so a crash can repeat a fetch but never skip a message). The same Message-ID with the same bytes arriving
   again in the same mailbox is a duplicate: nothing new is created and the first arrival's result is returned.
2. Process. ``parsing.parse_message`` (never raises), ``noise.classify`` refuses noise on purpose (bounce,
   auto-reply, loop, list; plus too large, blocked sender, no sender here), ``dsn.parse_dsn`` reads bounces,
   ``quotes.strip_reply`` decides what the ticket page shows first, then the mail threads onto a ticket or
   opens one. Any exception here rolls processing back and quarantines the row with the error; the raw bytes
   stay, so an admin can process it again after a fix (``reprocess``). Processing is idempotent: a row that is
   no longer "received" or "quarantined" is left alone.

Both steps run in the storing transaction: a refusal decidable from the bytes and the workspace's mailboxes
(noise, no sender, loop, too large; a bounce, whose report is acted on after the INSERT) is inserted with its
outcome; mail to deliver is inserted as "received" and processed (parsed once) before the one commit. An error
while deciding or processing rolls that whole transaction back (nothing of it committed, ``on_stored``'s work
included) and the message is stored and processed in two transactions as above, so the error quarantines the
stored message. Only then, or when the mailbox is gone, does a row commit as "received" before processing.

Decisions (see also threading.py):
- The message's ``body_text`` is the *full* text (searchable, never lost) and ``body_html`` the sanitized full
  HTML. When quote stripping hid something, ``channel_meta["stripped_text"]`` holds what the ticket page shows
  first, with the full body one click away ("Show quoted text"). It lives in channel_meta, not in a column,
  because it is an email-only display hint derived from the full text (re-derivable from the kept raw bytes)
  and the tickets app owns its schema.
- A customer reply to a *closed* ticket opens a follow-up ticket (first message's channel_meta carries
  ``follow_up_of``: the closed ticket's number) and the closed ticket gets a system note pointing at it;
  pending/solved tickets are reopened by ``add_customer_message``.
- A reply from an address that is not on the ticket follows ``Mailbox.unknown_sender_rule``: a new ticket
  (channel_meta ``related_to``) or the sender is added as CC and the message appended.
- An agent writing to the mailbox about a ticket adds an internal note (never a customer-visible reply that
  would be emailed out again); an agent's mail that matches no ticket opens a ticket like anyone's. Mail from
  one of the workspace's own mailbox addresses is refused as "loop".
- Mail that fails DMARC for its From domain is flagged (``dmarc_failed``) and always opens a new ticket.
- A bounce never opens a ticket: permanently failed recipients are marked bouncing, and the ticket whose
  message bounced (found through the returned Message-ID) gets a system note.
- An attachment over DESKLOOP_ATTACHMENT_MAX_BYTES is left out of the message (named in channel_meta
  ``attachments_too_large``; the raw email keeps it) rather than quarantining the whole message.
- Dates: archive imports keep the Date header (so history reads right); live mail uses the arrival time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent, Team, User, Workspace
from deskloop.core.errors import ValidationFailed
from deskloop.core.plain_sql import JoinedRows, insert_row, insert_row_returning, prepared_cursor
from deskloop.customers.models import Contact
from deskloop.customers.queries import identity_with_contact
from deskloop.customers.services import (
    create_contact_for_unknown_email,
    find_or_create_contacts,
    mark_emails_bouncing,
    normalize_email,
)
from deskloop.tickets.attachments import (
    IncomingFile,
    blob_row_insert,
    read_blob,
    safe_filename,
    store_blob,
    write_blob_file,
)
from deskloop.tickets.models import Attachment, Blob, Channel, Message, ProductArea, StatusCategory, Ticket
from deskloop.tickets.services.channel_writes import add_cc_contacts, add_system_note, link_inline_images
from deskloop.tickets.services.messages import add_customer_message, add_internal_note
from deskloop.tickets.services.tickets import NewTicket, open_ticket

from . import threading
from .addresses import Address, normalize_address
from .dsn import DeliveryReport, parse_dsn
from .models import InboundEmail, InboundState, Mailbox, OutboundEmail, UnknownSenderRule
from .noise import classify
from .parsing import ParsedEmail, parse_message
from .quotes import DEFAULT_MARKER, strip_reply

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
    LIST = "list"  # Precedence bulk/junk/list, List-Id, List-Unsubscribe
    BLOCKED_SENDER = "blocked_sender"
    NO_SENDER = "no_sender"


# noise.Verdict.kind -> refusal reason (both vocabularies are the same words today; the map keeps them apart).
_NOISE_REFUSALS = {
    "bounce": Refusal.BOUNCE,
    "auto_reply": Refusal.AUTO_REPLY,
    "loop": Refusal.LOOP,
    "list": Refusal.LIST,
}


class Outcome:
    NEW_TICKET = "new_ticket"
    FOLLOW_UP = "follow_up"
    THREADED = "threaded"


@dataclass(frozen=True)
class MailReading:
    """What the pipeline read from one message, whatever became of it (a refused message has one too)."""

    subject: str
    sender: str  # the From address as written ("" when the mail has none)
    full_text: str  # the whole text body; stored as Message.body_text
    stripped_text: str  # what the ticket page shows first (== full_text when nothing was hidden)
    attachment_names: tuple[str, ...]  # as stored (safe file names), in MIME order
    dmarc_failed: bool

    @property
    def quote_hidden(self) -> bool:
        return self.stripped_text != self.full_text


class DeferredReading:
    """A ``MailReading`` whose texts and attachment names are made when first asked for. A message refused as
    noise (or for want of a sender) is never shown, so they are read only if a caller wants them (tests do; no
    transport does): quote-stripping a long mail costs more CPU than parsing it. Subject and sender are known."""

    __slots__ = ("_make", "_value", "sender", "subject")

    def __init__(self, subject: str, sender: str, make: Callable[[], MailReading]) -> None:
        self.subject = subject
        self.sender = sender
        self._make: Callable[[], MailReading] | None = make
        self._value: MailReading | None = None

    @classmethod
    def ready(cls, reading: MailReading) -> DeferredReading:
        deferred = cls(reading.subject, reading.sender, lambda: reading)
        deferred._value, deferred._make = reading, None
        return deferred

    def get(self) -> MailReading:
        if self._value is None:
            assert self._make is not None  # set until the value is made
            self._value = self._make()
            self._make = None
        return self._value


_NO_READING: MailReading = MailReading("", "", "", "", (), False)


@dataclass(frozen=True)
class IngestResult:
    """What became of one delivery. ``duplicate`` means these bytes had arrived before; the fields then describe
    the first arrival (nothing new was created). The reading fields come from this run's parse, or, for a
    duplicate, from what the first arrival stored (texts and attachments only when it became a message); for a
    refused message they are read when first asked for (``DeferredReading``)."""

    inbound_id: int
    state: str
    refusal_reason: str
    outcome: str
    ticket_id: int | None
    ticket_number: int | None
    duplicate: bool = False
    subject: str = ""
    sender: str = ""
    detail: str = ""
    reading: DeferredReading = field(
        default_factory=lambda: DeferredReading.ready(_NO_READING), repr=False, compare=False
    )

    @property
    def full_text(self) -> str:
        return self.reading.get().full_text

    @property
    def stripped_text(self) -> str:
        return self.reading.get().stripped_text

    @property
    def attachment_names(self) -> tuple[str, ...]:
        return self.reading.get().attachment_names

    @property
    def dmarc_failed(self) -> bool:
        return self.reading.get().dmarc_failed

    @classmethod
    def of(
        cls, inbound: InboundEmail, *, duplicate: bool = False, reading: MailReading | DeferredReading | None = None
    ) -> IngestResult:
        number = None
        if inbound.ticket_id is not None:
            # Processing leaves the ticket it used on the row; only a duplicate's first arrival needs a query.
            cached = InboundEmail.ticket.is_cached(inbound)
            number = (
                inbound.ticket.number
                if cached and inbound.ticket is not None
                else Ticket.objects.filter(pk=inbound.ticket_id).values_list("number", flat=True).first()
            )
        if reading is None:
            reading = _stored_reading(inbound)
        deferred = reading if isinstance(reading, DeferredReading) else DeferredReading.ready(reading)
        return cls(
            inbound_id=inbound.pk,
            state=inbound.state,
            refusal_reason=inbound.refusal_reason,
            outcome=inbound.outcome,
            ticket_id=inbound.ticket_id,
            ticket_number=number,
            duplicate=duplicate,
            subject=deferred.subject,
            sender=deferred.sender,
            detail=inbound.detail,
            reading=deferred,
        )


def _stored_reading(inbound: InboundEmail) -> MailReading:
    message = Message.objects.filter(pk=inbound.message_id).first() if inbound.message_id else None
    if message is None:
        return MailReading(inbound.subject, inbound.sender, "", "", (), False)
    names = tuple(Attachment.objects.filter(message=message).order_by("id").values_list("filename", flat=True))
    meta = message.channel_meta or {}
    return MailReading(
        subject=inbound.subject,
        sender=inbound.sender,
        full_text=message.body_text,
        stripped_text=str(meta.get("stripped_text") or message.body_text),
        attachment_names=names,
        dmarc_failed=bool(meta.get("dmarc_failed")),
    )


# ---------------------------------------------------------------------------------------------------- storing


# Where a header block ends: the first empty line, lines ending in CRLF, CR or LF as the stdlib parser splits them.
_HEADER_BLOCK_END = re.compile(rb"\n\n|\n\r|\r\r")


def header_message_id(raw: bytes, sha256: str) -> str:
    """The Message-ID (without brackets) read from the header block alone, or a synthetic one derived from the
    bytes when the mail has none, so dedupe still works. Never raises."""
    head = raw[:262144]
    # The parser takes the headers from the lines before the first empty line; what follows it is body, so it is
    # not handed over (the same headers, without splitting a long body into lines for nothing).
    end = _HEADER_BLOCK_END.search(head)
    if end is not None:
        head = head[: end.end()]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head)
        value = str(headers.get("Message-ID", "") or "")
    except Exception:  # a broken header block must not stop the mail from being stored
        value = ""
    value = "".join(ch for ch in value if ch.isprintable()).strip()
    found = threading.normalize_message_id(value.split()[0] if value.split() else "")
    return found[:990] if found else f"no-message-id.{sha256[:40]}@deskloop.invalid"


def _store(
    *, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None
) -> tuple[InboundEmail, bool]:
    """Store in a transaction of its own (the path taken when deciding while storing failed; see ingest_raw)."""
    sha256 = hashlib.sha256(raw).hexdigest()
    message_id = header_message_id(raw, sha256)
    # File I/O before the transaction: the blob is content-addressed, so a crash here leaves only an unreferenced
    # file that the next delivery of the same bytes reuses (and a duplicate finds its blob stored already).
    store_blob(raw, sha256=sha256)
    with transaction.atomic():
        inbound = _insert_received(mailbox, sha256, message_id, via)
        if on_stored is not None:
            # Runs for duplicates too: a message delivered twice must still move the IMAP checkpoint past it.
            on_stored()
        if inbound is None:
            # The same bytes arrived before (or a concurrent delivery won the race): this one is the duplicate.
            return _first_arrival(mailbox, message_id, sha256), True
    return inbound, False


def _first_arrival(mailbox: Mailbox, message_id: str, sha256: str) -> InboundEmail:
    return InboundEmail.objects.get(mailbox_id=mailbox.pk, header_message_id=message_id, raw_sha256=sha256)


# The row's fields by attribute name ("ticket_id"), for the processing UPDATE below.
_INBOUND_FIELDS: dict[str, models.Field[Any, Any]] = {
    f.attname: f for f in InboundEmail._meta.concrete_fields if isinstance(f, models.Field)
}


def _insert_received(mailbox: Mailbox, sha256: str, message_id: str, via: str) -> InboundEmail | None:
    """INSERT the new row ("received"); None when these bytes are stored for this mailbox already. One statement
    (``ON CONFLICT DO NOTHING ... RETURNING``): no savepoint."""
    inbound = InboundEmail(
        workspace_id=mailbox.workspace_id,
        mailbox=mailbox,
        raw_id=sha256,
        raw_sha256=sha256,
        header_message_id=message_id,
        received_via=via,
    )
    return inbound if insert_row(inbound, ignore_conflicts=True) else None


def _write_processing(inbound: InboundEmail, *, only_open: bool) -> bool:
    """UPDATE what processing changed on the row (``_PROCESSING_FIELDS``); ``only_open``: only while the row is
    still "received"/"quarantined". Returns whether the row was written."""
    fields = [_INBOUND_FIELDS[name] for name in _PROCESSING_FIELDS]
    quote = connection.ops.quote_name
    params: list[Any] = [f.get_db_prep_save(getattr(inbound, f.attname), connection) for f in fields]
    condition = f"{quote(InboundEmail._meta.pk.column)} = %s"
    params.append(inbound.pk)
    if only_open:
        condition += f" AND {quote('state')} IN (%s, %s)"
        params.extend(_OPEN_STATES)
    sql = (
        f"UPDATE {quote(InboundEmail._meta.db_table)} "  # noqa: S608
        f"SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE {condition}"
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount)


class _DecideApart(Exception):
    """Deciding a message in its storing transaction failed; that transaction is rolled back, and the message is
    stored and processed in two steps instead, so the error quarantines the stored message as always."""


def ingest_raw(*, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None = None) -> IngestResult:
    """Store, dedupe and process one raw RFC 822 message; see the module docstring. Raises only if storing
    fails (database or storage down) or ``on_stored`` raises; processing errors quarantine the message.

    A message is stored and processed in one transaction (a refusal inserted with its outcome, mail to deliver
    inserted and then processed, parsed once); only when that fails is it stored, committed as "received" and
    processed in a second transaction, where the error quarantines it."""
    if via not in VIAS:
        raise ValueError(f"unknown ingest path {via!r}")
    raw = bytes(raw)
    try:
        stored = _store_and_decide(mailbox=mailbox, raw=raw, via=via, on_stored=on_stored)
    except _DecideApart:
        inbound, duplicate = _store(mailbox=mailbox, raw=raw, via=via, on_stored=on_stored)
        if duplicate:
            return IngestResult.of(inbound, duplicate=True)
        processed, reading = _run(inbound=inbound, raw=raw, fresh=True)
        return IngestResult.of(processed, reading=reading)
    if isinstance(stored, IngestResult):
        return stored
    inbound, duplicate, decision = stored
    if duplicate:
        return IngestResult.of(inbound, duplicate=True)
    processed, reading = _run(inbound=inbound, raw=raw, fresh=True, decided=decision)
    return IngestResult.of(processed, reading=reading)


def _store_and_decide(
    *, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None
) -> IngestResult | tuple[InboundEmail, bool, _Decision | None]:
    """Store the message and, in the same transaction, decide what needs no more than the message and the
    workspace's mailboxes. A refusal is inserted as such (a bounce's report is acted on after the INSERT, so a
    duplicate never marks anyone twice); mail to deliver is inserted as "received" and processed; either way its
    IngestResult is returned. A duplicate, or a row whose mailbox is gone, is returned as (row, duplicate, None).
    Raises ``_DecideApart`` (everything here rolled back) when deciding or processing fails."""
    sha256 = hashlib.sha256(raw).hexdigest()
    message_id = header_message_id(raw, sha256)
    inbound = InboundEmail(
        workspace_id=mailbox.workspace_id,
        mailbox=mailbox,
        raw_id=sha256,
        raw_sha256=sha256,
        header_message_id=message_id,
        received_via=via,
    )
    with transaction.atomic():
        # The blob's file is written before its row (in this transaction, so no commit of its own), and a crash
        # leaves only an unreferenced file that the next delivery of the same bytes reuses.
        blob = write_blob_file(raw, sha256=sha256)
        try:
            decision, mailboxes = _decide_while_storing(inbound, raw)
            refused = decision is not None and bool(decision.refusal)
            bounce = None
            if decision is not None and refused:
                bounce = _apply_refusal(inbound, decision, act=False)
                inbound.processed_at = timezone.now()
                inbound.detail = inbound.detail[:DETAIL_MAX]
        except Exception as exc:  # processing's errors are handled by the two-step path (quarantine)
            raise _DecideApart from exc
        # The row goes in with its outcome when there is one: one INSERT, no UPDATE.
        inserted = _insert_with_blob(inbound, blob, mailboxes)
        if on_stored is not None:
            # Runs for duplicates too: a message delivered twice must still move the IMAP checkpoint past it.
            on_stored()
        if not inserted:
            return _first_arrival(mailbox, message_id, sha256), True, None
        if decision is not None and refused:
            if bounce is not None:
                try:
                    if _act_on_bounce(inbound, bounce):
                        inbound.detail = inbound.detail[:DETAIL_MAX]
                        _write_processing(inbound, only_open=False)
                except Exception as exc:
                    raise _DecideApart from exc
            return IngestResult.of(inbound, reading=decision.reading)
        if decision is None:
            return inbound, False, None  # the mailbox is gone: processing (its own transaction) reports it
        # Mail to deliver is processed in the storing transaction too: one commit. An error rolls it all back
        # (nothing was committed, on_stored's checkpoint included) and the two-step path stores the message and
        # processes it again, so the error quarantines the stored message as always.
        read: list[DeferredReading] = []
        try:
            _process_open_row(inbound, raw, read, decision)
        except Exception as exc:
            raise _DecideApart from exc
        return IngestResult.of(inbound, reading=read[0] if read else None)


# (id, address, max_message_bytes) of a workspace's mailboxes, ordered by id.
_MailboxRows = list[tuple[int, str, int]]

# What this process last read of each workspace's mailboxes (PostgreSQL only). A message is decided with it, and the
# INSERT storing the message returns the mailboxes as they are at that moment (``_mailboxes_now``); if they
# differ, the transaction is rolled back and the message goes the two-step way, which reads everything fresh.
# So a changed mailbox (a new size limit, a new address that makes mail from it a loop) is never decided with
# stale values, and an unchanged one costs no SELECT per message (1,266 of them, a round trip each, in the
# ingest bench). SQLite, in-process, reads them for every message.
_MAILBOXES_SEEN: dict[tuple[str, int], _MailboxRows] = {}


def _mailboxes_now(quote: Callable[[str], str]) -> str:
    """A scalar subquery: the workspace's mailboxes as one text, in the form ``_mailbox_fingerprint`` writes."""
    return (
        f"SELECT string_agg({quote('id')}::text || ',' || {quote('max_message_bytes')}::text || ',' || "  # noqa: S608
        f"{quote('address')}, E'\\n' ORDER BY {quote('id')}) "
        f"FROM {quote(Mailbox._meta.db_table)} WHERE {quote('workspace_id')} = %s"
    )


def _mailbox_fingerprint(rows: _MailboxRows) -> str:
    return "\n".join(f"{pk},{max_bytes},{address}" for pk, address, max_bytes in rows)


class _MailboxesChanged(_DecideApart):
    """The workspace's mailboxes changed since this process last read them; the message is decided again."""


def _insert_with_blob(inbound: InboundEmail, blob: Blob, mailboxes: _MailboxRows) -> bool:
    """INSERT the raw message's blob row (unless stored before) and ``inbound`` (unless a duplicate); whether
    ``inbound`` was inserted. On PostgreSQL one statement: the blob's INSERT rides along as a data-modifying
    WITH (foreign keys are checked at commit), and the mailboxes the message was decided with are checked against
    the current ones (``_MAILBOXES_SEEN``), a round trip less for each of the two."""
    blob_row = blob_row_insert(blob)
    if connection.vendor == "postgresql":
        inserted, current = insert_row_returning(
            inbound,
            ignore_conflicts=True,
            along=blob_row,
            returning=(_mailboxes_now(connection.ops.quote_name), [inbound.workspace_id]),
        )
        if inserted and current != _mailbox_fingerprint(mailboxes):
            _MAILBOXES_SEEN.pop((connection.alias, inbound.workspace_id), None)
            raise _MailboxesChanged
        return inserted
    with connection.cursor() as cursor:
        cursor.execute(*blob_row)
    return insert_row(inbound, ignore_conflicts=True)


def _decide_while_storing(inbound: InboundEmail, raw: bytes) -> tuple[_Decision | None, _MailboxRows]:
    """The decision from the message and the workspace's mailboxes (what they are called, how large a message
    each accepts: mail from any of them is a loop), and the mailboxes it was made with."""
    rows = _workspace_mailbox_rows(inbound.workspace_id, inbound.mailbox_id)
    limit = next((int(max_bytes) for pk, _address, max_bytes in rows if pk == inbound.mailbox_id), None)
    if limit is None:
        return None, rows  # the mailbox is gone: processing reports it
    return _decide(raw, limit, {normalize_address(address) for _pk, address, _max in rows}), rows


def _workspace_mailbox_rows(workspace_id: int, mailbox_id: int) -> _MailboxRows:
    """The workspace's mailboxes as this process last read them (PostgreSQL: checked when the message is stored),
    read again when unknown or without the message's mailbox."""
    key = (connection.alias, workspace_id)
    known = _MAILBOXES_SEEN.get(key) if connection.vendor == "postgresql" else None
    if known is not None and any(pk == mailbox_id for pk, _address, _max in known):
        return known
    quote = connection.ops.quote_name
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')}, {quote('address')}, {quote('max_message_bytes')} "  # noqa: S608
            f"FROM {quote(Mailbox._meta.db_table)} WHERE {quote('workspace_id')} = %s ORDER BY {quote('id')}",
            [workspace_id],
        )
        rows: _MailboxRows = [(int(pk), str(address), int(max_bytes)) for pk, address, max_bytes in cursor.fetchall()]
    if connection.vendor == "postgresql":
        _MAILBOXES_SEEN[key] = rows
    return rows


def reprocess(*, inbound: InboundEmail) -> IngestResult:
    """Process a stored message again (the quarantine's "Process again"). A processed or refused message is
    left as it is, so clicking twice, or retrying a message that made it meanwhile, changes nothing."""
    processed, reading = _run(inbound=inbound)
    return IngestResult.of(processed, reading=reading)


# ---------------------------------------------------------------------------------------------------- processing


def process(*, inbound: InboundEmail, raw: bytes | None = None) -> InboundEmail:
    """Process a stored message (see the module docstring). Never raises for a bad message."""
    return _run(inbound=inbound, raw=raw)[0]


class _ProcessedMeanwhile(Exception):
    """Another worker finished this row while this one processed it: this run's writes are rolled back."""


_OPEN_STATES = (InboundState.RECEIVED, InboundState.QUARANTINED)


def _mailboxes_tail(quote: Callable[[str], str]) -> str:
    def table(model: type[models.Model]) -> str:
        return quote(model._meta.db_table)

    return (
        f"FROM {table(Mailbox)} m INNER JOIN {table(Workspace)} w ON w.{quote('id')} = m.{quote('workspace_id')} "
        f"LEFT JOIN {table(Team)} t ON t.{quote('id')} = m.{quote('default_team_id')} "
        f"LEFT JOIN {table(ProductArea)} p ON p.{quote('id')} = m.{quote('default_product_area_id')} "
        f"WHERE m.{quote('workspace_id')} = %s ORDER BY m.{quote('id')}"
    )


# The workspace's mailboxes with what a new ticket needs from them (workspace, default team and product area).
_MAILBOXES = JoinedRows([(Mailbox, "m"), (Workspace, "w"), (Team, "t"), (ProductArea, "p")], _mailboxes_tail)


def _workspace_mailboxes(workspace_id: int) -> list[Mailbox]:
    mailboxes: list[Mailbox] = []
    for mailbox, workspace, team, product_area in _MAILBOXES.fetch([workspace_id]):
        mailbox.workspace = workspace
        mailbox.default_team = team
        mailbox.default_product_area = product_area
        mailboxes.append(mailbox)
    return mailboxes


def _run(
    *, inbound: InboundEmail, raw: bytes | None = None, fresh: bool = False, decided: _Decision | None = None
) -> tuple[InboundEmail, DeferredReading | None]:
    """``fresh``: ``inbound`` was stored by this very call (``ingest_raw``), so it is not read again: the final
    UPDATE is conditional on the row still being open instead of a row lock taken first. Another worker (the
    sweep, a duplicate's delivery) that locked and finished the row meanwhile makes that UPDATE match nothing,
    and this run's writes are rolled back, as if it had found the row done. ``decided``: what the storing
    transaction decided from the same bytes (the message is not parsed again)."""
    read: list[DeferredReading] = []  # filled as soon as the message is parsed, so a quarantine still names it
    try:
        with transaction.atomic():
            if fresh:
                target = inbound
            else:
                target = InboundEmail.objects.select_for_update(of=("self",)).select_related("raw").get(pk=inbound.pk)
                if target.state not in _OPEN_STATES:
                    return target, None
            if raw is None:
                raw = read_blob(target.raw)
            _process_open_row(target, raw, read, decided)
            return target, (read[0] if read else None)
    except _ProcessedMeanwhile:
        return InboundEmail.objects.get(pk=inbound.pk), None
    except Exception as exc:  # one bad message must never block the rest; it goes to quarantine
        log.warning("inbound email %s quarantined: %s", inbound.pk, exc, exc_info=True)
        named: dict[str, str] = {}
        if read:
            named = {"subject": read[0].subject[:500], "sender": read[0].sender[:320]}
        InboundEmail.objects.filter(pk=inbound.pk).update(
            state=InboundState.QUARANTINED,
            refusal_reason="",
            outcome="",
            detail=_error_summary(exc),
            processed_at=timezone.now(),
            **named,
        )
        return InboundEmail.objects.get(pk=inbound.pk), (read[0] if read else None)


def _process_open_row(target: InboundEmail, raw: bytes, read: list[DeferredReading], decided: _Decision | None) -> None:
    """Process a row that is still open, in the caller's transaction, and write the result to it."""
    # The workspace's mailboxes in one query: this one read again (its settings may have changed since
    # delivery) with what a new ticket needs from it, and all their addresses (mail from them is a loop).
    mailboxes = _workspace_mailboxes(target.workspace_id)
    target.mailbox = next(m for m in mailboxes if m.pk == target.mailbox_id)
    own_addresses = {normalize_address(m.address) for m in mailboxes}
    _process(target, raw, read, own_addresses, decided)
    target.processed_at = timezone.now()
    target.detail = target.detail[:DETAIL_MAX]
    if not _write_processing(target, only_open=True):
        raise _ProcessedMeanwhile


# What processing may change on an InboundEmail row (the stored raw, ids and arrival stay as they are).
_PROCESSING_FIELDS = [
    "state",
    "refusal_reason",
    "outcome",
    "detail",
    "subject",
    "sender",
    "ticket_id",
    "message_id",
    "processed_at",
]


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


@dataclass(frozen=True)
class _Mail:
    """One parsed message with the pipeline's decisions about it."""

    parsed: ParsedEmail
    reading: MailReading
    html: str  # the HTML body as received (sanitized by the message services when stored)
    attachments: list[IncomingFile]
    too_large: list[str]


def read_message(parsed: ParsedEmail) -> MailReading:
    """The pipeline's reading of a parsed message (pure: no database). See ``MailReading``."""
    return _read(parsed, strip=True).reading


def _read(parsed: ParsedEmail, *, strip: bool) -> _Mail:
    """``strip``: decide what the ticket page shows first. Refused noise is never shown, so it is not stripped
    (its stripped_text is its full text): quote stripping costs more CPU than parsing, and bounces are long."""
    # NUL bytes carry no meaning in mail text and PostgreSQL refuses them in text columns.
    text = parsed.text.replace("\x00", "")
    html = parsed.html.replace("\x00", "")
    full_text = text if text.strip() else ""  # whitespace alone is no text (a placeholder is stored)
    stripped_text = full_text
    if strip:
        stripped = strip_reply(text, html or None, marker=DEFAULT_MARKER)
        hidden = bool(stripped.quoted_text.strip() or stripped.signature.strip())
        # Show the stripped reply only when stripping hid something and left something: a mail that is all quote
        # (a forward without a word) is shown whole.
        if hidden and stripped.visible_text.strip():
            stripped_text = stripped.visible_text
    limit = settings.DESKLOOP_ATTACHMENT_MAX_BYTES
    attachments: list[IncomingFile] = []
    too_large: list[str] = []
    for part in parsed.attachments:
        name = safe_filename(part.filename)
        if part.size > limit:
            too_large.append(name)
            continue
        attachments.append(
            IncomingFile(
                filename=name, content=part.content, content_type=part.content_type, content_id=part.content_id
            )
        )
    reading = MailReading(
        subject=parsed.subject,
        sender=parsed.from_.address if parsed.from_ is not None else "",
        full_text=full_text,
        stripped_text=stripped_text,
        attachment_names=tuple(a.filename for a in attachments),
        dmarc_failed=_dmarc_failed(parsed),
    )
    return _Mail(parsed=parsed, reading=reading, html=html, attachments=attachments, too_large=too_large)


def _dmarc_failed(parsed: ParsedEmail) -> bool:
    """DMARC failed for the domain the From header claims (a verdict about another domain says nothing)."""
    auth = parsed.authentication
    if auth.dmarc != "fail":
        return False
    claimed = parsed.from_.domain if parsed.from_ is not None else ""
    checked = auth.header_from.strip().lower().rstrip(".")
    return not checked or not claimed or claimed == checked or claimed.endswith("." + checked)


class _Reader:
    """``_read`` of one parsed message, made once and only when needed."""

    def __init__(self, parsed: ParsedEmail, *, strip: bool) -> None:
        self.parsed = parsed
        self.strip = strip
        self._mail: _Mail | None = None

    def mail(self) -> _Mail:
        if self._mail is None:
            self._mail = _read(self.parsed, strip=self.strip)
        return self._mail


@dataclass(frozen=True)
class _Decision:
    """What a message is, decided from its bytes and the workspace's mailboxes alone (no other query):
    ``refusal`` names why it is refused ("" when it is to be delivered; a bounce is refused after its report is
    read); ``sender_address`` is who it is from when it is delivered."""

    limit: int  # the mailbox's largest accepted message, and
    own_addresses: frozenset[str]  # the workspace's mailbox addresses this was decided with
    refusal: str
    detail: str
    parsed: ParsedEmail | None  # None when refused before parsing (too large)
    reader: _Reader | None
    reading: DeferredReading | None
    sender_address: str | None = None


def _decide(raw: bytes, limit: int, own_addresses: set[str], parsed: ParsedEmail | None = None) -> _Decision:
    own = frozenset(own_addresses)
    if len(raw) > limit:
        detail = _("The message is %(size)d bytes; this mailbox accepts up to %(limit)d.") % {
            "size": len(raw),
            "limit": limit,
        }
        return _Decision(limit, own, Refusal.TOO_LARGE, detail, None, None, None)
    if parsed is None:
        parsed = parse_message(raw)
    verdict = classify(parsed, loop_marker=threading.LOOP_MARKER, own_addresses=own_addresses)
    reader = _Reader(parsed, strip=not verdict.is_noise)
    sender = parsed.from_.address if parsed.from_ is not None else ""
    reading = DeferredReading(parsed.subject, sender, lambda: reader.mail().reading)
    if verdict.kind == "bounce":
        return _Decision(limit, own, Refusal.BOUNCE, verdict.reason, parsed, reader, reading)
    if verdict.is_noise:
        return _Decision(limit, own, _NOISE_REFUSALS[verdict.kind], verdict.reason, parsed, reader, reading)
    sender_address = next(
        (
            usable
            for candidate in (parsed.from_, *parsed.reply_to, parsed.sender)
            if candidate is not None and (usable := _usable_address(candidate.address)) is not None
        ),
        None,
    )
    if sender_address is None:
        no_sender = _("The message has no usable sender address.")
        return _Decision(limit, own, Refusal.NO_SENDER, no_sender, parsed, reader, reading)
    if sender_address in own_addresses:
        # Our own mailbox writing to itself (through Reply-To or Sender): an MTA or a forwarding rule loops.
        loop = _("The sender is one of this workspace's mailboxes.")
        return _Decision(limit, own, Refusal.LOOP, loop, parsed, reader, reading)
    return _Decision(limit, own, "", "", parsed, reader, reading, sender_address)


def _apply_refusal(inbound: InboundEmail, decision: _Decision, *, act: bool = True) -> _Bounce | None:
    """Write a refusal the decision made onto ``inbound``. A bounce's report is read, and acted on when ``act``
    (marking recipients, noting the ticket); otherwise it is returned for ``_act_on_bounce`` to act on later."""
    inbound.detail = ""
    if decision.reading is not None:
        inbound.subject = decision.reading.subject[:500]
        inbound.sender = decision.reading.sender[:320]
    if decision.refusal == Refusal.BOUNCE and decision.parsed is not None:
        bounce = _read_bounce(decision.parsed, decision.detail)
        _refuse(inbound, Refusal.BOUNCE, bounce.detail)
        if act:
            _act_on_bounce(inbound, bounce)
            return None
        return bounce
    _refuse(inbound, decision.refusal, decision.detail)
    return None


def _process(
    inbound: InboundEmail, raw: bytes, read: list[DeferredReading], own_addresses: set[str], decided: _Decision | None
) -> None:
    mailbox = inbound.mailbox
    workspace = mailbox.workspace
    inbound.detail = ""
    if decided is not None and (decided.limit, decided.own_addresses) == (
        mailbox.max_message_bytes,
        frozenset(own_addresses),
    ):
        decision = decided
    else:
        # Decided afresh: first processing of a stored row, or the mailboxes changed since the message was stored.
        decision = _decide(raw, mailbox.max_message_bytes, own_addresses, decided.parsed if decided else None)
    if decision.refusal:
        if decision.reading is not None:
            read.append(decision.reading)
        _apply_refusal(inbound, decision)
        return
    # Delivered, so parsed and with a sender:
    assert decision.reader is not None
    assert decision.reading is not None
    assert decision.sender_address is not None
    mail = decision.reader.mail()
    read.append(decision.reading)
    inbound.subject = mail.parsed.subject[:500]
    inbound.sender = mail.reading.sender[:320]
    sender_address = decision.sender_address
    # With the organization: a ticket opened for this contact indexes its name (search.index_written_ticket).
    identity = identity_with_contact(workspace.pk, sender_address)
    if identity is not None and identity.contact.is_blocked:
        _refuse(inbound, Refusal.BLOCKED_SENDER)
        return
    agents = _Agents.of(workspace)
    _deliver(
        inbound,
        mailbox,
        workspace,
        mail,
        sender_address,
        identity.contact if identity else None,
        agents,
        own_addresses,
    )


@dataclass(frozen=True)
class _Agents:
    """The workspace's agents' addresses, read once per message: whether the sender is an (active) agent, and
    whom not to copy on a ticket (every agent, active or not)."""

    active_by_email: dict[str, int]  # lower-cased address -> agent id (the lowest id when several share it)
    emails: frozenset[str]

    @classmethod
    def of(cls, workspace: Workspace) -> _Agents:
        active: dict[str, int] = {}
        emails: set[str] = set()
        quote = connection.ops.quote_name
        agent, user = Agent._meta, User._meta
        with prepared_cursor() as cursor:
            # A plain statement: the ORM's values_list of the same join costs several times its round trip in CPU.
            cursor.execute(
                f"SELECT a.{quote(agent.pk.column)}, u.{quote('email')}, a.{quote('is_active')} "  # noqa: S608
                f"FROM {quote(agent.db_table)} a INNER JOIN {quote(user.db_table)} u "
                f"ON u.{quote(user.pk.column)} = a.{quote('user_id')} "
                f"WHERE a.{quote('workspace_id')} = %s ORDER BY a.{quote(agent.pk.column)}",
                [workspace.pk],
            )
            rows = cursor.fetchall()
        for pk, address, is_active in rows:
            lowered = (address or "").lower()
            emails.add(lowered)
            if is_active:
                active.setdefault(lowered, pk)
        return cls(active_by_email=active, emails=frozenset(emails))

    def agent_id(self, address: str) -> int | None:
        return self.active_by_email.get(address.lower())


def _usable_address(address: str) -> str | None:
    try:
        return normalize_email(address)
    except ValidationFailed:
        return None


def _when(inbound: InboundEmail, parsed: ParsedEmail) -> dt.datetime:
    now = timezone.now()
    if inbound.received_via == "import" and parsed.date is not None and parsed.date <= now:
        return parsed.date
    return now


def _deliver(
    inbound: InboundEmail,
    mailbox: Mailbox,
    workspace: Workspace,
    mail: _Mail,
    sender: str,
    contact: Contact | None,
    agents: _Agents,
    own_addresses: set[str],
) -> None:
    parsed = mail.parsed
    meta = _channel_meta(inbound, mailbox, mail)
    when = _when(inbound, parsed)
    match = threading.find_ticket(
        mailbox=mailbox,
        workspace=workspace,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
        subject=parsed.subject,
        requester_id=contact.pk if contact else None,
        now=when,
    )
    if match is not None and mail.reading.dmarc_failed:
        # A message failing DMARC may not be who it claims; it never joins an existing conversation by itself.
        meta["unthreaded_from"] = match.ticket.number
        match = None
    body_text = _text_or_placeholder(mail)
    agent_id = agents.agent_id(sender)
    if match is not None and agent_id is not None:
        message = add_internal_note(
            ticket=match.ticket,
            agent=Agent.objects.get(pk=agent_id),
            body_text=body_text,
            body_html=mail.html,
            attachments=mail.attachments,
            via="email",
        )
        _finish(inbound, match.ticket, message, Outcome.THREADED)
        return
    if contact is None:
        name = parsed.from_.name if parsed.from_ is not None and parsed.from_.normalized == sender else ""
        # The sender's address was looked up in _process and no contact has it: create one without asking again.
        contact = create_contact_for_unknown_email(workspace=workspace, email=sender, name=name)
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
                body_text=body_text,
                body_html=mail.html,
                channel=Channel.EMAIL,
                attachments=mail.attachments,
                created_at=when,
                channel_meta=meta,
                via="email",
            )
            link_inline_images(message=message)
            _add_ccs(ticket, workspace, parsed, sender, own_addresses, agents)
            _finish(inbound, ticket, message, Outcome.THREADED)
            return
    # The copied recipients are found or created first, so the ticket is opened with them (no CC statements of
    # their own); the first message comes back with the ticket: no read-back.
    copied = _cc_contacts(workspace, parsed, sender, own_addresses, agents)
    ticket, first = open_ticket(
        workspace=workspace,
        ticket=NewTicket(
            requester=contact,
            subject=parsed.subject.strip() or _("(no subject)"),
            body_text=body_text,
            body_html=mail.html,
            channel=Channel.EMAIL,
            team=mailbox.default_team,
            product_area=mailbox.default_product_area,
            attachments=mail.attachments,
            created_at=when,
            channel_meta=meta,
            cc_contacts=copied,
        ),
        via="email",
    )
    if first is not None:
        link_inline_images(message=first)
    if "follow_up_of" in meta and match is not None:
        add_system_note(
            ticket=match.ticket,
            body_text=_("The customer wrote again after this ticket was closed; follow-up: #%(number)s.")
            % {"number": ticket.number},
            via="email",
        )
    _finish(inbound, ticket, first, Outcome.FOLLOW_UP if "follow_up_of" in meta else Outcome.NEW_TICKET)


def _text_or_placeholder(mail: _Mail) -> str:
    """The full text body; a placeholder when it is empty (the parser already made text from HTML-only mail),
    so the message is never blank."""
    if mail.reading.full_text.strip():
        return mail.reading.full_text
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


def _add_ccs(
    ticket: Ticket, workspace: Workspace, parsed: ParsedEmail, sender: str, own_addresses: set[str], agents: _Agents
) -> None:
    """Everyone else the customer wrote to (To and Cc, minus our mailboxes and agents) follows the conversation."""
    contacts = _cc_contacts(workspace, parsed, sender, own_addresses, agents)
    if contacts:
        add_cc_contacts(ticket=ticket, contacts=contacts, via="email")


def _cc_contacts(
    workspace: Workspace, parsed: ParsedEmail, sender: str, own_addresses: set[str], agents: _Agents
) -> list[Contact]:
    """The contacts of everyone else the customer wrote to (To and Cc, minus our mailboxes and agents), found or
    created."""
    recipients: list[Address] = [*parsed.to, *parsed.cc]
    if not recipients:
        return []
    agent_emails = agents.emails
    wanted: list[tuple[str, str]] = []
    seen = {sender} | own_addresses | agent_emails
    for recipient in recipients:
        usable = _usable_address(recipient.address)
        if usable is None or usable in seen:
            continue
        seen.add(usable)
        wanted.append((usable, recipient.name))
    # The known ones in one query, the others created.
    return find_or_create_contacts(workspace=workspace, wanted=wanted[:MAX_CC_CONTACTS])


def _channel_meta(inbound: InboundEmail, mailbox: Mailbox, mail: _Mail) -> dict[str, Any]:
    parsed = mail.parsed
    auth = parsed.authentication
    meta: dict[str, Any] = {
        # A mail without a Message-ID is known by the synthetic id dedupe stored for it.
        "message_id": inbound.header_message_id if parsed.message_id_synthesized else parsed.message_id[:990],
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references[-50:]),
        "auth": {
            name: value for name, value in (("spf", auth.spf), ("dkim", auth.dkim), ("dmarc", auth.dmarc)) if value
        },
        "mailbox": mailbox.address,
        "inbound_email": inbound.pk,
        "from": mail.reading.sender,
        "to": [a.address for a in parsed.to][:MAX_CC_CONTACTS],
        "cc": [a.address for a in parsed.cc][:MAX_CC_CONTACTS],
    }
    if mail.reading.quote_hidden:
        meta["stripped_text"] = mail.reading.stripped_text
    if mail.reading.dmarc_failed:
        meta["dmarc_failed"] = True
    if mail.too_large:
        meta["attachments_too_large"] = mail.too_large
    return meta


@dataclass(frozen=True)
class _Bounce:
    """What a delivery status notification says (read from the message alone)."""

    report: DeliveryReport
    failed: list[str]  # the permanently failed recipients' usable addresses, in report order
    detail: str  # why it is a bounce and each recipient's line, as InboundEmail.detail shows it


def _read_bounce(parsed: ParsedEmail, why: str) -> _Bounce:
    report = parse_dsn(parsed)
    failed = [
        usable
        for recipient in report.recipients
        if recipient.is_permanent and (usable := _usable_address(recipient.address)) is not None
    ]
    lines = [why] + [
        f"{r.address}: {r.action} {r.status}".rstrip() + (f" ({r.diagnostic[:200]})" if r.diagnostic else "")
        for r in report.recipients
    ]
    return _Bounce(report, failed, "\n".join(lines)[:DETAIL_MAX])


def _act_on_bounce(inbound: InboundEmail, bounce: _Bounce) -> bool:
    """A bounce never opens a ticket: mark the permanently failed recipients as bouncing and tell the ticket
    whose message bounced. Returns whether ``inbound`` changed (a ticket linked, addresses named as marked)."""
    known = (
        mark_emails_bouncing(workspace_id=inbound.workspace_id, emails=bounce.failed, since=timezone.now())
        if bounce.failed
        else set()
    )
    marked = [address for address in bounce.failed if address in known]
    ticket = _ticket_of_bounced_message(inbound.workspace_id, bounce.report.original_message_id)
    if ticket is not None:
        add_system_note(ticket=ticket, body_text=_bounce_note(bounce.report), via="email")
        inbound.ticket = ticket
    if marked:
        inbound.detail = (inbound.detail + "\n" + _("Marked as bouncing: %(list)s") % {"list": ", ".join(marked)})[
            :DETAIL_MAX
        ]
    return ticket is not None or bool(marked)


def _bounce_note(report: DeliveryReport) -> str:
    failed = report.failed or report.recipients
    recipients = ", ".join(r.address for r in failed) or _("an unknown recipient")
    reason = next((r.diagnostic or r.status for r in failed if r.diagnostic or r.status), "") or _("no reason given")
    if failed and all(r.action == "delayed" for r in failed):
        return _("Delivery of an email about this ticket to %(recipients)s is delayed: %(reason)s") % {
            "recipients": recipients,
            "reason": reason,
        }
    return _("An email about this ticket could not be delivered to %(recipients)s: %(reason)s") % {
        "recipients": recipients,
        "reason": reason,
    }


def _ticket_of_bounced_message(workspace_id: int, original_message_id: str) -> Ticket | None:
    key = threading.normalize_message_id(original_message_id)
    if not key:
        return None
    if threading.is_ours(key):
        # Our own Message-IDs name their ticket, signed: no lookup needed, and a forged one names none.
        ticket_id = threading.verify_message_id(key)
        return Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id).first() if ticket_id is not None else None
    # One plain statement for both places the id may be ours: an email we sent (first), else a message stored
    # with that id (the ORM spelling of the same query costs more CPU to build than the round trip it saves).
    quote = connection.ops.quote_name
    sent, stored = OutboundEmail._meta, Message._meta
    with prepared_cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(("  # noqa: S608
            f"SELECT {quote('ticket_id')} FROM {quote(sent.db_table)} WHERE {quote('workspace_id')} = %s AND "
            f"{quote('header_message_id')} IN (%s, %s) AND {quote('ticket_id')} IS NOT NULL "
            f"ORDER BY {quote(sent.pk.column)} LIMIT 1), ("
            f"SELECT {quote('ticket_id')} FROM {quote(stored.db_table)} WHERE {quote('workspace_id')} = %s AND "
            f"{quote('email_message_id')} IN (%s, %s) ORDER BY {quote(stored.pk.column)} LIMIT 1))",
            [workspace_id, key, f"<{key}>", workspace_id, key, f"<{key}>"],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return Ticket.objects.filter(pk=row[0], workspace_id=workspace_id).first()
