"""Sign-in throttling: per account and client address, per client address, and per account.

Any form that checks a password or sends a secret to an address (sign-in, password reset) asks
``begin_attempt`` first and refuses when it answers False; after a successful sign-in it calls
``attempt_succeeded``. Three counters per window of ``DESKLOOP_LOGIN_WINDOW_SECONDS``, counted by one atomic
statement (``core.plain_sql.count_in_window``) *before* the password is checked, so concurrent attempts cannot
pass a limit:

- account + address: ``DESKLOOP_LOGIN_ATTEMPTS`` tries (guessing one agent's password from one place);
- address: ``DESKLOOP_LOGIN_IP_ATTEMPTS`` tries over any accounts (spraying many accounts from one place);
- account: ``DESKLOOP_LOGIN_ACCOUNT_ATTEMPTS`` tries from anywhere (a guess from many addresses). Past it the
  account is not locked: each address gets one try per window instead of the usual allowance. A locked account
  would let anyone lock an agent out from anywhere, indefinitely; one try per address keeps a distributed guess
  to one per address and window and lets the agent in from a clean address (docs/architecture.md).

The address is the real client behind the trusted proxies (``core.client_ip``); IPv6 clients are counted by
their /64, which one machine usually owns whole. Keys are hashes: the counters hold no email or address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils.translation import gettext_noop

from deskloop.core.models import SignInCounter
from deskloop.core.plain_sql import count_in_window

THROTTLED = gettext_noop("Too many failed sign-in attempts. Wait a few minutes and try again.")
# One try per address and window while the account is under a guess from many addresses.
TRIES_PER_ADDRESS_UNDER_ATTACK = 1


def _hashed(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:48]


def _address_block(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address)


@dataclass(frozen=True)
class AttemptKeys:
    pair: str
    address: str
    account: str

    @classmethod
    def of(cls, email: str, ip: str) -> AttemptKeys:
        account = email.strip().lower()
        block = _address_block(ip)
        return cls(pair=_hashed("ai", f"{account}|{block}"), address=_hashed("i", block), account=_hashed("a", account))


def _window() -> int:
    return int(time.time() // max(1, int(settings.DESKLOOP_LOGIN_WINDOW_SECONDS)))


def begin_attempt(*, email: str, ip: str) -> bool:
    """Count a sign-in attempt for ``email`` from ``ip``; False when it is over a limit (refuse it unchecked)."""
    keys = AttemptKeys.of(email, ip)
    counts = count_in_window(SignInCounter, [keys.pair, keys.address, keys.account], _window())
    if counts[keys.address] > int(settings.DESKLOOP_LOGIN_IP_ATTEMPTS):
        return False
    per_address = int(settings.DESKLOOP_LOGIN_ATTEMPTS)
    if counts[keys.account] > int(settings.DESKLOOP_LOGIN_ACCOUNT_ATTEMPTS):
        per_address = min(per_address, TRIES_PER_ADDRESS_UNDER_ATTACK)
    return counts[keys.pair] <= per_address


def attempt_succeeded(*, email: str, ip: str) -> None:
    """The password was right: this attempt was no guess. Uncount it from the address and the account (an office
    behind one address signs in all morning) and forget the pair's earlier misses."""
    keys = AttemptKeys.of(email, ip)
    SignInCounter.objects.filter(key=keys.pair).delete()
    SignInCounter.objects.filter(key__in=[keys.address, keys.account], window_start=_window(), hits__gt=0).update(
        hits=F("hits") - 1
    )


def purge_signin_counters(now: float | None = None) -> int:
    """Delete the counters of windows that have ended; returns how many."""
    window = int((time.time() if now is None else now) // max(1, int(settings.DESKLOOP_LOGIN_WINDOW_SECONDS)))
    deleted, _by_model = SignInCounter.objects.filter(window_start__lt=window).delete()
    return deleted
