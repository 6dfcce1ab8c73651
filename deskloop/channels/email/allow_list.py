"""The workspace's allow list for list/bulk mail: which From addresses are never refused as list mail.

An entry is an address or a domain; a domain covers its subdomains (mail.customer.example sends for
customer.example). The From address can be forged, so the allow list only lifts the list/bulk refusal: every other
rule (bounces, loops, blocked senders, agent trust) still applies to allowed mail.
"""

from __future__ import annotations

from collections.abc import Iterable

from .decide import AllowedSender
from .models import SenderAllowance


def covers(patterns: Iterable[str], address: str) -> bool:
    """Whether one of ``patterns`` (normalized: lower-case addresses and domains) names ``address``."""
    address = address.lower()
    domain = address.rpartition("@")[2]
    for pattern in patterns:
        if "@" in pattern:
            if pattern == address:
                return True
        elif domain == pattern or domain.endswith("." + pattern):
            return True
    return False


def allowed_sender(workspace_id: int) -> AllowedSender:
    """The allow-list check for one message of ``workspace_id``; it reads the list only when it is asked."""

    def allowed(address: str) -> bool:
        patterns = SenderAllowance.objects.filter(workspace_id=workspace_id).values_list("pattern", flat=True)
        return covers(patterns, address)

    return allowed
