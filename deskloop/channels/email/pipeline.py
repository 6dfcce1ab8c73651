"""The one entry for inbound email, whatever transport brought it (IMAP, SMTP/LMTP, HTTP, archive import):
``ingest_raw`` stores, decides and delivers a message in one transaction; ``reprocess`` runs a stored one again.

When delivering raises, that transaction is rolled back and the message is stored in a second one, quarantined
with the error, so nothing is lost and an admin can process it again after a fix. See docs/architecture.md,
"Inbound email transports", for why it is shaped so.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.core.plain_sql import related_rows, update_row, values
from deskloop.tickets.attachments import read_blob
from deskloop.tickets.models import Attachment, Message, Ticket

from . import store
from .addresses import normalize_address
from .allow_list import allowed_sender
from .decide import DETAIL_MAX, OVERRULABLE, Decision, Refusal, decide
from .deliver import Outcome, act_on_bounce, deliver, usable_address
from .models import InboundEmail, InboundState, Mailbox
from .parsing import ParsedEmail
from .reading import NO_READING, MailReading, read_mail
from .spam import SpamCheck, judge
from .spam_learning import spam_model

__all__ = ["VIAS", "IngestResult", "Outcome", "Refusal", "deliver_anyway", "ingest_raw", "reprocess"]

log = logging.getLogger(__name__)

VIAS = frozenset({"imap", "smtp", "http", "import"})

# What processing may change on an InboundEmail row (the stored raw, ids and arrival stay as they are).
_PROCESSING_FIELDS = (
    "state",
    "refusal_reason",
    "outcome",
    "detail",
    "subject",
    "sender",
    "ticket_id",
    "message_id",
    "processed_at",
)
_OPEN_STATES = (InboundState.RECEIVED, InboundState.QUARANTINED)


@dataclass(frozen=True)
class IngestResult:
    """What became of one delivery. ``duplicate`` means these bytes had arrived before; the fields then describe
    the first arrival (nothing new was created). The reading (texts, attachment names) is made when first asked
    for: a refused message is never shown, and no transport asks."""

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
    read: Callable[[], MailReading] = field(default=lambda: NO_READING, repr=False, compare=False)

    @property
    def full_text(self) -> str:
        return self.read().full_text

    @property
    def stripped_text(self) -> str:
        return self.read().stripped_text

    @property
    def attachment_names(self) -> tuple[str, ...]:
        return self.read().attachment_names

    @property
    def dmarc_failed(self) -> bool:
        return self.read().dmarc_failed

    @classmethod
    def of(
        cls,
        inbound: InboundEmail,
        *,
        duplicate: bool = False,
        read: Callable[[], MailReading] | None = None,
        parsed: ParsedEmail | None = None,
    ) -> IngestResult:
        """``parsed``: the message as this run read it (the row keeps its subject and sender cut to size)."""
        number = None
        if inbound.ticket_id is not None:
            # Delivery leaves the ticket it used on the row; only a duplicate's first arrival needs a query.
            cached = InboundEmail.ticket.is_cached(inbound) and inbound.ticket is not None
            ticket = inbound.ticket if cached else Ticket.objects.filter(pk=inbound.ticket_id).first()
            number = ticket.number if ticket is not None else None
        return cls(
            inbound_id=inbound.pk,
            state=inbound.state,
            refusal_reason=inbound.refusal_reason,
            outcome=inbound.outcome,
            ticket_id=inbound.ticket_id,
            ticket_number=number,
            duplicate=duplicate,
            subject=parsed.subject if parsed is not None else inbound.subject,
            sender=(parsed.from_.address if parsed.from_ is not None else "") if parsed is not None else inbound.sender,
            detail=inbound.detail,
            read=read or functools.partial(_stored_reading, inbound),
        )


def _stored_reading(inbound: InboundEmail) -> MailReading:
    """A stored message's reading, from the ticket message it became (none for a refused one)."""
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


def ingest_raw(*, mailbox: Mailbox, raw: bytes, via: str, on_stored: Callable[[], None] | None = None) -> IngestResult:
    """Store, dedupe, decide and deliver one raw RFC 822 message. Raises only if storing fails (database or
    storage down) or ``on_stored`` raises; an error while deciding or delivering quarantines the message."""
    if via not in VIAS:
        raise ValueError(f"unknown ingest path {via!r}")
    email = store.RawEmail.of(bytes(raw))
    inbound = store.new_row(mailbox=mailbox, email=email, via=via)
    with transaction.atomic():
        outcome = _process(
            inbound,
            email.raw,
            insert=lambda: store.store(inbound=inbound, email=email, on_stored=on_stored) is not None,
        )
    if outcome.duplicate:
        first = store.first_arrival(mailbox=mailbox, email=email)
        if first.state == InboundState.RECEIVED:
            # Stored but never processed (left so by an earlier version or a crash between its transactions).
            return dataclasses.replace(reprocess(inbound=first), duplicate=True)
        return IngestResult.of(first, duplicate=True)
    if outcome.failure is None:
        return IngestResult.of(inbound, read=outcome.read, parsed=outcome.parsed)
    quarantined = store.new_row(mailbox=mailbox, email=email, via=via)
    _quarantine(quarantined, outcome)
    with transaction.atomic():
        stored = store.store(inbound=quarantined, email=email, on_stored=on_stored)
    if stored is None:
        return IngestResult.of(store.first_arrival(mailbox=mailbox, email=email), duplicate=True)
    return IngestResult.of(quarantined, read=outcome.read, parsed=outcome.parsed)


