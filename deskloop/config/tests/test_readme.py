"""Issue #9: the README says what Deskloop does today; what is not built yet is only on its marked roadmap line."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"
NOT_BUILT = ("live chat",)


def test_the_readme_promises_only_what_exists() -> None:
    text = README.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if any(word in p.lower() for word in NOT_BUILT)]
    # Each mention of a piece that does not exist is in the paragraph that says so.
    assert paragraphs
    assert all(p.startswith("Not built yet") for p in paragraphs), paragraphs


def test_the_two_commands_stay() -> None:
    text = README.read_text(encoding="utf-8")
    assert "\nmake run    #" in text
    assert "\nmake test   #" in text
