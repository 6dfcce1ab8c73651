"""Every file of the email corpus (testdata/email) goes through ingest_raw into one workspace, and what became of each is
checked in and asserted per message:

- golden_pipeline/outcomes.json: every file -> its outcome ("new_ticket", "threaded", "refused:bounce", ...,
  "duplicate" for bytes already seen earlier in the sorted walk).
- golden_pipeline/messages.json: for every message that became a ticket or a message, and for every message of
  the parser-level golden corpus (golden/corpus.json), the full expectation: outcome, subject, sender, the
  stripped text (first 300 characters and a hash of all of it), a hash of the full text, attachment names as
  stored, and the DMARC flag.
- golden_pipeline/counts.json: the totals.

Set DESKLOOP_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then review the diff message by message
(open the file under testdata/email): a changed line is a changed behaviour."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from deskloop.channels.email.models import InboundEmail
from deskloop.channels.email.pipeline import IngestResult, ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.tickets.models import Attachment, Message, Ticket

from .email_corpus import CORPUS

GOLDEN = Path(__file__).parent / "golden_pipeline"
PARSER_GOLDEN = Path(__file__).parent / "golden" / "corpus.json"
SISIMAI = "sisimai-set-of-emails/maildir/bsd/"
UPDATE = bool(os.environ.get("DESKLOOP_UPDATE_GOLDEN"))


def outcome_key(result: IngestResult, *, first_arrival: bool = False) -> str:
    """What became of the file; with ``first_arrival``, a duplicate says what became of the same bytes before."""
    if result.duplicate and not first_arrival:
        return "duplicate"
    if result.state == "refused":
        return f"refused:{result.refusal_reason}"
    if result.state == "processed":
        return result.outcome
    return result.state


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def expectation(result: IngestResult) -> dict[str, Any]:
    return {
        "outcome": outcome_key(result),
        "subject": result.subject,
        "sender": result.sender,
        "stripped_start": result.stripped_text[:300],
        "stripped_sha256": _sha(result.stripped_text),
        "full_sha256": _sha(result.full_text),
        "attachments": list(result.attachment_names),
        "dmarc_failed": result.dmarc_failed,
    }


def assert_stored_as_read(result: IngestResult) -> None:
    """What the result says is what the database holds: the ticket page shows exactly this."""
    inbound = InboundEmail.objects.get(pk=result.inbound_id)
    assert (inbound.subject, inbound.sender) == (result.subject[:500], result.sender[:320])
    if result.state != "processed":
        assert inbound.message_id is None
        return
    message = Message.objects.get(pk=inbound.message_id)
    shown_first = message.channel_meta.get("stripped_text", message.body_text)
    names = list(Attachment.objects.filter(message=message).order_by("id").values_list("filename", flat=True))
    assert (message.body_text, shown_first, names) == (
        result.full_text or "(This email had no text.)",
        result.stripped_text or "(This email had no text.)",
        list(result.attachment_names),
    )
    assert message.channel_meta.get("dmarc_failed", False) == result.dmarc_failed


def test_every_corpus_file_gets_its_recorded_outcome_and_reading(acme: Cast) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    tickets_before = Ticket.objects.count()
    parser_golden = set(json.loads(PARSER_GOLDEN.read_text()))
    outcomes: dict[str, str] = {}
    sisimai: Counter[str] = Counter()
    messages: dict[str, dict[str, Any]] = {}
    inbound_ids: set[int] = set()
    for path in files:
        name = path.relative_to(CORPUS).as_posix()
        result = ingest_raw(mailbox=mailbox, raw=path.read_bytes(), via="import")
        outcomes[name] = outcome_key(result)
        if name.startswith(SISIMAI):
            sisimai[outcome_key(result, first_arrival=True)] += 1
        inbound_ids.add(result.inbound_id)
        if result.duplicate:
            continue
        assert_stored_as_read(result)
        if result.state == "processed" or name in parser_golden:
            messages[name] = expectation(result)
    counts = Counter(outcomes.values())
    summary = {
        "files": len(files),
        "inbound_rows": InboundEmail.objects.count(),
        "outcomes": dict(sorted(counts.items())),
        "sisimai_outcomes": dict(sorted(sisimai.items())),
    }
    if UPDATE:
        (GOLDEN / "counts.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        (GOLDEN / "outcomes.json").write_text(json.dumps(outcomes, indent=0, sort_keys=True) + "\n")
        (GOLDEN / "messages.json").write_text(json.dumps(messages, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert summary == json.loads((GOLDEN / "counts.json").read_text())
    expected_outcomes = json.loads((GOLDEN / "outcomes.json").read_text())
    assert {n: (expected_outcomes.get(n), o) for n, o in outcomes.items() if expected_outcomes.get(n) != o} == {}
    expected_messages = json.loads((GOLDEN / "messages.json").read_text())
    assert len(expected_messages) >= 150
    assert sorted(expected_messages) == sorted(messages)
    assert {n: (expected_messages[n], m) for n, m in messages.items() if expected_messages[n] != m} == {}

    # None lost: every file maps to a stored row; duplicates map to the first arrival's row; nothing quarantined.
    assert len(inbound_ids) == InboundEmail.objects.count() == len(files) - counts["duplicate"]
    assert counts["quarantined"] == 0
    created = counts["new_ticket"] + counts["follow_up"]
    assert Ticket.objects.count() - tickets_before == created
    refused = sum(n for key, n in counts.items() if key.startswith("refused:"))
    assert len(files) == created + counts["threaded"] + refused + counts["quarantined"] + counts["duplicate"]
    # The issue: none of the 629 sisimai messages opens a ticket; each is refused as mail-system noise.
    assert sum(sisimai.values()) == 629
    assert set(sisimai) == {"refused:bounce", "refused:auto_reply"}
