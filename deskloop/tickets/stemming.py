"""Word stems for search, in the languages Deskloop speaks (settings.LANGUAGES: English, Spanish, Russian).

Search finds "facturas" for "factura", "invoices" for "invoice" and "счета" for "счёт" by matching stems. The stems
are computed here, in Python, both when a ticket is indexed and when a query is read, so SQLite (FTS5) and
PostgreSQL match exactly the same words (docs/architecture.md, "Search"). The exact words stay in the index as they
were; the stems go into a column of their own, so quoted phrases and prefixes still match only what was written.

A word is stemmed in every language its script may be written in (Latin letters: English and Spanish; Cyrillic:
Russian); a ticket rarely says which language it is in, and a Spanish customer writes English product names.

A stem is stored with STEM_MARK in front ("0factur"), a token both FTS5's unicode61 and PostgreSQL's parser keep
whole: the English stem of "facturas" is "factura", and a quoted "factura" must not find the stem of another word.
A document stores only the stems it does not already hold as words ("refunds" -> "0refund", unless "refund" is in
the same text; "card" -> nothing): that halves what stemming adds to the index (BENCHMARKS.md). So a query word
asks for itself, its marked stems and its stems as plain words (``query_terms``): a query word and a document word
then match when any one language gives them the same stem.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import snowballstemmer  # type: ignore[import-untyped]

# Stems of 1-2 letter words would conflate unrelated short words ("is", "as"); numbers are not stemmed.
MIN_STEM_WORD_CHARS = 3
# Ticket text follows Zipf's law: a few thousand words make up most of it, so a cache saves almost every stemming.
STEM_CACHE_WORDS = 200_000

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
# The order of the stemmers does not matter: every stem of a word is kept.
_LATIN_LANGUAGES = ("english", "spanish")
_CYRILLIC_LANGUAGES = ("russian",)
_FOLD = str.maketrans("ё", "е")
# A digit: no stem starts with one, and a letter after it keeps the token whole on both databases.
STEM_MARK = "0"


@functools.cache
def _stemmer(language: str) -> object:
    return snowballstemmer.stemmer(language)


@functools.lru_cache(maxsize=STEM_CACHE_WORDS)
def word_stems(word: str) -> tuple[str, ...]:
    """The stems of one word, unmarked and as the index compares them (``folded``), sorted; none for short words
    and words with digits."""
    folded = fold(word)
    if len(folded) < MIN_STEM_WORD_CHARS or not folded.isalpha():
        return ()
    if _CYRILLIC.search(folded):
        stems = {_stemmer(language).stemWord(folded) for language in _CYRILLIC_LANGUAGES}  # type: ignore[attr-defined]
    else:
        lowered = word.lower()
        # Spanish stems come without accents, English ones keep them ("facturación"): one spelling for both, so
        # "facturacion" typed without the accent has the stems of "facturación".
        stems = {fold(_stemmer(language).stemWord(lowered)) for language in _LATIN_LANGUAGES}  # type: ignore[attr-defined]
    return tuple(sorted(stem for stem in stems if stem))


@functools.lru_cache(maxsize=STEM_CACHE_WORDS)
def fold(word: str) -> str:
    """A word as both indexes compare it: lower case, "ё" as "е", Latin accents dropped."""
    folded = word.lower().translate(_FOLD)
    return folded if _CYRILLIC.search(folded) else _unaccented(folded)


def query_terms(word: str) -> tuple[str, ...]:
    """What a bare query word asks for besides itself: each stem marked (the documents where another form of the
    word stands) and unmarked (the documents where the stem itself is written as a word)."""
    folded = fold(word)
    terms: list[str] = []
    for stem in word_stems(word):
        terms.append(STEM_MARK + stem)
        if stem != folded:
            terms.append(stem)
    return tuple(terms)


def _unaccented(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text) if not unicodedata.combining(char))


def display_stem(term: str) -> str:
    """A query term without its mark, as it appears at the start of the words it stands for."""
    return term.removeprefix(STEM_MARK)


def document_stems(texts: Iterable[str]) -> str:
    """The marked stems of the words of ``texts`` that the texts do not hold as words themselves, space-separated
    (order and repetition carry nothing: a stem matches single words, never phrases)."""
    words = {fold(word): word for text in texts for word in _WORD.findall(text)}
    stems = {stem for folded, word in words.items() for stem in word_stems(word) if stem not in words}
    return " ".join(sorted(STEM_MARK + stem for stem in stems))
