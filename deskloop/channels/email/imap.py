"""Fetching a mailbox's IMAP folder: crash-safe and idempotent, by polling or with IDLE.

How it stays exactly-once:
- Messages are fetched in UID order from the checkpoint (``ImapCheckpoint``: folder, UIDVALIDITY, last UID) on,
  in batches. Each goes through ``ingest_raw``, whose ``on_stored`` hook advances the checkpoint in the same
  transaction that stores the message: a crash can repeat the message in flight, never skip one, and dedupe
  (Message-ID + SHA-256 of the bytes) absorbs the repeat.
- A changed UIDVALIDITY means the server renumbered the folder: the checkpoint starts over at UID 1 and dedupe
  skips what was already imported.
- Nothing is deleted or moved on the server. ``mark_seen`` only adds \\Seen, and only after the batch committed.
- A message that cannot be parsed is stored and quarantined by the pipeline; it never holds up the rest.
- Connection, TLS, sign-in and folder problems become ``ImapFailure`` with a message an admin can act on; the
  fetch is logged with the mailbox and tried again on the next run.

stdlib ``imaplib`` has no IDLE before Python 3.14, so ``_idle`` speaks it (RFC 2177) over the connection.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import itertools
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.accounts.models import ADMIN_ROLES, Agent
from deskloop.core.errors import PermissionDenied

from .inbound import deliver, finish_received
from .models import ImapCheckpoint, Mailbox
from .pipeline import IngestResult
from .services import MailboxSettings

log = logging.getLogger(__name__)

IMAP_TIMEOUT = 60.0  # seconds for connecting and for each read
CHECK_TIMEOUT = 15.0  # the settings page's "Test connection" waits less
BATCH_MESSAGES = 25
BATCH_BYTES = 16 * 1024 * 1024
# Re-issue IDLE well before RFC 2177's 29 minutes and the idle timeouts of most NAT gateways.
IDLE_SECONDS = 600
POLL_SECONDS = 60
RETRY_MIN_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0

_idle_tags = itertools.count(1)
_FETCH_UID = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE\s+(\d+)", re.IGNORECASE)
# Dovecot ends its answers with how long they took ("(0.001 + 0.000 secs)."): noise in a message for an admin.
_TIMING = re.compile(r"\s*\(\d+\.\d+( \+ \d+\.\d+)* secs\)\.?$")


class ImapFailure(Exception):
    """The server could not be reached, secured, signed in to, or read; ``message`` says which, for an admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImapSettings:
    """Where and how to connect; kept apart from ``Mailbox`` so unsaved form values can be tested."""

    host: str
    port: int
    security: str  # ssl, starttls, none (loopback only)
    username: str
    secret: str = field(repr=False)  # a password or an OAuth2 access token; never logged
    auth: str  # password, xoauth2
    folder: str

    @classmethod
    def of(cls, mailbox: Mailbox) -> ImapSettings:
        return cls(
            host=mailbox.imap_host.strip(),
            port=mailbox.imap_port,
            security=mailbox.imap_security,
            username=mailbox.imap_username,
            secret=mailbox.imap_secret,
            auth=mailbox.imap_auth,
            folder=mailbox.imap_folder.strip() or "INBOX",
        )


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


# ---------------------------------------------------------------------------------------------------- connecting


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _tls_context() -> ssl.SSLContext:
    # Verifies the certificate chain and the host name against the system's CA store (SSL_CERT_FILE extends it).
    return ssl.create_default_context()


def _text(value: object) -> str:
    """A server's words (bytes or str, or an exception carrying them), on one line and bounded."""
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else str(value)
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return _TIMING.sub("", " ".join(text.split()))[:300]


def _network_failure(settings: ImapSettings, exc: BaseException) -> ImapFailure:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or _text(exc)
        return ImapFailure(
            _("The TLS certificate of %(where)s was refused: %(reason)s") % {"where": where, "reason": reason}
        )
    if isinstance(exc, ssl.SSLError):
        return ImapFailure(
            _("The TLS handshake with %(where)s failed: %(reason)s") % {"where": where, "reason": _text(exc)}
        )
    if isinstance(exc, socket.gaierror):
        return ImapFailure(_("The IMAP host %(host)s was not found.") % {"host": settings.host})
    if isinstance(exc, ConnectionRefusedError):
        return ImapFailure(_("%(where)s refused the connection.") % {"where": where})
    if isinstance(exc, TimeoutError):
        return ImapFailure(_("%(where)s did not answer in time.") % {"where": where})
    if isinstance(exc, imaplib.IMAP4.abort):
        return ImapFailure(_("The connection to %(where)s broke: %(reason)s") % {"where": where, "reason": _text(exc)})
    if isinstance(exc, imaplib.IMAP4.error):
        return ImapFailure(_("%(where)s answered with an error: %(reason)s") % {"where": where, "reason": _text(exc)})
    return ImapFailure(_("The connection to %(where)s failed: %(reason)s") % {"where": where, "reason": _text(exc)})


