"""The inbound SMTP/LMTP listener (``deskloop smtpd``) an MTA delivers to, on aiosmtpd.

Promises to the delivering MTA:
- RCPT for an address that is no active mailbox's is refused (550), so the MTA bounces it at once.
- A message bigger than the recipient mailbox's ``max_message_bytes`` is refused (552): already at RCPT when the
  client declared SIZE, else after DATA.
- 250 is answered only after the message is committed (``ingest_raw``: stored, deduped, processed), so an
  accepted message is never lost; a database or storage failure answers 451 and the MTA retries later, which
  dedupe makes harmless.
- LMTP (``--lmtp``) answers after DATA once per recipient, so one mailbox's failure does not make the MTA
  redeliver to the others. Plain SMTP has one answer for all recipients: any failure answers for everyone.

The database is reached from one worker thread (Django's ORM is synchronous); deliveries are serialized there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections, connections

from . import bounce_address
from .models import Mailbox
from .pipeline import ingest_raw
from .services import MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

ACCEPTED = "250 2.0.0 OK: stored"
RECIPIENT_OK = "250 2.1.5 OK"
NO_SUCH_MAILBOX = "550 5.1.1 No such mailbox here"
TOO_BIG = "552 5.3.4 Message too big for this mailbox"
TRY_LATER = "451 4.3.0 Temporary failure storing the message; try again later"
_UNSAFE_IN_HEADER = re.compile(r"[^\x21-\x7e]")
_RETURN_PATH = re.compile(rb"^return-path:", re.IGNORECASE | re.MULTILINE)


def mailbox_for(address: str) -> Mailbox | None:
    """The active mailbox an envelope recipient delivers to. If several workspaces use the same address, the
    one that set it up first receives it: a later workspace cannot divert another's mail by claiming its address."""
    # A bounce comes back to the tagged envelope sender of the email we sent (bounce_address): the mailbox's address.
    return (
        Mailbox.objects.filter(is_active=True, address__iexact=bounce_address.untagged(address.strip()))
        .order_by("created_at", "id")
        .select_related("workspace")
        .first()
    )


def with_return_path(raw: bytes, mail_from: str) -> bytes:
    """The message as finally delivered: with the envelope sender in Return-Path (RFC 5321 4.4), which is how a
    bounce (null sender) is recognized later. Deterministic, so a retried delivery has the same bytes."""
    header_block = re.split(rb"\r?\n\r?\n", raw[:65536], maxsplit=1)[0]
    if _RETURN_PATH.search(header_block):
        return raw
    sender = "" if mail_from in ("", "<>") else _UNSAFE_IN_HEADER.sub("", mail_from.strip("<>"))[:320]
    return f"Return-Path: <{sender}>\r\n".encode() + raw


def _declared_size(mail_options: list[str]) -> int | None:
    for option in mail_options:
        name, _sep, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return None


@dataclass(frozen=True)
class Delivery:
    """The answer for each envelope recipient, in RCPT order."""

    answers: list[str]


def _refusal(mailbox: Mailbox | None, raw: bytes) -> str:
    if mailbox is None:
        # Deactivated between RCPT and DATA: a temporary answer makes the MTA retry, and RCPT then refuses.
        return TRY_LATER
    if len(raw) > mailbox.max_message_bytes:
        return TOO_BIG
    return ""


