"""Connecting to a mailbox's IMAP server: TLS (implicit or STARTTLS; clear text only to this machine), sign-in
with a password or an OAuth2 access token (SASL XOAUTH2), and opening the folder. Every problem becomes an
``ImapFailure`` whose message an admin can act on; the settings page's "Test connection" shows it as it is."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import PermissionDenied

from ..models import Mailbox

MAILBOXES_ADMINS_ONLY = gettext_noop("Only admins can manage mailboxes.")

IMAP_TIMEOUT = 60.0  # seconds for connecting and for each read
CHECK_TIMEOUT = 15.0  # the settings page's "Test connection" waits less
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


def network_failure(settings: ImapSettings, exc: BaseException) -> ImapFailure:
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
        raise network_failure(settings, exc) from exc
    try:
        if settings.security == "starttls":
            conn.starttls(ssl_context=_tls_context())
        if settings.auth == "xoauth2":
            conn.authenticate("XOAUTH2", _xoauth2(settings.username, settings.secret))
        else:
            conn.login(settings.username, settings.secret)
    except imaplib.IMAP4.abort as exc:
        close(conn)
        raise network_failure(settings, exc) from exc
    except imaplib.IMAP4.error as exc:
        close(conn)
        if settings.security == "starttls" and conn.state == "NONAUTH" and "STARTTLS" not in conn.capabilities:
            raise ImapFailure(_("%(host)s does not offer STARTTLS; choose SSL/TLS.") % {"host": settings.host}) from exc
        raise ImapFailure(_("Sign-in was refused: %(reason)s") % {"reason": _text(exc)}) from exc
    except UnicodeEncodeError as exc:
        close(conn)
        raise ImapFailure(_("IMAP sign-in needs a user name and password in plain ASCII.")) from exc
    except OSError as exc:
        close(conn)
        raise network_failure(settings, exc) from exc
    return conn


def close(conn: imaplib.IMAP4) -> None:
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
        raise network_failure(settings, exc) from exc
    return OpenFolder(uidvalidity=uidvalidity, exists=exists, can_idle=can_idle)


def _status_uidvalidity(conn: imaplib.IMAP4, settings: ImapSettings) -> int:
    _status, data = conn.status(_encode_folder(settings.folder), "(UIDVALIDITY)")
    found = re.search(rb"UIDVALIDITY\s+(\d+)", data[0] if data and isinstance(data[0], bytes) else b"")
    if found is None:
        raise ImapFailure(_("The server did not report the folder's UIDVALIDITY."))
    return int(found.group(1))


# ---------------------------------------------------------------------------------------------------- settings page


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    message_count: int | None = None


def check_connection(
    *, actor: Agent, mailbox: Mailbox | None, settings: ImapSettings, use_stored_secret: bool
) -> ConnectionCheck:
    """The settings page's "Test connection": sign in with the entered settings and count the folder's messages.
    ``use_stored_secret``: the password field was left empty, which on the form means "keep the stored one".
    Changes nothing, here or on the server."""
    require_admin(actor, MAILBOXES_ADMINS_ONLY)
    if mailbox is not None and mailbox.workspace_id != actor.workspace_id:
        raise PermissionDenied(_(MAILBOXES_ADMINS_ONLY))
    if use_stored_secret:
        settings = replace(settings, secret=mailbox.imap_secret if mailbox is not None else "")
    if not settings.host:
        return ConnectionCheck(ok=False, message=_("Enter the IMAP host first."))
    if not settings.username:
        return ConnectionCheck(ok=False, message=_("IMAP needs a user name."))
    try:
        conn = connect(settings, timeout=CHECK_TIMEOUT)
        try:
            folder = open_folder(conn, settings, readonly=True)
        finally:
            close(conn)
    except ImapFailure as failure:
        return ConnectionCheck(ok=False, message=failure.message)
    message = ngettext(
        "Signed in. The folder %(folder)s holds %(count)d message.",
        "Signed in. The folder %(folder)s holds %(count)d messages.",
        folder.exists,
    ) % {"folder": settings.folder, "count": folder.exists}
    return ConnectionCheck(ok=True, message=message, message_count=folder.exists)
