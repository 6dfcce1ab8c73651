"""Who bounced, why, and which of our messages it was: ``parse_dsn`` reads delivery reports.

The pipeline uses the result to mark a recipient address as bouncing and to find the ticket whose message
bounced (through the original Message-ID). Sources, most reliable first:

1. RFC 3464 ``message/delivery-status`` fields: Final-Recipient (else Original-Recipient), Action, Status,
   Diagnostic-Code, and Exchange's X-Original-Message-ID.
2. ``X-Failed-Recipients`` (exim and others add it to plain-text bounces).
   An ARF abuse report (RFC 5965) gives its complainer with the action "complained", and nothing else.
3. Amazon SES notifications (JSON ``bouncedRecipients`` / ``complainedRecipients``).
4. The bounce text of MTAs that send no DSN (qmail, old sendmail, Exchange 2003, carrier gateways): addresses
   in the part of the text that precedes the returned message, with the nearest enhanced status code.

The original Message-ID comes from the returned message (message/rfc822), the returned headers
(text/rfc822-headers), or a ``Message-ID:`` line in the body. Never raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .addresses import is_plausible_address, normalize_address
from .charsets import decode_bytes
from .header_text import normalize_message_id
from .parsing import ParsedEmail, parse_message

__all__ = ["DeliveryReport", "FailedRecipient", "parse_dsn"]


@dataclass(frozen=True)
class FailedRecipient:
    address: str  # normalized (lower-case, no brackets)
    action: str  # RFC 3464 action: failed, delayed, delivered, relayed, expanded; "failed" when a text says so
    status: str  # enhanced status code ("5.1.1"), "" when unknown
    diagnostic: str  # the remote server's words, whitespace-collapsed, at most 500 characters

    @property
    def is_permanent(self) -> bool:
        return self.action == "failed" and not self.status.startswith("4")


@dataclass(frozen=True)
class DeliveryReport:
    recipients: tuple[FailedRecipient, ...]
    original_message_id: str  # without <>, "" when the report does not say
    source: str  # which source gave the recipients: "dsn", "x-failed-recipients", "ses", "text", or ""

    @property
    def failed(self) -> tuple[FailedRecipient, ...]:
        return tuple(r for r in self.recipients if r.action == "failed")


_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS = re.compile(r"<?([A-Za-z0-9._%+'=/!#$&*?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>?")
_MESSAGE_ID_LINE = re.compile(r"^\s*>?\s*Message-ID:\s*(<[^<>\s]+>|\S+@\S+)", re.IGNORECASE | re.MULTILINE)
# Where a bounce text stops talking about the failure and starts quoting the returned message.
_RETURNED_MARKER = re.compile(
    r"^.*(-{3,}.*(original message|returned message|message (body|headers) follow|copy of the message|"
    r"undelivered message)|original message follows|text of your message|this is a copy of|"
    r"your message reads|below this line is a copy|"
    r"------ This is a copy).*$",
    re.IGNORECASE | re.MULTILINE,
)
# Lines of quoted headers whose addresses are not the failed recipient: ids, the sender, Received trails.
_NOT_A_RECIPIENT_LINE = re.compile(
    r"\s*>?\s*(message-id|references|in-reply-to|from|cc|bcc|reply-to|sender|return-path|received|x-[\w-]+)\s*:",
    re.IGNORECASE,
)
_RECEIVED_FOR = re.compile(r"\bfor\s+<?$", re.IGNORECASE)
_SYSTEM_LOCAL = re.compile(r"^(mailer-?daemon|postmaster|post_master|root|bounce|noreply|no-reply)$", re.IGNORECASE)


def parse_dsn(message: ParsedEmail | bytes) -> DeliveryReport:
    """Read a bounce (or any message: a normal one gives an empty report). Never raises."""
    parsed = parse_message(message) if isinstance(message, bytes) else message
    original = _original_message_id(parsed)
    for source, reader in (("dsn", _from_delivery_status), ("x-failed-recipients", _from_header)):
        recipients = reader(parsed)
        if recipients:
            return DeliveryReport(tuple(recipients), original or _x_original_id(parsed), source)
    if parsed.report_type == "feedback-report" or any(
        a.content_type == "message/feedback-report" for a in parsed.attachments
    ):
        # An abuse report names the complainer, never a failed delivery: its free text is not read for addresses
        # (that once made every address in a complaint "bouncing").
        return DeliveryReport(tuple(_from_feedback_report(parsed)), original, "arf")
    ses = _from_ses(parsed)
    if ses is not None:
        return DeliveryReport(tuple(ses[0]), original or ses[1], "ses")
    text = _from_text(parsed)
    return DeliveryReport(tuple(text), original, "text" if text else "")


def _fields(block: str) -> list[tuple[str, str]]:
    """``Name: value`` lines with continuation lines unfolded."""
    fields: list[tuple[str, str]] = []
    for line in block.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip().lower(), value.strip()))
    return fields


def _address_from_field(value: str) -> str:
    # "rfc822; <user@example.org>" — the type may be missing or wrong ("RFC822", "X-Unknown").
    text = value.split(";", 1)[1] if ";" in value else value
    match = _ADDRESS.search(text)
    return normalize_address(match.group(1)) if match else ""


def _collapse(value: str) -> str:
    return " ".join(value.split())[:500]


def _from_delivery_status(parsed: ParsedEmail) -> list[FailedRecipient]:
    found: list[FailedRecipient] = []
    seen: set[str] = set()
    for attachment in parsed.attachments:
        if attachment.content_type != "message/delivery-status":
            continue
        text = decode_bytes(attachment.content, "utf-8")[0].replace("\r\n", "\n")
        for name_value in _blocks(text):
            fields = dict(reversed(name_value))  # the first occurrence wins
            address = _address_from_field(fields.get("final-recipient", "")) or _address_from_field(
                fields.get("original-recipient", "")
            )
            if not address or address in seen:
                continue
            seen.add(address)
            status_match = _STATUS.search(fields.get("status", ""))
            diagnostic = fields.get("diagnostic-code", "")
            if ";" in diagnostic[:20]:
                diagnostic = diagnostic.split(";", 1)[1]
            found.append(
                FailedRecipient(
                    address=address,
                    action=fields.get("action", "failed").split()[0].lower() if fields.get("action") else "failed",
                    status=status_match.group(0) if status_match else "",
                    diagnostic=_collapse(diagnostic),
                )
            )
    return found


def _blocks(text: str) -> list[list[tuple[str, str]]]:
    return [_fields(block) for block in re.split(r"\n\s*\n", text) if block.strip()]


def _from_feedback_report(parsed: ParsedEmail) -> list[FailedRecipient]:
    """ARF (RFC 5965) abuse reports: the recipient who complained, so we stop writing to them."""
    found: list[FailedRecipient] = []
    for attachment in parsed.attachments:
        if attachment.content_type != "message/feedback-report":
            continue
        fields = dict(reversed(_fields(decode_bytes(attachment.content)[0].replace("\r\n", "\n"))))
        address = _address_from_field(fields.get("original-rcpt-to", "")) or _address_from_field(
            fields.get("removal-recipient", "")
        )
        if address:
            found.append(
                FailedRecipient(
                    address=address,
                    action="complained",
                    status="",
                    diagnostic=_collapse(fields.get("feedback-type", "abuse")),
                )
            )
    return found


def _x_original_id(parsed: ParsedEmail) -> str:
    for attachment in parsed.attachments:
        if attachment.content_type == "message/delivery-status":
            match = re.search(
                r"^X-Original-Message-ID:\s*(\S+)", decode_bytes(attachment.content)[0], re.IGNORECASE | re.MULTILINE
            )
            if match:
                return normalize_message_id(match.group(1))
    return ""


def _from_header(parsed: ParsedEmail) -> list[FailedRecipient]:
    found: list[FailedRecipient] = []
    status_match = _STATUS.search(parsed.text[:5000])
    for value in parsed.header_all("X-Failed-Recipients"):
        for match in _ADDRESS.finditer(value):
            address = normalize_address(match.group(1))
            if is_plausible_address(address) and address not in {f.address for f in found}:
                found.append(
                    FailedRecipient(
                        address=address,
                        action="failed",
                        status=status_match.group(0) if status_match else "",
                        diagnostic=_diagnostic_near(parsed.text, address),
                    )
                )
    return found


def _from_ses(parsed: ParsedEmail) -> tuple[list[FailedRecipient], str] | None:
    text = parsed.text
    if "notificationType" not in text:
        return None
    payload = _json_object(text)
    if payload is None:
        return None
    message = payload.get("Message")
    if isinstance(message, str):  # SNS wraps the SES notification as a JSON string
        inner = _json_object(message)
        payload = inner if inner is not None else payload
    found: list[FailedRecipient] = []
    bounce = payload.get("bounce")
    complaint = payload.get("complaint")
    entries: list[object] = []
    if isinstance(bounce, dict):
        entries = list(bounce.get("bouncedRecipients") or [])
    elif isinstance(complaint, dict):
        entries = list(complaint.get("complainedRecipients") or [])
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        address = normalize_address(str(entry.get("emailAddress", "")))
        if not is_plausible_address(address):
            continue
        found.append(
            FailedRecipient(
                address=address,
                action=str(entry.get("action") or ("failed" if isinstance(bounce, dict) else "complained")),
                status=str(entry.get("status") or ""),
                diagnostic=_collapse(str(entry.get("diagnosticCode") or "")),
            )
        )
    mail = payload.get("mail")
    original = ""
    headers = mail.get("headers") if isinstance(mail, dict) else None
    for header in headers if isinstance(headers, list) else []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            original = normalize_message_id(str(header.get("value", "")))
    # A "Delivery" notification is a success report: SES data, but nobody to mark as bouncing.
    return found, original


def _json_object(text: str) -> dict[str, object] | None:
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end <= start:
        return None
    # SNS mail bodies are wrapped at 76 columns by some relays; the JSON itself has no raw newlines.
    candidate = text[start : end + 1]
    for attempt in (candidate, candidate.replace("\n", "")):
        try:
            value = json.loads(attempt)
        except ValueError:
            continue
        return value if isinstance(value, dict) else None
    return None


def _from_text(parsed: ParsedEmail) -> list[FailedRecipient]:
    text = parsed.text
    marker = _RETURNED_MARKER.search(text)
    head = text[: marker.start()] if marker else text[:4000]
    ours = {a.normalized for a in (*parsed.to, *parsed.cc, *parsed.reply_to)}
    if parsed.from_ is not None:
        ours.add(parsed.from_.normalized)
    # The returned message was sent *by* the address the bounce goes to; its recipients are what failed.
    returned = next(iter(parsed.nested_messages), None)
    if returned is not None and returned.from_ is not None:
        ours.add(returned.from_.normalized)
    found: list[FailedRecipient] = []
    for match in _ADDRESS.finditer(head):
        line_start = head.rfind("\n", 0, match.start()) + 1
        if _NOT_A_RECIPIENT_LINE.match(head, line_start) or _RECEIVED_FOR.search(
            head[max(0, match.start() - 8) : match.start()]
        ):
            continue
        address = normalize_address(match.group(1))
        local = address.partition("@")[0]
        if address in ours or _SYSTEM_LOCAL.match(local) or not is_plausible_address(address):
            continue
        if address in {f.address for f in found}:
            continue
        context = head[line_start : match.end() + 400]
        status_match = _STATUS.search(context)
        status = status_match.group(0) if status_match else ""
        found.append(
            FailedRecipient(
                address=address,
                action="delayed" if status.startswith("4") else "failed",
                status=status,
                diagnostic=_diagnostic_near(head, address),
            )
        )
        if len(found) >= 20:  # a bounce naming more is a list explosion; the first ones are enough to act on
            break
    if not found and returned is not None and len(returned.to) == 1 and returned.to[0].normalized not in ours:
        found.append(FailedRecipient(address=returned.to[0].normalized, action="failed", status="", diagnostic=""))
    return found


def _diagnostic_near(text: str, address: str) -> str:
    index = text.lower().find(address)
    if index < 0:
        return ""
    start = text.rfind("\n", 0, index) + 1
    snippet = text[start : start + 400]
    lines = [line.strip() for line in snippet.split("\n") if line.strip()][:3]
    return _collapse(" ".join(lines))


def _original_message_id(parsed: ParsedEmail) -> str:
    for attachment in parsed.attachments:
        if attachment.message is not None and not attachment.message.message_id_synthesized:
            return attachment.message.message_id
        if attachment.content_type in ("text/rfc822-headers", "message/rfc822-headers"):
            match = _MESSAGE_ID_LINE.search(decode_bytes(attachment.content)[0])
            if match:
                return normalize_message_id(match.group(1))
    # Plain-text bounces quote the returned headers in the body; the bounce's own Message-ID is a header, never
    # in the body, so any Message-ID line there belongs to the returned message.
    match = _MESSAGE_ID_LINE.search(parsed.text)
    return normalize_message_id(match.group(1)) if match else ""
