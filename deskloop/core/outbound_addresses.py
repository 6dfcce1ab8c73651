"""The one outbound address policy: which hosts Deskloop may connect to on a user's say-so (webhook URLs, IMAP
servers of mailboxes).

A workspace admin types a host name; without this policy Deskloop would connect wherever it points, including
services on the server itself or its private network that no outsider should reach (SSRF, port probing). A host
is resolved once, every address it resolves to must be public unless the caller allows private ones, and the
caller connects to the address that was checked (re-resolving would let a DNS answer change in between).
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddress(Exception):
    """The host resolves to a private or local address; ``address`` is the first such one."""

    def __init__(self, host: str, address: IPAddress) -> None:
        super().__init__(f"{host} resolves to {address}")
        self.host = host
        self.address = address


def is_private_address(ip: IPAddress) -> bool:
    """True for anything that is not a public unicast address: private, loopback, link-local, multicast,
    reserved, unspecified, shared (CGNAT), documentation ranges, and IPv4 addresses hidden inside IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return True if ip.teredo else is_private_address(embedded)
        if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64 reaches IPv4 through a translator
            return is_private_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve_allowed(host: str, port: int, *, allow_private: bool) -> IPAddress:
    """The address to connect to for ``host``. Raises ``socket.gaierror`` when the name does not resolve and
    ``PrivateAddress`` when any of its addresses is private and private ones are not allowed: a name resolving
    to one public and one private address could be connected either way, and attackers control which comes first.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    if not allow_private:
        refused = [ip for ip in addresses if is_private_address(ip)]
        if refused:
            raise PrivateAddress(host, refused[0])
    return addresses[0]
