"""What to do with one inbound email: refuse it (and why) or deliver it (and from whom).

Pure: the raw bytes and the workspace's mailboxes go in, a ``Decision`` comes out, with no database access (an
import-linter contract keeps Django out of this module), so the rules can be read and tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from .dsn import DeliveryReport, parse_dsn
from .noise import LOOP_MARKER, classify
from .parsing import ParsedEmail, parse_message

DETAIL_MAX = 4000


class Refusal:
    """Why a message was refused on purpose (``InboundEmail.refusal_reason``)."""

    TOO_LARGE = "too_large"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    LOOP = "loop"
    LIST = "list"  # Precedence bulk/junk/list, List-Id, List-Unsubscribe on bulk mail (noise._list)
    BLOCKED_SENDER = "blocked_sender"
    NO_SENDER = "no_sender"


# noise.Verdict.kind -> refusal reason (both vocabularies are the same words today; the map keeps them apart).
_NOISE_REFUSALS = {
    "bounce": Refusal.BOUNCE,
    "auto_reply": Refusal.AUTO_REPLY,
    "loop": Refusal.LOOP,
    "list": Refusal.LIST,
}

# Refusals an admin may overrule with "Deliver it anyway": the classification may be wrong about a person (a CRM's
# headers, a subject that reads like an out-of-office). Bounces, loops and the rest are never delivered: a bounce
# delivered opens a ticket that acknowledges into the loop the refusal exists to stop.
OVERRULABLE = frozenset({Refusal.LIST, Refusal.AUTO_REPLY})

# Whether a sender address is on the workspace's allow list (mail from it is never refused as list/bulk). Asked
# only for mail the rules call list mail, so ordinary mail costs no lookup.
AllowedSender = Callable[[str], bool]


def _nobody_allowed(_address: str) -> bool:
    return False


# Turns an address as written into the form contacts are stored under, or None when it is not usable. Given by
# the caller (the customers app validates addresses), so this module needs no Django.
UsableAddress = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification says (read from the message alone)."""

    report: DeliveryReport
    failed: list[str]  # the permanently failed recipients' usable addresses, in report order
    detail: str  # why it is a bounce and each recipient's line, as InboundEmail.detail shows it
    # What may prove the bounce is about an email we sent (deliver.act_on_bounce checks): the header values that
    # can carry our tagged envelope sender, and the Message-IDs the bounce itself answers.
    envelope_headers: tuple[str, ...] = ()
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """``refusal`` names why the message is refused ("" when it is delivered, from ``sender``). ``detail`` is the
    evidence for noise and bounces; the pipeline words the other refusals. ``shown``: whether anyone will see the
    message (noise is never shown, so what the ticket page would show first is not worked out for it)."""

    refusal: str
    parsed: ParsedEmail | None  # None when refused before parsing (too large)
    size: int
    max_bytes: int
    detail: str = ""
    sender: str | None = None
    bounce: Bounce | None = None
    shown: bool = True


def decide(
    raw: bytes,
    *,
    max_bytes: int,
    own_addresses: Collection[str],
    usable: UsableAddress,
    allowed: AllowedSender = _nobody_allowed,
    overruled: Collection[str] = (),
) -> Decision:
    """Decide ``raw`` for a mailbox accepting up to ``max_bytes``; ``own_addresses``: the workspace's mailbox
    addresses, normalized (mail from any of them is a loop). ``allowed``: whether a From address is on the allow
    list; ``overruled``: refusals (of ``OVERRULABLE``) an admin overruled for this message. Never raises for a bad
    message."""
    if len(raw) > max_bytes:
        return Decision(Refusal.TOO_LARGE, None, len(raw), max_bytes)
    parsed = parse_message(raw)
    verdict = classify(parsed, loop_marker=LOOP_MARKER, own_addresses=own_addresses)
    if verdict.kind == "bounce":
        bounce = read_bounce(parsed, verdict.reason, usable)
        return Decision(Refusal.BOUNCE, parsed, len(raw), max_bytes, bounce.detail, bounce=bounce, shown=False)
    refusal = _NOISE_REFUSALS.get(verdict.kind, "")
    if refusal == Refusal.LIST and parsed.from_ is not None:
        from_address = usable(parsed.from_.address)
        if from_address is not None and allowed(from_address):
            refusal = ""
    if refusal in overruled and refusal in OVERRULABLE:
        refusal = ""
    if refusal:
        return Decision(refusal, parsed, len(raw), max_bytes, verdict.reason, shown=False)
    candidates = (parsed.from_, *parsed.reply_to, parsed.sender)
    sender = next(
        (usable_one for c in candidates if c is not None and (usable_one := usable(c.address)) is not None), None
    )
    if sender is None:
        return Decision(Refusal.NO_SENDER, parsed, len(raw), max_bytes)
    if sender in own_addresses:
        # Our own mailbox writing to itself (through Reply-To or Sender): an MTA or a forwarding rule loops.
        return Decision(Refusal.LOOP, parsed, len(raw), max_bytes)
    return Decision("", parsed, len(raw), max_bytes, sender=sender)


def read_bounce(parsed: ParsedEmail, why: str, usable: UsableAddress) -> Bounce:
    report = parse_dsn(parsed)
    failed = [
        usable_one
        for recipient in report.recipients
        if recipient.is_permanent and (usable_one := usable(recipient.address)) is not None
    ]
    lines = [why] + [
        f"{r.address}: {r.action} {r.status}".rstrip() + (f" ({r.diagnostic[:200]})" if r.diagnostic else "")
        for r in report.recipients
    ]
    envelope_headers = tuple(
        value[:500] for name in _ENVELOPE_HEADERS for value in parsed.header_all(name) if "+dlb." in value.lower()
    )
    references = tuple(r for r in (parsed.in_reply_to, *parsed.references[-20:]) if r)
    return Bounce(report, failed, "\n".join(lines)[:DETAIL_MAX], envelope_headers, references)


# Where a bounce names the envelope sender it was sent to: the MTA writing the DSN addresses it To that sender,
# and the receiving server records it in one of the others.
_ENVELOPE_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "Return-Path")
