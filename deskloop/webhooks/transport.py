"""Sending one webhook request safely: only http(s), only to public addresses, to the address that was checked.

SSRF defence: the host name is resolved once, every address it resolves to must be public (unless the workspace
allows private targets), and the connection is made to that checked address while the Host header and TLS SNI
carry the original name. Re-resolving at connect time would let a DNS answer change between the check and the
connection (rebinding). Redirects are never followed: a 3xx is a failed attempt like any other non-2xx.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed
from deskloop.core.outbound_addresses import PrivateAddress, resolve_allowed

TIMEOUT_SECONDS = 10.0
# Read at most this much of a response; a receiver streaming forever must not tie up a worker.
RESPONSE_READ_LIMIT = 64 * 1024
USER_AGENT = "Deskloop-Webhooks/1.0"


@dataclass(frozen=True)
class Target:
    """A checked destination: where to connect (``address``) and what to call it (``host``)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    duration_ms: int


class DeliveryError(Exception):
    """The request could not be made or did not complete (refused target, DNS, connect, TLS, timeout)."""


def _parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed(_("“%(url)s” is not a valid URL.") % {"url": url}, field="url") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationFailed(_("A webhook URL must start with http:// or https://."), field="url")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationFailed(_("“%(url)s” is not a valid URL.") % {"url": url}, field="url")
    if parts.username or parts.password:
        raise ValidationFailed(
            _("Credentials in a webhook URL are not supported; remove “user:password@”."), field="url"
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Check ``url`` and pick the address to connect to; ValidationFailed with a human message otherwise."""
    scheme, host, port, path = _parse(url)
    try:
        chosen = resolve_allowed(host, port, allow_private=allow_private)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationFailed(
            _("The host name “%(host)s” could not be resolved.") % {"host": host}, field="url"
        ) from exc
    except PrivateAddress as refused:
        raise ValidationFailed(
            _(
                "“%(host)s” points to a private or local address (%(address)s). Webhooks are only sent to "
                "public addresses unless a workspace owner allows private targets."
            )
            % {"host": host, "address": refused.address},
            field="url",
            code="private_target",
        ) from refused
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(chosen))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # SNI and certificate checks use the name from the URL, not the IP we connected to.
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post(
    target: Target,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float = TIMEOUT_SECONDS,
    tls_context: ssl.SSLContext | None = None,
) -> Response:
    """POST ``body`` to the checked target. Raises DeliveryError when no HTTP response came back."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout, tls_context or ssl.create_default_context())
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers},
        )
        reply = connection.getresponse()
        content = reply.read(RESPONSE_READ_LIMIT)
        return Response(status=reply.status, body=content, duration_ms=int((time.monotonic() - started) * 1000))
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(_describe(exc)) from exc
    finally:
        connection.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("Timed out after %(seconds)d seconds.") % {"seconds": int(TIMEOUT_SECONDS)}
    if isinstance(exc, ssl.SSLError):
        return _("TLS error: %(error)s") % {"error": exc}
    if isinstance(exc, ConnectionRefusedError):
        return _("Connection refused.")
    return f"{type(exc).__name__}: {exc}"[:500]
