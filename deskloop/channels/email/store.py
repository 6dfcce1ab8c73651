"""Storing an inbound email: its raw bytes as a content-addressed Blob and its ``InboundEmail`` row, once.

The same Message-ID with the same bytes arriving again in the same mailbox is a duplicate: the row is not
inserted again (``ON CONFLICT DO NOTHING``) and the first arrival is returned. The transport's ``on_stored``
callback runs in the caller's transaction, so its work (the IMAP checkpoint) commits with the row or not at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from django.db import connection

from deskloop.core.plain_sql import insert_row, run_statement
from deskloop.tickets.attachments import blob_row_insert, write_blob_file

from .header_text import normalize_message_id
from .models import InboundEmail, Mailbox

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
    found = normalize_message_id(value.split()[0] if value.split() else "")
    return found[:990] if found else f"no-message-id.{sha256[:40]}@deskloop.invalid"


@dataclass(frozen=True)
class RawEmail:
    """One delivery's bytes with what dedupe knows them by."""

    raw: bytes
    sha256: str
    message_id: str

    @classmethod
    def of(cls, raw: bytes) -> RawEmail:
        sha256 = hashlib.sha256(raw).hexdigest()
        return cls(raw=raw, sha256=sha256, message_id=header_message_id(raw, sha256))


def new_row(*, mailbox: Mailbox, email: RawEmail, via: str) -> InboundEmail:
    """The row for ``email`` in ``mailbox``, not saved yet (its outcome may be set before it is stored)."""
    return InboundEmail(
        workspace_id=mailbox.workspace_id,
        mailbox=mailbox,
        raw_id=email.sha256,
        raw_sha256=email.sha256,
        header_message_id=email.message_id,
        received_via=via,
    )


def store(*, inbound: InboundEmail, email: RawEmail, on_stored: Callable[[], None] | None) -> InboundEmail | None:
    """Store ``email`` as ``inbound`` inside the caller's transaction; None when these bytes are stored for this
    mailbox already (a duplicate; ``first_arrival`` reads that row)."""
    # The file is written before its row; a kill leaves an unreferenced file the next delivery of the bytes reuses.
    blob = write_blob_file(email.raw, sha256=email.sha256)
    if connection.vendor == "postgresql":
        # The blob's row rides along as a data-modifying WITH (foreign keys are checked at commit): one round trip.
        inserted = insert_row(inbound, ignore_conflicts=True, along=blob_row_insert(blob))
    else:
        run_statement(blob_row_insert(blob))
        inserted = insert_row(inbound, ignore_conflicts=True)
    if on_stored is not None:
        # Runs for duplicates too: a message delivered twice must still move the IMAP checkpoint past it.
        on_stored()
    return inbound if inserted else None


def first_arrival(*, mailbox: Mailbox, email: RawEmail) -> InboundEmail:
    return InboundEmail.objects.get(mailbox_id=mailbox.pk, header_message_id=email.message_id, raw_sha256=email.sha256)