def _xoauth2(username: str, token: str) -> Callable[[bytes], bytes]:
    """The SASL XOAUTH2 client: the token once; an empty answer to the server's error challenge ends the
    exchange so the server reports the failure (instead of the token being sent twice)."""
    initial = f"user={username}\x01auth=Bearer {token}\x01\x01".encode()
    sent = False

    def answer(_challenge: bytes) -> bytes:
        nonlocal sent
        if sent:
            return b""
        sent = True
        return initial

    return answer


def connect(settings: ImapSettings, *, timeout: float = IMAP_TIMEOUT) -> imaplib.IMAP4:
    """A signed-in connection, secured as configured. Raises ImapFailure."""
    if not settings.host:
        raise ImapFailure(_("No IMAP host is set for this mailbox."))
    if settings.security == "none" and not _is_loopback(settings.host):
        # The password would cross the network in clear text; only a server on this machine may do without TLS.
        raise ImapFailure(
            _("IMAP without encryption is only allowed to a server on this machine; choose SSL/TLS or STARTTLS.")
        )
    try:
        if settings.security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=_tls_context(), timeout=timeout
            )
        else:
            conn = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise _network_failure(settings, exc) from exc
    try:
        if settings.security == "starttls":
            conn.starttls(ssl_context=_tls_context())
        if settings.auth == "xoauth2":
            conn.authenticate("XOAUTH2", _xoauth2(settings.username, settings.secret))
        else:
            conn.login(settings.username, settings.secret)
    except imaplib.IMAP4.abort as exc:
        _close(conn)
        raise _network_failure(settings, exc) from exc
    except imaplib.IMAP4.error as exc:
        _close(conn)
        if settings.security == "starttls" and conn.state == "NONAUTH" and "STARTTLS" not in conn.capabilities:
            raise ImapFailure(_("%(host)s does not offer STARTTLS; choose SSL/TLS.") % {"host": settings.host}) from exc
        raise ImapFailure(_("Sign-in was refused: %(reason)s") % {"reason": _text(exc)}) from exc
    except UnicodeEncodeError as exc:
        _close(conn)
        raise ImapFailure(_("IMAP sign-in needs a user name and password in plain ASCII.")) from exc
    except OSError as exc:
        _close(conn)
        raise _network_failure(settings, exc) from exc
    return conn


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        with contextlib.suppress(OSError):
            conn.shutdown()


