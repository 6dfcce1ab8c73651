"""Sending a queued ``OutboundEmail``: one attempt per task, with retries, leases and partial refusals.

The row says everything (``outbound`` rendered it when it was queued); an attempt claims the row under a lease,
builds the MIME message (``outbound_mime.build_mime``, where header values are sanitized) and hands it to
Django's configured mail backend outside any transaction, then records what the server answered. The retry
schedule and how a partly refused email is retried for the refused recipients alone are described in
``outbound``'s docstring; ``send_due_emails`` is the sweep behind the tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.core.mail.message import sanitize_address
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deskloop.core.retries import MAX_ATTEMPTS, enqueue_attempt, retry_delay
from deskloop.customers.services import mark_emails_bouncing
from deskloop.tickets.attachments import read_blob
from deskloop.tickets.models import Attachment, Message
from deskloop.tickets.services.channel_writes import record_delivery_state

from . import bounce_address
from .models import OutboundEmail, OutboundKind, OutboundState
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

# While an attempt is in flight the row is due again only after this lease: a duplicate task does nothing, and
# a worker that died mid-send is retried later. Longer than any SMTP timeout we expect.
SEND_LEASE = dt.timedelta(minutes=10)
DUE_SLACK = dt.timedelta(seconds=5)
ERROR_MAX = 500


class RecipientOutcome:
    """What became of an address the server refused while it took the email for others (``refused_recipients``)."""

    RETRYING = "retrying"  # refused for now (4xx): the email is sent to it again, alone, on the retry schedule
    REFUSED = "refused"  # refused for good (5xx): marked bouncing
    GIVEN_UP = "given_up"  # still refused for now after the last retry


# An SMTP reply kept per refused address; the whole note is cut at ERROR_MAX anyway.
REPLY_MAX = 200


def loop_marker(mailbox_address: str) -> str:
    return f"{LOOP_MARKER}; {mailbox_address}"


def enqueue_send(outbound_id: int, run_after: dt.datetime | None = None) -> None:
    """Queue the send task (``send_due_emails`` sweeps what a backend could not defer)."""
    from .outbound_tasks import send_outbound_email

    enqueue_attempt(send_outbound_email, outbound_id, run_after)


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
    envelope_from = ascii_address(mail.from_address)
    mailbox = outbound.mailbox if outbound.mailbox_id is not None else None
    if mailbox is not None and mailbox.tag_bounce_address:
        # Never the null sender, even for automatic mail (docs/architecture.md, "Outbound email"): our own address,
        # tagged with this email, so its bounces come back to the mailbox and prove what they are about.
        envelope_from = bounce_address.tagged(envelope_from, outbound.pk)
    return PreparedEmail(mime, envelope_from=envelope_from, recipients=envelope)


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
