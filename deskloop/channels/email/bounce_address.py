"""The envelope sender of the email we send: the mailbox address tagged with the sent email and a signature
(VERP, "support+dlb.1234.5f0c...@acme.example"), so that a bounce, which goes to the envelope sender, names the
email it is about in an address nobody can forge.

A bounce changes an address's state only when it is about an email we sent (deliver.act_on_bounce): this tag, or
our signed Message-ID among the returned headers, is what proves it. The mail server must deliver the tagged
address to the mailbox (plus addressing; ``Mailbox.tag_bounce_address`` switches the tag off where it does not);
our own SMTP/LMTP receiver does (``smtpd.mailbox_for``).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_TAG = re.compile(r"\+dlb\.(\d{1,19})\.([0-9a-f]{16})(?=@)", re.IGNORECASE)
_SIGNATURE_HEX = 16
_LOCAL_PART_MAX = 64  # RFC 5321 4.5.3.1.1


def _signature(outbound_id: int) -> str:
    key = hashlib.sha256(b"deskloop.email.bounce-address:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, str(outbound_id).encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def tagged(address: str, outbound_id: int) -> str:
    """``address`` with the signed tag of the sent email ``outbound_id``; unchanged if the tag would not fit."""
    local, at, domain = address.rpartition("@")
    candidate = f"{local}+dlb.{outbound_id}.{_signature(outbound_id)}"
    if not at or len(candidate) > _LOCAL_PART_MAX:
        return address
    return f"{candidate}@{domain}"


def untagged(address: str) -> str:
    """The mailbox address a tagged one delivers to (any other address unchanged)."""
    return _TAG.sub("", address, count=1)


def sent_email_of(address: str) -> int | None:
    """The id of the email whose tagged envelope sender ``address`` is, or None (untagged, or a forged tag)."""
    match = _TAG.search(address)
    if match is None:
        return None
    outbound_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), _signature(outbound_id)):
        return None
    return outbound_id