def _encode_folder(name: str) -> str:
    """The folder name as IMAP wants it on the wire: modified UTF-7 (RFC 3501 5.1.3), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    wire = "".join(out)
    return '"' + wire.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class OpenFolder:
    uidvalidity: int
    exists: int
    can_idle: bool


def open_folder(conn: imaplib.IMAP4, settings: ImapSettings, *, readonly: bool) -> OpenFolder:
    """SELECT (or EXAMINE, read-only) the folder; its UIDVALIDITY, message count and whether IDLE is offered."""
    try:
        status, data = conn.select(_encode_folder(settings.folder), readonly=readonly)
        if status != "OK":
            reason = _text(data[0] if data and data[0] else status)
            raise ImapFailure(
                _("The folder %(folder)s cannot be opened: %(reason)s") % {"folder": settings.folder, "reason": reason}
            )
        exists = int(data[0] or 0) if data and isinstance(data[0], bytes) else 0
        _code, values = conn.response("UIDVALIDITY")
        uidvalidity = int(values[0]) if values and values[0] else _status_uidvalidity(conn, settings)
        _status, capabilities = conn.capability()
        can_idle = bool(capabilities and capabilities[0] and b"IDLE" in capabilities[0].upper().split())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise _network_failure(settings, exc) from exc
    return OpenFolder(uidvalidity=uidvalidity, exists=exists, can_idle=can_idle)


def _status_uidvalidity(conn: imaplib.IMAP4, settings: ImapSettings) -> int:
    _status, data = conn.status(_encode_folder(settings.folder), "(UIDVALIDITY)")
    found = re.search(rb"UIDVALIDITY\s+(\d+)", data[0] if data and isinstance(data[0], bytes) else b"")
    if found is None:
        raise ImapFailure(_("The server did not report the folder's UIDVALIDITY."))
    return int(found.group(1))


# ---------------------------------------------------------------------------------------------------- checkpoint


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


# ---------------------------------------------------------------------------------------------------- fetching


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
) -> None:
    """Store every message past the checkpoint, in UID order; counts go to ``report``. Raises ImapFailure."""
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

                result = deliver(mailbox=mailbox, raw=raw, via="imap", on_stored=advance)
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
        raise _network_failure(settings, exc) from exc


def fetch_mailbox(
    mailbox: Mailbox,
    *,
    mark_seen: bool = False,
    stop: threading.Event | None = None,
    on_message: MessageCallback | None = None,
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
            )
        finally:
            _close(conn)
    except ImapFailure as failure:
        report.error = failure.message
        _log_failure(mailbox, settings, failure)
    return report


def _log_failure(mailbox: Mailbox, settings: ImapSettings, failure: ImapFailure) -> None:
    log.warning(
        "IMAP fetch of mailbox %s (workspace %s, %s:%s, folder %s) failed; retrying on the next run: %s",
        mailbox.address,
        mailbox.workspace_id,
        settings.host,
        settings.port,
        settings.folder,
        failure.message,
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


# ---------------------------------------------------------------------------------------------------- IDLE


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
        close_old_connections()
        mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).exclude(imap_host="").first()
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
                    if on_report is not None:
                        on_report(report)
                    pause = RETRY_MIN_SECONDS
                    report = FetchReport(mailbox=mailbox.address, folder=settings.folder)
                    try:
                        if can_idle:
                            can_idle = _idle(conn, idle_seconds, stop) is not None
                        if not can_idle:
                            stop.wait(poll_seconds)
                        conn.noop()  # lets the server tell the session about mail that arrived meanwhile
                    except (OSError, imaplib.IMAP4.error) as exc:
                        raise _network_failure(settings, exc) from exc
                    close_old_connections()
                    fresh = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
                    if fresh is None or ImapSettings.of(fresh) != settings:
                        break  # reconnect with the new settings (or stop fetching an inactive mailbox)
            finally:
                _close(conn)
        except ImapFailure as failure:
            report.error = failure.message
            _log_failure(mailbox, settings, failure)
            if on_report is not None:
                on_report(report)
            stop.wait(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)
        except Exception:  # the database went away, say; the watcher must outlive it and try again
            log.exception("IMAP watcher of mailbox %s failed; retrying in %s s", mailbox.address, pause)
            stop.wait(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)


# ---------------------------------------------------------------------------------------------------- settings page


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    message_count: int | None = None


def check_connection(*, actor: Agent, values: MailboxSettings, mailbox: Mailbox | None) -> ConnectionCheck:
    """The settings page's "Test connection": sign in with the entered values (the stored password or token when
    the field was left empty) and count the folder's messages. Changes nothing, here or on the server."""
    if actor.role not in ADMIN_ROLES:
        raise PermissionDenied(_("Only admins can manage mailboxes."))
    if mailbox is not None and mailbox.workspace_id != actor.workspace_id:
        raise PermissionDenied(_("Only admins can manage mailboxes."))
    secret = values.imap_secret
    if secret is None:
        secret = mailbox.imap_secret if mailbox is not None else ""
    settings = ImapSettings(
        host=values.imap_host.strip(),
        port=values.imap_port,
        security=values.imap_security,
        username=values.imap_username.strip(),
        secret=secret,
        auth=values.imap_auth,
        folder=values.imap_folder.strip() or "INBOX",
    )
    if not settings.username:
        return ConnectionCheck(ok=False, message=_("IMAP needs a user name."))
    try:
        conn = connect(settings, timeout=CHECK_TIMEOUT)
        try:
            folder = open_folder(conn, settings, readonly=True)
        finally:
            _close(conn)
    except ImapFailure as failure:
        return ConnectionCheck(ok=False, message=failure.message)
    return ConnectionCheck(
        ok=True,
        message=_("Signed in. The folder %(folder)s holds %(count)d messages.")
        % {"folder": settings.folder, "count": folder.exists},
        message_count=folder.exists,
    )
