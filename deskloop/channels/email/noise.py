"""Is this message a person writing to us, or mail-system noise? ``classify`` answers with a ``Verdict``.

Noise must never open a ticket: a bounce or an out-of-office that becomes a ticket triggers an acknowledgement,
which bounces or auto-replies again — the classic helpdesk mail loop. The checks run strongest first:

1. loop       our own X-Loop marker came back (``loop_marker``), or the mail is from one of our own addresses
2. bounce     RFC 3464 DSN (multipart/report; report-type=delivery-status, or a message/delivery-status part),
              ARF abuse reports (feedback-report), X-Failed-Recipients, a mail-system sender (MAILER-DAEMON,
              postmaster), or — for MTAs that send plain text — a bounce subject together with the null
              sender, a system sender or the tell-tale sentences of MTA bounce texts
3. auto_reply RFC 3834 Auto-Submitted (anything but "no"), X-Autoreply / X-Autorespond, Precedence:
              auto_reply, read receipts (disposition-notification reports), out-of-office subjects in
              several languages (X-Auto-Response-Suppress strengthens a weak subject match; alone it is only a
              request *to* us, sent by Outlook on ordinary mail too)
4. list       Precedence bulk/junk/list, List-Id (it came through a mailing list), or List-Unsubscribe when the
              message is bulk mail: a one-click unsubscribe (RFC 8058, what bulk marketing senders must add) or
              not addressed to any of our mailboxes (sent Bcc or to a list). List-Unsubscribe alone on mail
              written to a mailbox is not enough: CRMs, helpdesk widgets and transactional services add it to
              one-to-one mail too (docs/architecture.md, "Refused mail")

Anything else is "normal". The reason is a short English phrase for logs and the quarantine list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .addresses import normalize_address
from .parsing import ParsedEmail

__all__ = ["LOOP_MARKER", "Verdict", "VerdictKind", "classify"]

# What mail we send carries in ``X-Loop``; an incoming message carrying it is our own mail come back (``classify``
# refuses it as "loop"). Outbound code writes ``X-Loop: {LOOP_MARKER}``.
LOOP_MARKER = "deskloop"

VerdictKind = Literal["normal", "bounce", "auto_reply", "loop", "list"]


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    reason: str

    @property
    def is_noise(self) -> bool:
        return self.kind != "normal"


NORMAL = Verdict("normal", "")

# Local parts used by mail systems for bounces (RFC 5321 postmaster, sendmail's MAILER-DAEMON and the variants
# MTAs and providers actually use; "poostmaster" is a real typo'd sender in the sisimai set).
_SYSTEM_LOCAL = re.compile(
    r"^(mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|poostmaster|post[-_.]?office|mail[-_.]?delivery[-_.]?subsystem|"
    r"mail[-_.]?delivery[-_.]?system|mdaemon|bounces?|double[-_.]?bounce|mail[-_.]?administrator|"
    r"microsoftexchange[0-9a-f]*|mailer|mailadmin)(\+.*)?$",
    re.IGNORECASE,
)
_SYSTEM_NAME = re.compile(
    r"mail delivery (subsystem|system)|mailer[- ]daemon|postmaster|mail administrator|internet mail delivery|"
    r"delivery status notification|microsoft outlook|mail system",
    re.IGNORECASE,
)

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|not delivered|delivery (status notification|failure|failed|has failed|problem|report|"
    r"notification)|mail delivery (failed|failure|problem|system)|returned mail|returned to sender|"
    r"failure notice|could not be delivered|delivery to the following recipients? failed|"
    r"non[- ]?delivery|nondeliverable|mail system error|message (delivery|not delivered|blocked|rejected)|"
    r"rejected|delivery incomplete|warning: could not send|permanent (error|failure)|"
    r"unable to deliver|bounced?( mail)?\b|mail could not|error sending message|"
    r"sender address rejected|user unknown|mailbox (unavailable|full)|over quota|"
    r"zustellung fehlgeschlagen|unzustellbar|non remis|non recapitabile|no se puede entregar|"
    r"не доставлено|недоставленное|未達|エラー|退信|退回|投递失败",
    re.IGNORECASE,
)

# Sentences MTAs write at the top of plain-text bounces (postfix, sendmail, exim, qmail, Exchange, Gmail,
# Yahoo, Domino, Courier ...). Matched only against the first part of the body of mail that already looks
# automatic, so a customer quoting one does not turn into a bounce. Every alternative starts with one of
# _BOUNCE_BODY_STARTS (tests/test_noise.py keeps them in step): Python's regex engine cannot skip ahead through a
# case-insensitive alternation and tries each branch at each position; a lookahead on the first character lets
# it pass most positions at once (BENCHMARKS.md, "Design history").
_BOUNCE_BODY_STARTS = "5acdefhimnprstuwy"
_BOUNCE_BODY_ALTERNATIVES = (
    r"this is the mail system at host|i'm sorry to have to inform you that your message could not|"
    r"the following addresses had permanent fatal errors|this message was created automatically by mail delivery|"
    r"delivery to the following recipients? (failed|has been delayed)|"
    r"hi\. this is the qmail-send program|your message (did not|could not|was not|wasn't) (reach|be delivered)|"
    r"could not be delivered to (one or more|the following)|unable to deliver (your )?message|"
    r"permanent error|message could not be delivered|undeliverable|returned to sender|"
    r"the original message was received at|transcript of session follows|"
    r"delivery has failed to these recipients|a message that you sent could not be delivered|"
    r"was not delivered to|mailbox (unavailable|is full|not found)|user unknown|no such user|"
    r"unrouteable address|recipient address rejected|550[ -]5\.\d\.\d|5\.\d\.\d+ |"
    r"delivery status notification|failed to deliver|your mail was not delivered|"
    r"sorry, we were unable to deliver|error occurred during delivery|this is an automatically generated "
    r"delivery status notification|could not deliver|message rejected|recipient(s)? (rejected|failed)"
)
_BOUNCE_BODY = re.compile(rf"(?=[{_BOUNCE_BODY_STARTS}])(?:{_BOUNCE_BODY_ALTERNATIVES})", re.IGNORECASE)

# Out-of-office and auto-reply subjects, by language. Anchored at the start (after Re:/AW: prefixes some
# clients add) so that a customer writing "about your automatic reply" is not swallowed.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*((re|aw|sv|vs|antw|r|fw|fwd|wg)\s*:\s*)*\[?\s*("
    r"out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoresponse|automated response|"
    r"auto(matic)? response|on vacation|vacation (reply|message|notice)|away from (the )?office|i am away|"
    r"i am out of (the )?office|i'?m out of (the )?office|"
    r"abwesenheitsnotiz|automatische antwort|abwesend|nicht im büro|"  # German
    r"respuesta automática|respuesta automatica|fuera de la oficina|ausente|"  # Spanish
    r"réponse automatique|reponse automatique|absence du bureau|absent du bureau|"  # French
    r"risposta automatica|fuori sede|fuori ufficio|assenza|"  # Italian
    r"resposta automática|resposta automatica|ausência|fora do escritório|"  # Portuguese
    r"automatisch antwoord|afwezig|niet aanwezig|"  # Dutch
    r"autosvar|frånvaro|fraværende|automatisk svar|poissa|automaattinen vastaus|"  # Nordic
    r"automatyczna odpowiedź|odpowiedź automatyczna|nieobecność|"  # Polish
    r"автоответ|автоматический ответ|отсутствую|нет на месте|"  # Russian
    r"自動応答|自動返信|不在|自动回复|自動回覆|자동 응답|otomatik yanıt|otomatik cevap"  # CJK, Turkish
    r")",
    re.IGNORECASE,
)

# "Re: Your request" style confirmations are too common to refuse on subject; these are only refused together
# with a header saying the mail was generated automatically.
_WEAK_AUTO_SUBJECT = re.compile(
    r"(thank you for (your )?(e-?mail|message|contacting)|we (have )?received your (e-?mail|message|request)|"
    r"ticket (has been )?(created|received|opened)|request received|confirmation)",
    re.IGNORECASE,
)

# Amazon SES forwards bounces and complaints through SNS as JSON in a plain mail from no-reply@sns.amazonaws.com.
# The JSON is sometimes nested in SNS's own JSON envelope, with its quotes escaped.
_SES_NOTIFICATION = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"(Bounce|Complaint|Delivery)')
_COMPLAINT_SUBJECT = re.compile(r"complaint about message|abuse report|spam report", re.IGNORECASE)
_LIST_ROBOT_LOCAL = re.compile(r"(-admin|-owner|-request|-ctl|-bounces?)$|^owner-", re.IGNORECASE)

_LIST_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def classify(parsed: ParsedEmail, *, loop_marker: str = "", own_addresses: Iterable[str] = ()) -> Verdict:
    """Classify ``parsed``. ``loop_marker`` is the value we put in X-Loop on mail we send (a mailbox address or
    an installation name); ``own_addresses`` are our mailbox addresses: mail *from* them came back to us."""
    loop = _loop(parsed, loop_marker, own_addresses)
    if loop is not None:
        return loop
    return _bounce(parsed) or _auto_reply(parsed) or _list(parsed, own_addresses) or NORMAL


def _loop(parsed: ParsedEmail, loop_marker: str, own_addresses: Iterable[str]) -> Verdict | None:
    marker = loop_marker.strip().lower()
    if marker:
        for value in parsed.x_loop:
            if marker in value.lower():
                return Verdict("loop", f"X-Loop: {value[:100]}")
    own = {normalize_address(a) for a in own_addresses if a}
    if own and parsed.from_ is not None and parsed.from_.normalized in own:
        return Verdict("loop", "sent from our own address")
    return None


def _bounce(parsed: ParsedEmail) -> Verdict | None:
    report_type = parsed.report_type
    if report_type == "delivery-status" or (
        parsed.content_type == "multipart/report" and not report_type and _has_part(parsed, "message/delivery-status")
    ):
        return Verdict("bounce", "delivery status notification (RFC 3464)")
    if report_type == "feedback-report":
        return Verdict("bounce", "abuse feedback report (ARF)")
    if _has_part(parsed, "message/delivery-status"):
        return Verdict("bounce", "message/delivery-status part")
    if parsed.header("X-Failed-Recipients"):
        return Verdict("bounce", "X-Failed-Recipients header")
    sender = parsed.from_
    local = sender.address.rpartition("@")[0] if sender else ""
    if sender is not None and _SYSTEM_LOCAL.match(local):
        return Verdict("bounce", f"from a mail system ({local.lower()})")
    head = _body_head(parsed)
    ses = _SES_NOTIFICATION.search(head)
    if ses:
        return Verdict("bounce", f"Amazon SES {ses.group(1).lower()} notification")
    subject = parsed.subject
    if _COMPLAINT_SUBJECT.search(subject) and _has_returned_message(parsed):
        return Verdict("bounce", "abuse complaint with the reported message attached")
    if (parsed.header("X-MLServer") or parsed.header("X-ML-Name")) and _LIST_ROBOT_LOCAL.search(local):
        # Mailing-list managers (fml, Majordomo) answer a refused post from their admin address.
        return Verdict("bounce", "mailing-list manager refused the message")
    bounce_subject = bool(_BOUNCE_SUBJECT.search(subject))
    null_sender = parsed.header("Return-Path").strip() in ("<>", "<<>>", "") and bool(parsed.header("Return-Path"))
    if bounce_subject and null_sender:
        return Verdict("bounce", "bounce subject from the null sender")
    system_name = bool(sender is not None and _SYSTEM_NAME.search(sender.name))
    if bounce_subject and (system_name or sender is None):
        return Verdict("bounce", "bounce subject from a mail system")
    if (bounce_subject or null_sender or system_name or sender is None) and _BOUNCE_BODY.search(head):
        return Verdict("bounce", "mail-system bounce text")
    if bounce_subject and _has_returned_message(parsed) and _BOUNCE_BODY.search(head):
        return Verdict("bounce", "bounce text with the returned message attached")
    return None


def _auto_reply(parsed: ParsedEmail) -> Verdict | None:
    auto_submitted = parsed.auto_submitted.strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Verdict("auto_reply", f"Auto-Submitted: {auto_submitted.split(';')[0][:40]}")
    if parsed.x_autoreply:
        return Verdict("auto_reply", "X-Autoreply header")
    if parsed.x_autorespond:
        return Verdict("auto_reply", "X-Autorespond header")
    precedence = parsed.precedence.strip().lower()
    if precedence == "auto_reply":
        return Verdict("auto_reply", "Precedence: auto_reply")
    if parsed.report_type == "disposition-notification":
        return Verdict("auto_reply", "read receipt (disposition notification)")
    if parsed.content_type == "multipart/report":
        return Verdict("auto_reply", f"automatic report ({parsed.report_type or 'unknown type'})")
    if _AUTO_REPLY_SUBJECT.search(parsed.subject):
        return Verdict("auto_reply", "automatic-reply subject")
    if parsed.header("X-MS-Exchange-Inbox-Rules-Loop") or parsed.header("X-MS-Exchange-Generated-Message-Source"):
        return Verdict("auto_reply", "generated by an Exchange rule")
    suppress = parsed.x_auto_response_suppress.lower()
    if suppress and ("all" in suppress or "oof" in suppress) and _WEAK_AUTO_SUBJECT.search(parsed.subject):
        return Verdict("auto_reply", "X-Auto-Response-Suppress with an acknowledgement subject")
    return None


def _list(parsed: ParsedEmail, own_addresses: Iterable[str]) -> Verdict | None:
    precedence = parsed.precedence.strip().lower()
    if precedence in _LIST_PRECEDENCE:
        return Verdict("list", f"Precedence: {precedence}")
    if parsed.list_id:
        return Verdict("list", "List-Id header")
    if not parsed.list_unsubscribe:
        return None
    if parsed.header("List-Unsubscribe-Post"):
        return Verdict("list", "List-Unsubscribe with one-click unsubscribe (bulk mail)")
    own = {normalize_address(a) for a in own_addresses if a}
    if not any(recipient.normalized in own for recipient in (*parsed.to, *parsed.cc)):
        return Verdict("list", "List-Unsubscribe on mail not addressed to this mailbox")
    return None


def _has_part(parsed: ParsedEmail, content_type: str) -> bool:
    return any(a.content_type == content_type for a in parsed.attachments)


def _has_returned_message(parsed: ParsedEmail) -> bool:
    return any(a.content_type in ("message/rfc822", "text/rfc822-headers") for a in parsed.attachments)


def _body_head(parsed: ParsedEmail) -> str:
    # Bounce texts say what they are in their first lines; looking further would catch quoted bounces.
    return parsed.text[:3000]
