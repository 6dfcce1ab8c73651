"""``fetch_mail --idle``: keep a mailbox fetched over one connection, with IDLE (RFC 2177) where the server
offers it and polling where not; reconnect with growing pauses after failures and when the settings change. A
database outage is waited out like a mail server's (``core.outages``), logged once.

stdlib ``imaplib`` has no IDLE before Python 3.14, so ``_idle`` speaks it over the connection.
"""

from __future__ import annotations

import imaplib
import itertools
import logging
import select
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

from deskloop.core.outages import DATABASE_ERRORS, Backoff, DatabaseOutage

from ..inbound import finish_received
from ..models import Mailbox
from .connection import ImapFailure, ImapSettings, close, connect, network_failure, open_folder
from .fetch import FetchReport, MessageCallback, import_new_messages, log_failure, record_imap_check

log = logging.getLogger(__name__)

# Re-issue IDLE well before RFC 2177's 29 minutes and the idle timeouts of most NAT gateways.
IDLE_SECONDS = 600
POLL_SECONDS = 60
RETRY_MIN_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0

_idle_tags = itertools.count(1)


_ANNOUNCEMENTS = ("EXISTS", "RECENT")


def _forget_announcements(conn: imaplib.IMAP4) -> None:
    for kind in _ANNOUNCEMENTS:
        conn.untagged_responses.pop(kind, None)


def _announced_meanwhile(conn: imaplib.IMAP4) -> bool:
    """Whether the server announced new mail in an answer since ``_forget_announcements`` (imaplib keeps such
    untagged responses until a command asks for them)."""
    return any(conn.untagged_responses.get(kind) for kind in _ANNOUNCEMENTS)


def _idle(conn: imaplib.IMAP4, seconds: float, stop: threading.Event) -> bool | None:
    """Wait in IDLE until the server announces new mail, ``seconds`` pass, or ``stop`` is set. True when mail
    was announced, False when not, None when the server refused IDLE."""
    tag = f"DLIDLE{next(_idle_tags)}".encode()  # a prefix imaplib never uses for its own tags
    conn.send(tag + b" IDLE\r\n")
    line = conn.readline()
    if not line.startswith(b"+"):
        while line and not line.startswith(tag + b" "):
            line = conn.readline()
        if not line:
            raise imaplib.IMAP4.abort("connection closed while starting IDLE")
        return None
    sock = conn.socket()
    deadline = time.monotonic() + seconds
    announced = False
    while not announced and not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        buffered = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
        # Wake up every second to notice ``stop``.
        if not buffered and not select.select([sock], [], [], min(remaining, 1.0))[0]:
            continue
        line = conn.readline()
        if not line or line.upper().startswith(b"* BYE"):
            raise imaplib.IMAP4.abort("the server ended the connection during IDLE")
        words = line.upper().split()
        if len(words) >= 3 and words[0] == b"*" and words[2] in (b"EXISTS", b"RECENT"):
            announced = True
    conn.send(b"DONE\r\n")
    while True:
        line = conn.readline()
        if not line:
            raise imaplib.IMAP4.abort("connection closed while ending IDLE")
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                raise imaplib.IMAP4.error(line.decode("utf-8", "replace"))
            return announced


@dataclass(frozen=True)
class _Watch:
    """What ``run_idle`` was asked to do; every step reads it."""

    mailbox_id: int
    stop: threading.Event
    idle_seconds: float
    poll_seconds: float
    mark_seen: bool
    on_report: Callable[[FetchReport], None] | None
    on_message: MessageCallback | None
    outage: DatabaseOutage  # logs a database outage once, not at every retry


def _backoff() -> Backoff:
    """The pause after a failure: doubles (with jitter) up to ``RETRY_MAX_SECONDS``, back to the minimum after a
    fetch."""
    return Backoff(first_seconds=RETRY_MIN_SECONDS, max_seconds=RETRY_MAX_SECONDS)


@dataclass
class _Session:
    """One connection's mailbox, its settings as read when it opened, and the report of the fetch under way."""

    mailbox: Mailbox
    settings: ImapSettings
    report: FetchReport


def run_idle(
    mailbox_id: int,
    *,
    stop: threading.Event,
    idle_seconds: float = IDLE_SECONDS,
    poll_seconds: float = POLL_SECONDS,
    mark_seen: bool = False,
    on_report: Callable[[FetchReport], None] | None = None,
    on_message: MessageCallback | None = None,
) -> None:
    """Keep a mailbox fetched until ``stop`` is set: catch up, then IDLE (re-issued every ``idle_seconds``) where
    the server offers it, else poll every ``poll_seconds``. Reconnects with growing pauses after failures and
    when the mailbox's settings change."""
    outage = DatabaseOutage(process=f"IMAP watcher of mailbox {mailbox_id}", log=log)
    watch = _Watch(mailbox_id, stop, idle_seconds, poll_seconds, mark_seen, on_report, on_message, outage)
    backoff = _backoff()
    while not stop.is_set():
        mailbox = _active_mailbox(watch, backoff)
        if mailbox is not None:
            _run_session(watch, mailbox, backoff)