def reprocess(*, inbound: InboundEmail) -> IngestResult:
    """Process a stored message again (the quarantine's "Process again", the sweep of unprocessed mail). A processed
    or refused message is left as it is, so clicking twice, or retrying a message that made it meanwhile, changes
    nothing."""
    return _process_again(inbound, may_run=lambda row: row.state in _OPEN_STATES)


def deliver_anyway(*, inbound: InboundEmail, actor_id: int) -> IngestResult:
    """Deliver a message refused as list mail or an automatic reply, as if the rule had let it through (the same
    ``deliver`` as any mail: it threads or opens a ticket), and record the admin who overruled the refusal. Exactly
    once: a message no longer refused (delivered by a first click, or a refusal that cannot be overruled) is
    returned as it is. Preconditions (the caller's): ``actor_id`` is an admin of the message's workspace."""
    return _process_again(
        inbound,
        may_run=lambda row: row.state == InboundState.REFUSED and row.refusal_reason in OVERRULABLE,
        overruled_by=actor_id,
    )


def _process_again(
    inbound: InboundEmail, *, may_run: Callable[[InboundEmail], bool], overruled_by: int | None = None
) -> IngestResult:
    """Decide and deliver a stored message again under its row lock, when ``may_run`` says its state allows it;
    ``overruled_by``: the admin whose "Deliver it anyway" lifts its refusal."""
    # The bytes are read before the row lock is taken: they never change (content-addressed), and storage I/O
    # inside the transaction would hold the lock for its duration.
    raw = read_blob(inbound.raw)
    with transaction.atomic():
        # The row lock makes a concurrent sweep, "Process again" or a second click wait, then find the row done.
        target = InboundEmail.objects.select_for_update(of=("self",)).get(pk=inbound.pk)
        if not may_run(target):
            return IngestResult.of(target)
        if overruled_by is None:
            outcome = _process(target, raw, insert=None)
        else:
            outcome = _deliver_overruled(target, raw, actor_id=overruled_by)
    if outcome.failure is None:
        return IngestResult.of(target, read=outcome.read, parsed=outcome.parsed)
    _quarantine(target, outcome)
    update_row(target, _PROCESSING_FIELDS)
    return IngestResult.of(target, read=outcome.read, parsed=outcome.parsed)


def _deliver_overruled(target: InboundEmail, raw: bytes, *, actor_id: int) -> _Processed:
    overruled = _("Refused (%(reason)s: %(detail)s), delivered anyway.") % {
        "reason": target.refusal_reason,
        "detail": target.detail,
    }
    outcome = _process(target, raw, insert=None, overruled=(target.refusal_reason,))
    if outcome.failure is None and target.state == InboundState.PROCESSED:
        target.detail = overruled[:DETAIL_MAX]
        target.delivered_anyway_by_id = actor_id
        target.delivered_anyway_at = timezone.now()
        update_row(target, ("detail", "delivered_anyway_by_id", "delivered_anyway_at"))
    return outcome


@dataclass(frozen=True)
class _Processed:
    read: Callable[[], MailReading] = lambda: NO_READING
    duplicate: bool = False
    failure: Exception | None = None
    decision: Decision | None = None

    @property
    def parsed(self) -> ParsedEmail | None:
        return self.decision.parsed if self.decision is not None else None


# A delivered message's mailbox with what a new ticket needs from it: one join, prepared once per process.
_MAILBOX = related_rows(Mailbox, related=("workspace", "default_team", "default_product_area"), where=("id",))


