"""HMAC-SHA256 signatures over ``<timestamp>.<body>``: how Deskloop signs and how a receiver verifies.

The header is ``X-Deskloop-Signature: t=<unix seconds>,v1=<hex digest>``. Signing the timestamp with the
body lets a receiver refuse replays of an old captured request (see ``verify_signature``'s tolerance).
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_SECONDS = 300


def compute_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={compute_signature(secret=secret, timestamp=timestamp, body=body)}"


def verify_signature(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: parse the header, check the timestamp is recent, compare in constant time."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = compute_signature(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
