"""Fetching a folder exactly once: UID order from the checkpoint on, the checkpoint committed with each stored
message, a fresh start when UIDVALIDITY changes (see the package docstring)."""

from __future__ import annotations

import imaplib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..inbound import finish_received
from ..models import ImapCheckpoint, Mailbox
from ..pipeline import IngestResult, ingest_raw
from .connection import (
    IMAP_TIMEOUT,
    ImapFailure,
    ImapSettings,
    OpenFolder,
    close,
    connect,
    network_failure,
    open_folder,
)

log = logging.getLogger(__name__)

BATCH_MESSAGES = 25
BATCH_BYTES = 16 * 1024 * 1024
# The mailboxes page shows the last IMAP error; connection errors are one line, this only bounds a pathological one.
IMAP_ERROR_MAX = 2000
_FETCH_UID = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE\s+(\d+)", re.IGNORECASE)


@dataclass
class FetchReport:
    """What one fetch of one mailbox did. ``error`` is empty when it reached the end of the folder."""

    mailbox: str
    folder: str
    uidvalidity: int | None = None
    last_uid: int = 0
    new: int = 0  # stored for the first time
    duplicates: int = 0  # fetched again (after a crash, or a UIDVALIDITY change); nothing new was created
    finished: int = 0  # stored by an earlier, interrupted run and processed now
    vanished: int = 0  # listed, then expunged before their turn
    uidvalidity_changed: bool = False
    error: str = ""


MessageCallback = Callable[[int, IngestResult], None]


def _checkpoint_start(mailbox: Mailbox, folder: str, uidvalidity: int) -> tuple[int, bool]:
    """The first UID to fetch, and whether the folder was renumbered (UIDVALIDITY changed) since last time."""
    with transaction.atomic():
        checkpoint, created = ImapCheckpoint.objects.select_for_update().get_or_create(
            mailbox=mailbox, folder=folder, defaults={"uidvalidity": uidvalidity, "last_uid": 0}
        )
        if created or checkpoint.uidvalidity == uidvalidity:
            return checkpoint.last_uid + 1, False
        log.warning(
            "IMAP folder %s of mailbox %s changed UIDVALIDITY from %s to %s; importing it again from UID 1 "
            "(messages already imported are recognized as duplicates)",
            folder,
            mailbox.address,
            checkpoint.uidvalidity,
            uidvalidity,
        )
        checkpoint.uidvalidity = uidvalidity
        checkpoint.last_uid = 0
        checkpoint.updated_at = timezone.now()
        checkpoint.save()
        return 1, True


def _advance_checkpoint(mailbox_id: int, folder: str, uidvalidity: int, uid: int) -> None:
    # Runs inside the transaction that stores the message. Conditional, so a slower concurrent fetcher of the
    # same folder never moves the checkpoint back, and one working from a stale UIDVALIDITY never moves it at all.
    ImapCheckpoint.objects.filter(
        mailbox_id=mailbox_id, folder=folder, uidvalidity=uidvalidity, last_uid__lt=uid
    ).update(last_uid=uid, updated_at=timezone.now())


def _uid_set(uids: list[int]) -> str:
    """Sorted UIDs as an IMAP sequence set with ranges ("1:40,42,50:51"), so a first import of a big folder
    does not send a command of a million numbers."""
    parts: list[str] = []
    start = previous = uids[0]
    for uid in [*uids[1:], -1]:
        if uid == previous + 1:
            previous = uid
            continue
        parts.append(str(start) if start == previous else f"{start}:{previous}")
        start = previous = uid
    return ",".join(parts)


def _list_new(conn: imaplib.IMAP4, first_uid: int) -> list[tuple[int, int]]:
    """(UID, size) of every message from ``first_uid`` on, in UID order."""
    # SEARCH rather than FETCH "n:*": an empty folder answers it without an error on every server.
    status, data = conn.uid("SEARCH", "UID", f"{first_uid}:*")
    if status != "OK":
        raise imaplib.IMAP4.error(data[0] if data and data[0] else status)
    # "n:*" always matches the last message, even when its UID is below n.
    uids = sorted({int(word) for word in (data[0] or b"").split() if word.isdigit() and int(word) >= first_uid})
    if not uids:
        return []
    status, data = conn.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)")
    if status != "OK":
        raise imaplib.IMAP4.error(data[0] if data and data[0] else status)
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid = _FETCH_UID.search(line)
        size = _FETCH_SIZE.search(line)
        if uid is not None:
            sizes[int(uid.group(1))] = int(size.group(1)) if size else 0
    # A UID without a size was expunged in between; fetching it finds nothing and counts it as vanished.
    return [(uid, sizes.get(uid, 0)) for uid in uids]