def store_for_recipients(raw: bytes, recipients: list[str], *, all_or_nothing: bool) -> Delivery:
    """Store ``raw`` once per mailbox among ``recipients``; runs in the database thread. With ``all_or_nothing``
    (plain SMTP, one answer for all) nothing is stored when any recipient must be refused."""
    close_old_connections()
    if all_or_nothing:
        try:
            refusals = [_refusal(mailbox_for(address), raw) for address in recipients]
        except Exception:  # the database is down: the MTA keeps the message and retries
            log.exception("smtpd: looking up the recipients failed; answered 451")
            return Delivery(answers=[TRY_LATER for _address in recipients])
        for refusal in (TRY_LATER, TOO_BIG):
            if refusal in refusals:
                return Delivery(answers=[refusal for _address in recipients])
    answers: list[str] = []
    stored: dict[int, str] = {}
    for address in recipients:
        try:
            mailbox = mailbox_for(address)
            refusal = _refusal(mailbox, raw)
            if refusal or mailbox is None:
                answers.append(refusal)
                continue
            if mailbox.pk not in stored:
                result = ingest_raw(mailbox=mailbox, raw=raw, via="smtp")
                log.info(
                    "smtpd: stored a message for %s as inbound email %s (%s%s)",
                    mailbox.address,
                    result.inbound_id,
                    result.state,
                    ", duplicate" if result.duplicate else "",
                )
                stored[mailbox.pk] = ACCEPTED
            answers.append(stored[mailbox.pk])
        except Exception:  # nothing was confirmed to the MTA, so it keeps the message and retries
            log.exception("smtpd: storing a message for %s failed; answered 451", address)
            close_old_connections()
            answers.append(TRY_LATER)
    return Delivery(answers=answers)


def _recipient_check(address: str, declared_size: int | None) -> str:
    close_old_connections()
    mailbox = mailbox_for(address)
    if mailbox is None:
        return NO_SUCH_MAILBOX
    if declared_size is not None and declared_size > mailbox.max_message_bytes:
        return TOO_BIG
    return RECIPIENT_OK


T = TypeVar("T")


class DeliveryHandler:
    """aiosmtpd hooks: recipients are checked at RCPT, messages stored at DATA."""

    def __init__(self, *, lmtp: bool) -> None:
        self.lmtp = lmtp
        # Django's ORM is synchronous: all database work runs on this one thread, off the event loop.
        self.database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtpd-db")

    async def _in_database_thread(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.database_thread, lambda: work(*args, **kwargs))

    def close(self) -> None:
        self.database_thread.submit(connections.close_all).result()
        self.database_thread.shutdown()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            answer = await self._in_database_thread(_recipient_check, address, _declared_size(envelope.mail_options))
        except Exception:  # the database is down: the MTA should try again later
            log.exception("smtpd: checking recipient %s failed; answered 451", address)
            return TRY_LATER
        if answer == RECIPIENT_OK:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return answer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        raw = content if isinstance(content, bytes) else str(content or "").encode("utf-8", "surrogateescape")
        raw = with_return_path(raw, envelope.mail_from or "")
        try:
            delivery = await self._in_database_thread(
                store_for_recipients, raw, list(envelope.rcpt_tos), all_or_nothing=not self.lmtp
            )
        except Exception:  # the database thread itself failed; nothing is confirmed
            log.exception("smtpd: storing a message failed; answered 451")
            delivery = Delivery(answers=[TRY_LATER for _address in envelope.rcpt_tos])
        if self.lmtp:
            return "\r\n".join(delivery.answers)
        # One answer for every recipient: accepted only if every mailbox has it; a temporary failure anywhere
        # makes the MTA retry all of them (those already stored are then duplicates).
        for answer in (TRY_LATER, TOO_BIG):
            if answer in delivery.answers:
                return answer
        return ACCEPTED


class DeskloopController(Controller):
    """aiosmtpd's threaded controller speaking SMTP or LMTP with the delivery handler."""

    def __init__(self, *, host: str, port: int, lmtp: bool, **kwargs: Any) -> None:
        self.lmtp = lmtp
        self.delivery_handler = DeliveryHandler(lmtp=lmtp)
        super().__init__(
            self.delivery_handler,
            hostname=host,
            port=port,
            # The per-mailbox limit decides (552); this only stops a client from filling the memory.
            data_size_limit=MAX_MESSAGE_BYTES,
            ident="Deskloop",
            **kwargs,
        )

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.delivery_handler.close()

    def factory(self) -> SMTP:
        protocol = _LenientLMTP if self.lmtp else _LenientSMTP
        return protocol(self.handler, **self.SMTP_kwargs)


# RFC 5321 allows 1,000 bytes per line, but real mail has longer lines and MTAs pass them on; refusing them would
# bounce a customer's mail. The whole message stays bounded by data_size_limit.
class _LenientSMTP(SMTP):
    line_length_limit = 64 * 1024


class _LenientLMTP(LMTP):
    line_length_limit = 64 * 1024