def _process(
    inbound: InboundEmail, raw: bytes, *, insert: Callable[[], bool] | None, overruled: tuple[str, ...] = ()
) -> _Processed:
    """Decide and deliver ``inbound`` in the caller's transaction. ``insert`` stores a new row once its decision
    is written on it (False: a duplicate); None for a row stored before. ``overruled``: refusals an admin
    overruled ("Deliver it anyway"). When delivering raises, the transaction is marked for rollback and the error
    returned."""
    # The workspace's mailboxes, read afresh with every message (their settings may have changed since the caller
    # loaded its mailbox): how large a message this one accepts, and all their addresses (mail from them loops).
    mailboxes = values(
        Mailbox,
        ("id", "address", "max_message_bytes", "trust_spam_headers"),
        [("workspace_id", [inbound.workspace_id])],
    )
    this = next((row for row in mailboxes if row[0] == inbound.mailbox_id), None)
    if this is None:
        raise Mailbox.DoesNotExist(f"mailbox {inbound.mailbox_id} is gone")
    max_bytes, trust_spam_headers = int(this[2]), bool(this[3])
    own_addresses = frozenset(normalize_address(str(row[1])) for row in mailboxes)
    try:
        decision = decide(
            raw,
            max_bytes=max_bytes,
            own_addresses=own_addresses,
            usable=usable_address,
            allowed=allowed_sender(inbound.workspace_id),
            overruled=overruled,
        )
    except Exception as exc:  # nothing is written yet; the message is stored quarantined
        return _Processed(failure=exc)
    _write_decision(inbound, decision)
    if insert is not None and not insert():
        return _Processed(duplicate=True)
    parsed = decision.parsed
    read: Callable[[], MailReading] = (
        functools.cache(lambda: read_mail(parsed, shown=decision.shown).reading)
        if parsed is not None
        else _no_reading(inbound)
    )
    try:
        changed = insert is None
        if decision.bounce is not None:
            changed = act_on_bounce(inbound, decision.bounce) or changed
        elif not decision.refusal:
            assert parsed is not None
            assert decision.sender is not None
            inbound.mailbox = _mailbox_for_delivery(inbound.mailbox_id)
            check = SpamCheck(trust_headers=trust_spam_headers, model=spam_model(inbound.workspace_id))
            suspected = judge(parsed, sender=decision.sender, check=check)
            mail = read_mail(parsed)
            read = functools.partial(_as_read, mail.reading)
            deliver(inbound, mail, sender=decision.sender, own_addresses=own_addresses, spam=suspected)
            changed = True
        if changed:
            inbound.detail = inbound.detail[:DETAIL_MAX]
            update_row(inbound, _PROCESSING_FIELDS)
    except Exception as exc:  # one bad message must never block the rest; it goes to quarantine
        transaction.set_rollback(True)
        return _Processed(read=read, failure=exc, decision=decision)
    return _Processed(read=read, decision=decision)


def _mailbox_for_delivery(mailbox_id: int) -> Mailbox:
    [(mailbox, workspace, team, product_area)] = _MAILBOX.fetch([mailbox_id])
    mailbox.workspace, mailbox.default_team, mailbox.default_product_area = workspace, team, product_area
    return mailbox  # type: ignore[no-any-return]


def _as_read(reading: MailReading) -> MailReading:
    return reading


def _no_reading(inbound: InboundEmail) -> Callable[[], MailReading]:
    return lambda: MailReading(inbound.subject, inbound.sender, "", "", (), False)


def _write_decision(inbound: InboundEmail, decision: Decision) -> None:
    """The decision's fields on the row; a refusal is complete with them (stored as it is inserted)."""
    parsed = decision.parsed
    inbound.subject = parsed.subject[:500] if parsed is not None else ""
    inbound.sender = (parsed.from_.address if parsed is not None and parsed.from_ is not None else "")[:320]
    inbound.processed_at = timezone.now()
    inbound.outcome = ""
    inbound.ticket = None
    inbound.message = None
    if not decision.refusal:
        inbound.state, inbound.refusal_reason, inbound.detail = InboundState.RECEIVED, "", ""
        return
    inbound.state, inbound.refusal_reason = InboundState.REFUSED, decision.refusal
    inbound.detail = _refusal_detail(decision)[:DETAIL_MAX]


def _refusal_detail(decision: Decision) -> str:
    if decision.refusal == Refusal.TOO_LARGE:
        return _("The message is %(size)d bytes; this mailbox accepts up to %(limit)d.") % {
            "size": decision.size,
            "limit": decision.max_bytes,
        }
    if decision.refusal == Refusal.NO_SENDER:
        return _("The message has no usable sender address.")
    if decision.refusal == Refusal.LOOP and not decision.detail:
        return _("The sender is one of this workspace's mailboxes.")
    return decision.detail


def _quarantine(inbound: InboundEmail, outcome: _Processed) -> None:
    assert outcome.failure is not None
    log.warning(
        "inbound email <%s> quarantined: %s", inbound.header_message_id, outcome.failure, exc_info=outcome.failure
    )
    if outcome.decision is not None:
        _write_decision(inbound, outcome.decision)
    inbound.state = InboundState.QUARANTINED
    inbound.refusal_reason = inbound.outcome = ""
    inbound.ticket = inbound.message = None
    inbound.detail = _error_summary(outcome.failure)
    inbound.processed_at = timezone.now()


def _error_summary(exc: BaseException) -> str:
    """The error and the innermost frames: enough for an admin to report it, bounded in size."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-6)
    return "".join(lines)[-DETAIL_MAX:]