def _batches(listed: list[tuple[int, int]]) -> Iterator[list[int]]:
    """UIDs in groups bounded by count and by bytes, so a big message is fetched on its own."""
    batch: list[int] = []
    size = 0
    for uid, message_size in listed:
        if batch and (len(batch) >= BATCH_MESSAGES or size + message_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(uid)
        size += message_size
    if batch:
        yield batch


def _fetch_bodies(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
    status, data = conn.uid("FETCH", _uid_set(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise imaplib.IMAP4.error(data[0] if data and data[0] else status)
    bodies: dict[int, bytes] = {}
    waiting: bytes | None = None  # a literal whose UID the server put after it
    for item in data:
        if isinstance(item, tuple):
            head, body = item[0], item[1]
            uid = _FETCH_UID.search(head)
            if uid is not None:
                bodies[int(uid.group(1))] = body
                waiting = None
            else:
                waiting = body
        elif isinstance(item, bytes) and waiting is not None:
            uid = _FETCH_UID.search(item)
            if uid is not None:
                bodies[int(uid.group(1))] = waiting
            waiting = None
    return bodies


def import_new_messages(
    *,
    mailbox: Mailbox,
    conn: imaplib.IMAP4,
    settings: ImapSettings,
    folder: OpenFolder,
    report: FetchReport,
    mark_seen: bool = False,
    stop: threading.Event | None = None,
    on_message: MessageCallback | None = None,
    on_stored: Callable[[int], None] | None = None,
) -> None:
    """Store every message past the checkpoint, in UID order; counts go to ``report``. Raises ImapFailure.
    ``on_stored(uid)`` runs inside the transaction that stores a message, ``on_message`` after it is processed."""
    first_uid, renumbered = _checkpoint_start(mailbox, settings.folder, folder.uidvalidity)
    report.uidvalidity = folder.uidvalidity
    report.uidvalidity_changed = report.uidvalidity_changed or renumbered
    report.last_uid = first_uid - 1
    try:
        for uids in _batches(_list_new(conn, first_uid)):
            if stop is not None and stop.is_set():
                return
            bodies = _fetch_bodies(conn, uids)
            stored: list[int] = []
            for uid in uids:
                raw = bodies.get(uid)
                if raw is None:
                    report.vanished += 1
                    continue

                def advance(uid: int = uid) -> None:
                    _advance_checkpoint(mailbox.pk, settings.folder, folder.uidvalidity, uid)
                    if on_stored is not None:
                        on_stored(uid)

                result = ingest_raw(mailbox=mailbox, raw=raw, via="imap", on_stored=advance)
                stored.append(uid)
                report.last_uid = uid
                if result.duplicate:
                    report.duplicates += 1
                else:
                    report.new += 1
                if on_message is not None:
                    on_message(uid, result)
            if mark_seen and stored:
                # Only now: every message of the batch is committed here.
                conn.uid("STORE", _uid_set(stored), "+FLAGS.SILENT", r"(\Seen)")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise network_failure(settings, exc) from exc


def record_imap_check(mailbox_id: int, error: str = "") -> None:
    """Note on the mailbox when IMAP was last reached and, while it fails, since when and why (the mailboxes page
    shows it). One UPDATE of these three columns only, so it never overwrites settings an admin just saved."""
    now = timezone.now()
    found = Mailbox.objects.filter(pk=mailbox_id)
    if error:
        found.update(
            imap_checked_at=now,
            imap_error=error[:IMAP_ERROR_MAX],
            imap_failing_since=Coalesce(F("imap_failing_since"), Value(now)),
        )
    else:
        found.update(imap_checked_at=now, imap_error="", imap_failing_since=None)


def fetch_mailbox(
    mailbox: Mailbox,
    *,
    mark_seen: bool = False,
    stop: threading.Event | None = None,
    on_message: MessageCallback | None = None,
    on_stored: Callable[[int], None] | None = None,
    timeout: float = IMAP_TIMEOUT,
) -> FetchReport:
    """One fetch of a mailbox's folder: connect, store what is new, disconnect. Connection problems end up in
    ``report.error`` (and the log); database errors propagate."""
    settings = ImapSettings.of(mailbox)
    report = FetchReport(mailbox=mailbox.address, folder=settings.folder)
    # Messages an interrupted run stored but did not process; done first, even when the server is down.
    report.finished = finish_received(mailbox=mailbox, via="imap")
    try:
        conn = connect(settings, timeout=timeout)
        try:
            folder = open_folder(conn, settings, readonly=not mark_seen)
            import_new_messages(
                mailbox=mailbox,
                conn=conn,
                settings=settings,
                folder=folder,
                report=report,
                mark_seen=mark_seen,
                stop=stop,
                on_message=on_message,
                on_stored=on_stored,
            )
        finally:
            close(conn)
    except ImapFailure as failure:
        report.error = failure.shown
        log_failure(mailbox, settings, failure)
    record_imap_check(mailbox.pk, report.error)
    return report


def log_failure(mailbox: Mailbox, settings: ImapSettings, failure: ImapFailure) -> None:
    log.warning(
        "IMAP fetch of mailbox %s (workspace %s, %s:%s, folder %s) failed; retrying on the next run: %s (%s: %s)",
        mailbox.address,
        mailbox.workspace_id,
        settings.host,
        settings.port,
        settings.folder,
        failure.message,
        failure.code,
        failure.detail,  # the server's own words: for the operator's log, never shown in the app
    )


def fetchable_mailboxes(*, workspace_slug: str = "", address: str = "") -> list[Mailbox]:
    """Active mailboxes with an IMAP host, optionally of one workspace and/or one address."""
    found = Mailbox.objects.filter(is_active=True).exclude(imap_host="").select_related("workspace")
    if workspace_slug:
        found = found.filter(workspace__slug=workspace_slug)
    if address:
        found = found.filter(address__iexact=address.strip())
    return list(found.order_by("workspace_id", "address", "id"))


def poll_mailboxes() -> int:
    """The periodic job: fetch every IMAP mailbox once; returns how many new messages were stored. One mailbox
    failing (network, or even the database) does not keep the others from their turn."""
    stored = 0
    for mailbox in fetchable_mailboxes():
        try:
            report = fetch_mailbox(mailbox)
        except Exception:  # a broken mailbox must not starve the rest; the next run tries it again
            log.exception("IMAP fetch of mailbox %s (workspace %s) failed", mailbox.address, mailbox.workspace_id)
            continue
        stored += report.new + report.finished
    return stored
