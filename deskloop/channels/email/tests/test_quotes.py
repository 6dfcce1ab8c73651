"""Quote and signature stripping, measured against expectations written by reading each reply fixture.

golden/quotes.json holds, for every fixture, the text a human would call the new reply (written before the
code was tuned; see the module docstring of quotes.py for the rules on inline replies and trailers). The bar
is >= 95% exact matches."""

from __future__ import annotations

import json

import pytest

from deskloop.channels.email.parsing import parse_message
from deskloop.channels.email.quotes import StrippedReply, strip_reply
from deskloop.core.html import html_to_text

from .email_corpus import GOLDEN, require_corpus


def _strip_fixture(name: str) -> str:
    path = require_corpus() / name
    if name.endswith(".eml"):
        parsed = parse_message(path.read_bytes())
        return strip_reply(parsed.text, parsed.html or None).visible_text
    if name.endswith(".html"):
        return strip_reply("", path.read_bytes().decode("utf-8", "replace")).visible_text
    return strip_reply(path.read_bytes().decode("utf-8")).visible_text


def test_reply_fixtures_match_hand_written_expectations_at_least_95_percent() -> None:
    expected = json.loads((GOLDEN / "quotes.json").read_text())
    assert len(expected) == 140
    misses = sorted(name for name, text in expected.items() if _strip_fixture(name) != text)
    rate = 1 - len(misses) / len(expected)
    assert rate >= 0.95, misses
    # Today every fixture matches; a new miss shows up here by name.
    assert misses == []


def test_an_english_top_reply_loses_the_quote_and_the_mobile_signature() -> None:
    text = "Works now, thanks!\n\nSent from my iPhone\n\nOn Mon, 2 Jun 2025 at 10:00, Ann <ann@acme.example> wrote:\n> Try again?"
    assert strip_reply(text) == StrippedReply(
        visible_text="Works now, thanks!",
        quoted_text="On Mon, 2 Jun 2025 at 10:00, Ann <ann@acme.example> wrote:\n> Try again?",
        signature="Sent from my iPhone",
    )


@pytest.mark.parametrize(
    "attribution",
    [
        "El lun, 2 jun 2025 a las 10:00, Ana <ana@acme.example> escribió:",
        "Le lun. 2 juin 2025 à 10:00, Anne <anne@acme.example> a écrit :",
        "Am Mo., 2. Juni 2025 um 10:00 Uhr schrieb Anna <anna@acme.example>:",
        "Op ma 2 jun. 2025 om 10:00 schreef Anna <anna@acme.example>:",
        "Il giorno lun 2 giu 2025 alle ore 10:00 Anna <anna@acme.example> ha scritto:",
        "пн, 2 июн. 2025 г. в 10:00, Анна <anna@acme.example>:",
        "2 июня 2025, 10:00, Анна <anna@acme.example> написал(а):",
        "-----Original Message-----",
        "________________________________\nFrom: Ann <ann@acme.example>\nSent: Monday, June 2, 2025 10:00\nTo: Support",
    ],
)
def test_attributions_in_many_languages_start_the_quote(attribution: str) -> None:
    stripped = strip_reply(f"Gracias / merci / danke.\n\n{attribution}\n> old text")
    assert stripped.visible_text == "Gracias / merci / danke."
    assert stripped.quoted_text.endswith("> old text")


def test_our_reply_marker_is_a_parameter() -> None:
    body = "Yes please.\n\n##- Type your reply above this line -##\nTicket #12 was updated"
    assert strip_reply(body, marker="Type your reply above this line").visible_text == "Yes please."
    assert strip_reply(body, marker="").visible_text == body


def test_html_only_replies_are_cut_at_the_quote_container() -> None:
    html = '<div>Thanks!</div><div class="gmail_quote">On Mon, Ann wrote:<blockquote>old</blockquote></div>'
    stripped = strip_reply("", html)
    assert stripped.visible_text == "Thanks!"
    assert stripped.quoted_text == html_to_text(
        '<div class="gmail_quote">On Mon, Ann wrote:<blockquote>old</blockquote></div>'
    )


def test_text_without_any_quote_is_kept_whole() -> None:
    text = "On the other hand, the invoice is wrong.\n\nRegards,\nBob"
    assert strip_reply(text) == StrippedReply(visible_text=text, quoted_text="", signature="")
