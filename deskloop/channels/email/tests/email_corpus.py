"""Where the real-world email corpus lives (testdata/email in the repository), and the one function the golden
tests share."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from deskloop.channels.email.noise import classify
from deskloop.channels.email.parsing import parse_message
from deskloop.channels.email.quotes import strip_reply

# deskloop/channels/email/tests/ -> the repository root is parents[4].
CORPUS = Path(__file__).resolve().parents[4] / "testdata" / "email"
GOLDEN = Path(__file__).resolve().parent / "golden"


def require_corpus() -> Path:
    # The corpus is part of the repository: its absence is a broken checkout, not a reason to skip.
    if not CORPUS.is_dir():
        pytest.fail(f"the email corpus is missing at {CORPUS} (testdata/email in the repository)")
    return CORPUS


def corpus_files() -> list[Path]:
    return sorted(p for p in require_corpus().rglob("*") if p.is_file())


def summarize(raw: bytes) -> dict[str, Any]:
    """What the golden corpus pins down for one message."""
    parsed = parse_message(raw)
    verdict = classify(parsed)
    stripped = strip_reply(parsed.text, parsed.html or None).visible_text
    return {
        "kind": verdict.kind,
        "reason": verdict.reason,
        "subject": parsed.subject,
        "sender": parsed.from_.address if parsed.from_ else "",
        "stripped_start": stripped[:200],
        "stripped_sha256": hashlib.sha256(stripped.encode("utf-8", "surrogatepass")).hexdigest()[:16],
        "attachments": [a.filename for a in parsed.attachments],
    }
