"""Connecting to a mailbox's IMAP server: TLS (implicit or STARTTLS; clear text only to this machine), sign-in
with a password or an OAuth2 access token (SASL XOAUTH2), and opening the folder. Every problem becomes an
``ImapFailure``: a message of our own an admin can act on and a safe error class, never the far side's words.

The host is checked against the outbound address policy (``core.outbound_addresses``, the same as webhooks'):
a private or local address is refused unless the installation allows it (``DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS``
for a self-hosted mail server), and the connection goes to the address that was checked. Otherwise any workspace
admin could use "Test connection" to probe the server's own network and read back the banners of what answers
there; for the same reason the server's answers (and the TLS library's) go to the log only."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings as django_settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import PermissionDenied
from deskloop.core.outbound_addresses import PrivateAddress, resolve_allowed

from ..models import Mailbox

log = logging.getLogger(__name__)

MAILBOXES_ADMINS_ONLY = gettext_noop("Only admins can manage mailboxes.")

IMAP_TIMEOUT = 60.0  # seconds for connecting and for each read
CHECK_TIMEOUT = 15.0  # the settings page's "Test connection" waits less
# Dovecot ends its answers with how long they took ("(0.001 + 0.000 secs)."): noise in a message for an admin.
_TIMING = re.compile(r"\s*\(\d+\.\d+( \+ \d+\.\d+)* secs\)\.?$")


class ImapFailure(Exception):
    """The server could not be reached, secured, signed in to, or read. ``message`` says which, for an admin, in
    our own words; ``code`` is a safe error class (shown beside it); ``detail`` is what the server or the TLS
    library said, for the log only."""

    def __init__(self, message: str, *, code: str = "imap_failed", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail

    @property
    def shown(self) -> str:
        """What a person is shown: the message and the error class."""
        return _("%(message)s (error: %(code)s)") % {"message": self.message, "code": self.code}


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
    detail = _text(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ImapFailure(
            _("The TLS certificate of %(where)s was refused; it must be valid for this host name.") % {"where": where},
            code="tls_certificate",
            detail=exc.verify_message or detail,
        )
    if isinstance(exc, ssl.SSLError):
        return ImapFailure(
            _("The TLS handshake with %(where)s failed.") % {"where": where}, code="tls_handshake", detail=detail
        )
    if isinstance(exc, socket.gaierror):
        return ImapFailure(
            _("The IMAP host %(host)s was not found.") % {"host": settings.host}, code="host_not_found", detail=detail
        )
    if isinstance(exc, ConnectionRefusedError):
        return ImapFailure(_("%(where)s refused the connection.") % {"where": where}, code="refused", detail=detail)
    if isinstance(exc, TimeoutError):
        return ImapFailure(_("%(where)s did not answer in time.") % {"where": where}, code="timeout", detail=detail)
    if isinstance(exc, imaplib.IMAP4.abort):
        return ImapFailure(
            _("The connection to %(where)s broke.") % {"where": where}, code="connection_lost", detail=detail
        )
    if isinstance(exc, imaplib.IMAP4.error):
        return ImapFailure(
            _("%(where)s did not answer as an IMAP server should.") % {"where": where},
            code="protocol_error",
            detail=detail,
        )
    return ImapFailure(
        _("The connection to %(where)s failed.") % {"where": where}, code="connection_failed", detail=detail
    )


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


class _PinnedIMAP4(imaplib.IMAP4):
    """IMAP over a connection to the checked ``address``, not to whatever ``host`` resolves to by then."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


class _PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, ssl_context=_tls_context(), timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        raw = socket.create_connection((self._address, self.port), timeout)
        # SNI and the certificate check use the configured name, not the address connected to.
        tls: ssl.SSLContext = self.ssl_context
        return tls.wrap_socket(raw, server_hostname=self.host)


def _checked_address(settings: ImapSettings) -> str:
    """The address to connect to, under the outbound address policy. Raises ImapFailure."""
    allow_private = django_settings.DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS
    try:
        return str(resolve_allowed(settings.host.strip("[]"), settings.port, allow_private=allow_private))
    except (OSError, UnicodeError) as exc:
        raise network_failure(settings, exc if isinstance(exc, OSError) else socket.gaierror(str(exc))) from exc
    except PrivateAddress as refused:
        raise ImapFailure(
            _(
                "%(host)s points to a private or local address. Mail servers on a private network are only "
                "reached when the installation allows it (DESKLOOP_IMAP_ALLOW_PRIVATE_HOSTS)."
            )
            % {"host": settings.host},
            code="private_address",
            detail=str(refused),
        ) from refused


def connect(settings: ImapSettings, *, timeout: float = IMAP_TIMEOUT) -> imaplib.IMAP4:
    """A signed-in connection, secured as configured. Raises ImapFailure."""
    if not settings.host:
        raise ImapFailure(_("No IMAP host is set for this mailbox."), code="no_host")
    if settings.security == "none" and not _is_loopback(settings.host):
        # The password would cross the network in clear text; only a server on this machine may do without TLS.
        raise ImapFailure(
            _("IMAP without encryption is only allowed to a server on this machine; choose SSL/TLS or STARTTLS."),
            code="encryption_required",
        )
    address = _checked_address(settings)
    try:
        if settings.security == "ssl":
            conn: imaplib.IMAP4 = _PinnedIMAP4SSL(settings.host, settings.port, address=address, timeout=timeout)
        else:
            conn = _PinnedIMAP4(settings.host, settings.port, address=address, timeout=timeout)
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
            raise ImapFailure(
                _("%(host)s does not offer STARTTLS; choose SSL/TLS.") % {"host": settings.host},
                code="no_starttls",
                detail=_text(exc),
            ) from exc
        raise ImapFailure(
            _("Sign-in was refused. Check the user name and the password or token."),
            code="sign_in_refused",
            detail=_text(exc),
        ) from exc
    except UnicodeEncodeError as exc:
        close(conn)
        raise ImapFailure(
            _("IMAP sign-in needs a user name and password in plain ASCII."), code="non_ascii_credentials"
        ) from exc
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
            raise ImapFailure(
                _("The folder %(folder)s cannot be opened; check its name.") % {"folder": settings.folder},
                code="folder_unavailable",
                detail=_text(data[0] if data and data[0] else status),
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
        raise ImapFailure(_("The server did not report the folder's UIDVALIDITY."), code="protocol_error")
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
        log.info(
            "IMAP connection test to %s:%s failed (%s): %s", settings.host, settings.port, failure.code, failure.detail
        )
        return ConnectionCheck(ok=False, message=failure.shown)
    message = ngettext(
        "Signed in. The folder %(folder)s holds %(count)d message.",
        "Signed in. The folder %(folder)s holds %(count)d messages.",
        folder.exists,
    ) % {"folder": settings.folder, "count": folder.exists}
    return ConnectionCheck(ok=True, message=message, message_count=folder.exists)