def _active_mailbox(watch: _Watch, backoff: Backoff) -> Mailbox | None:
    """The mailbox to fetch, or None (after waiting) when it cannot be read, is inactive or has no IMAP host."""
    try:
        close_old_connections()
        mailbox = Mailbox.objects.filter(pk=watch.mailbox_id, is_active=True).exclude(imap_host="").first()
    except DATABASE_ERRORS as exc:  # the database is unreachable: wait for it like for a mail server
        watch.outage.failed(exc)
        backoff.wait(watch.stop.wait)
        return None
    watch.outage.recovered()
    if mailbox is None:
        log.info(
            "mailbox %s is inactive or has no IMAP host; checking again in %s s", watch.mailbox_id, watch.poll_seconds
        )
        watch.stop.wait(watch.poll_seconds)
    return mailbox


def _run_session(watch: _Watch, mailbox: Mailbox, backoff: Backoff) -> None:
    """One connection, until ``stop``, a settings change or a failure (reported and recorded, then a pause)."""
    settings = ImapSettings.of(mailbox)
    session = _Session(mailbox, settings, FetchReport(mailbox=mailbox.address, folder=settings.folder))
    try:
        session.report.finished = finish_received(mailbox=mailbox, via="imap")
        conn = connect(settings)
        try:
            _serve(conn, watch, session, backoff)
        finally:
            close(conn)
    except ImapFailure as failure:
        session.report.error = failure.shown
        log_failure(mailbox, settings, failure)
        if watch.on_report is not None:
            watch.on_report(session.report)
        try:
            record_imap_check(mailbox.pk, failure.shown)
        except DATABASE_ERRORS as exc:
            watch.outage.failed(exc)
        backoff.wait(watch.stop.wait)
    except DATABASE_ERRORS as exc:  # the watcher must outlive the database going away, and try again
        watch.outage.failed(exc)
        backoff.wait(watch.stop.wait)
    except Exception:
        log.exception("IMAP watcher of mailbox %s failed; retrying in %s s", mailbox.address, backoff.seconds)
        backoff.wait(watch.stop.wait)


def _serve(conn: imaplib.IMAP4, watch: _Watch, session: _Session, backoff: Backoff) -> None:
    """Fetch, then wait for more mail, over and over on ``conn``; returns when ``stop`` is set or the mailbox's
    settings changed (reconnect with the new ones, or stop fetching an inactive mailbox)."""
    settings = session.settings
    folder = open_folder(conn, settings, readonly=not watch.mark_seen)
    can_idle = folder.can_idle
    while not watch.stop.is_set():
        # From here on, an EXISTS the server slips into the answer to any command (imaplib keeps it) is mail that
        # arrived after the SEARCH below: see _announced_meanwhile.
        _forget_announcements(conn)
        import_new_messages(
            mailbox=session.mailbox,
            conn=conn,
            settings=settings,
            folder=folder,
            report=session.report,
            mark_seen=watch.mark_seen,
            stop=watch.stop,
            on_message=watch.on_message,
        )
        record_imap_check(session.mailbox.pk)
        if watch.on_report is not None:
            watch.on_report(session.report)
        backoff.reset()
        session.report = FetchReport(mailbox=session.mailbox.address, folder=settings.folder)
        can_idle = _wait_for_mail(conn, watch, settings, can_idle)
        close_old_connections()
        fresh = Mailbox.objects.filter(pk=watch.mailbox_id, is_active=True).first()
        if fresh is None or ImapSettings.of(fresh) != settings:
            return


def _wait_for_mail(conn: imaplib.IMAP4, watch: _Watch, settings: ImapSettings, can_idle: bool) -> bool:
    """Wait until the server announces mail (IDLE) or a poll interval passes; returns whether IDLE still works."""
    try:
        # Mail that arrived while the new mail was fetched: the server tells of it in the answer to a command
        # (this NOOP, or one of the fetch's), not when IDLE starts; IDLE would sit on it until the next message
        # or the server's own idle check (Dovecot: 30 s).
        conn.noop()
        announced = _announced_meanwhile(conn)
        if can_idle and not announced:
            can_idle = _idle(conn, watch.idle_seconds, watch.stop) is not None
        if not can_idle and not announced:
            watch.stop.wait(watch.poll_seconds)
        conn.noop()  # lets the server tell the session about mail that arrived meanwhile
    except (OSError, imaplib.IMAP4.error) as exc:
        raise network_failure(settings, exc) from exc
    return can_idle
