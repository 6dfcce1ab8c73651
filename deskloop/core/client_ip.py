"""The address of the client a request comes from, seen through the reverse proxies the operator trusts.

``REMOTE_ADDR`` is the direct peer: the client itself, or a proxy in front of Deskloop. ``X-Forwarded-For`` is
believed only when that peer is a trusted proxy (``DESKLOOP_TRUSTED_PROXIES``, a list of addresses or CIDR
networks): anyone can send the header, so an untrusted peer's copy is ignored. Read from the right, each entry
was appended by the hop before it; the first entry (from the right) that is not a trusted proxy is the client.
Entries to its left were written by the client and are not believed.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.cache
def _trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def trusted_proxies() -> tuple[Network, ...]:
    """``DESKLOOP_TRUSTED_PROXIES`` parsed (a bad entry fails at the first request, naming itself)."""
    return _trusted_networks(tuple(settings.DESKLOOP_TRUSTED_PROXIES))


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: Address, networks: Sequence[Network]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address as text ("" when the peer's address is not an IP address, e.g. a Unix socket)."""
    peer = _address(str(request.META.get("REMOTE_ADDR", "")))
    if peer is None:
        return ""
    networks = trusted_proxies()
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    # Several X-Forwarded-For headers reach Django joined by commas, in order (WSGI): one list of hops.
    hops = str(request.headers.get("X-Forwarded-For", "")).split(",")
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage written by the client: the last proxy that appended a valid entry is what we know
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)
