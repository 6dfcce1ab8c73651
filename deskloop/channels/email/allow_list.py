"""The workspace's allow list for list/bulk mail: which From addresses are never refused as list mail.

An entry is an address or a domain; a domain covers its subdomains (mail.customer.example sends for
customer.example). The From address can be forged, so the allow list only lifts the list/bulk refusal: every other
rule (bounces, loops, blocked senders, agent trust) still applies to allowed mail.
"""

from __future__ import annotations

from .decide import AllowedSender
from .models import SenderAllowance


def _patterns_naming(address: str) -> list[str]:
    """Every entry that would name ``address``: the address itself, its domain and each parent domain."""
    address = address.lower()
    labels = address.rpartition("@")[2].split(".")
    return [address, *(".".join(labels[i:]) for i in range(len(labels)))]


def allowed_sender(workspace_id: int) -> AllowedSender:
    """The allow-list check for one message of ``workspace_id``; it asks the database only when it is asked, and
    then by the (workspace, pattern) index, however long the list."""

    def allowed(address: str) -> bool:
        return SenderAllowance.objects.filter(workspace_id=workspace_id, pattern__in=_patterns_naming(address)).exists()

    return allowed
