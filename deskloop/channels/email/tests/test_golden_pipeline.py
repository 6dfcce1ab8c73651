"""Every file of the shared email corpus goes through ingest_raw into one workspace; the outcome counts are
checked in (tests/golden_pipeline/counts.json). Set DESKLOOP_UPDATE_GOLDEN=1 to rewrite them after a deliberate
change, and review the diff."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from deskloop.channels.email.models import InboundEmail
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast

CORPUS = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "email"
GOLDEN = Path(__file__).parent / "golden_pipeline" / "counts.json"
SISIMAI = "sisimai-set-of-emails/maildir/bsd/"


def outcome_key(state: str, reason: str, outcome: str, duplicate: bool) -> str:
    if duplicate:
        return "duplicate"
    if state == "refused":
        return f"refused:{reason}"
    if state == "processed":
        return outcome
    return state


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared email corpus is not here")
def test_every_corpus_file_is_stored_and_gets_an_outcome(acme: Cast) -> None:
    mailbox = create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    counts: Counter[str] = Counter()
    by_file: dict[str, str] = {}
    inbound_ids: set[int] = set()
    for path in files:
        result = ingest_raw(mailbox=mailbox, raw=path.read_bytes(), via="import")
        key = outcome_key(result.state, result.refusal_reason, result.outcome, result.duplicate)
        counts[key] += 1
        # For a duplicate, what became of the first arrival of the same bytes.
        by_file[str(path.relative_to(CORPUS))] = outcome_key(result.state, result.refusal_reason, result.outcome, False)
        inbound_ids.add(result.inbound_id)
    sisimai = {name: key for name, key in by_file.items() if name.startswith(SISIMAI)}
    summary = {
        "files": len(files),
        "inbound_rows": InboundEmail.objects.count(),
        "outcomes": dict(sorted(counts.items())),
        "sisimai_outcomes": dict(sorted(Counter(sisimai.values()).items())),
    }
    if os.environ.get("DESKLOOP_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    assert summary == json.loads(GOLDEN.read_text())
    # None lost: every file maps to a stored row; duplicates map to the first arrival's row.
    assert len(inbound_ids) == InboundEmail.objects.count() == len(files) - counts["duplicate"]
    # All 629 sisimai messages are mail-system noise: bounces and feedback reports, plus RFC 3834 auto-replies.
    assert len(sisimai) == 629
    assert {name: key for name, key in sisimai.items() if not key.startswith("refused:")} == {}
