"""``fetch_mail --idle``: keep a mailbox fetched over one connection, with IDLE (RFC 2177) where the server
offers it and polling where not; reconnect with growing pauses after failures and when the settings change.

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

from django.db import close_old_connections

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
    pause = RETRY_MIN_SECONDS
    while not stop.is_set():
        try:
            close_old_connections()
            mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).exclude(imap_host="").first()
        except Exception:  # the database is unreachable: wait for it like for a mail server
            log.exception("IMAP watcher of mailbox %s cannot read its settings; retrying in %s s", mailbox_id, pause)
            stop.wait(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)
            continue
        if mailbox is None:
            log.info("mailbox %s is inactive or has no IMAP host; checking again in %s s", mailbox_id, poll_seconds)
            stop.wait(poll_seconds)
            continue
        settings = ImapSettings.of(mailbox)
        report = FetchReport(mailbox=mailbox.address, folder=settings.folder)
        try:
            report.finished = finish_received(mailbox=mailbox, via="imap")
            conn = connect(settings)
            try:
                folder = open_folder(conn, settings, readonly=not mark_seen)
                can_idle = folder.can_idle
                while not stop.is_set():
                    # From here on, an EXISTS the server slips into the answer to any command (imaplib keeps it)
                    # is mail that arrived after the SEARCH below: see _announced_meanwhile.
                    _forget_announcements(conn)
                    import_new_messages(
                        mailbox=mailbox,
                        conn=conn,
                        settings=settings,
                        folder=folder,
                        report=report,
                        mark_seen=mark_seen,
                        stop=stop,
                        on_message=on_message,
                    )
                    record_imap_check(mailbox.pk)
                    if on_report is not None:
                        on_report(report)
                    pause = RETRY_MIN_SECONDS
                    report = FetchReport(mailbox=mailbox.address, folder=settings.folder)
                    try:
                        # Mail that arrived while the new mail was fetched: the server tells of it in the answer
                        # to a command (this NOOP, or one of the fetch's), not when IDLE starts; IDLE would sit on it
                        # until the next message or the server's own idle check (Dovecot: 30 s).
                        conn.noop()
                        announced = _announced_meanwhile(conn)
                        if can_idle and not announced:
                            can_idle = _idle(conn, idle_seconds, stop) is not None
                        if not can_idle and not announced:
                            stop.wait(poll_seconds)
                        conn.noop()  # lets the server tell the session about mail that arrived meanwhile
                    except (OSError, imaplib.IMAP4.error) as exc:
                        raise network_failure(settings, exc) from exc
                    close_old_connections()
                    fresh = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
                    if fresh is None or ImapSettings.of(fresh) != settings:
                        break  # reconnect with the new settings (or stop fetching an inactive mailbox)
            finally:
                close(conn)
        except ImapFailure as failure:
            report.error = failure.message
            log_failure(mailbox, settings, failure)
            record_imap_check(mailbox.pk, failure.message)
            if on_report is not None:
                on_report(report)
            stop.wait(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)
        except Exception:  # the database went away, say; the watcher must outlive it and try again
            log.exception("IMAP watcher of mailbox %s failed; retrying in %s s", mailbox.address, pause)
            stop.wait(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)
