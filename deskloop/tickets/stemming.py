"""Word stems for search, in the languages Deskloop speaks (settings.LANGUAGES: English, Spanish, Russian).

Search finds "facturas" for "factura", "invoices" for "invoice" and "счета" for "счёт" by matching stems. The stems
are computed here, in Python, both when a ticket is indexed and when a query is read, so SQLite (FTS5) and
PostgreSQL match exactly the same words (docs/architecture.md, "Search"). The exact words stay in the index as they
were; the stems go into a column of their own, so quoted phrases and prefixes still match only what was written.

A word is stemmed in every language its script may be written in (Latin letters: English and Spanish; Cyrillic:
Russian); a ticket rarely says which language it is in, and a Spanish customer writes English product names. With
both sides built by ``word_stems``, a query word and a document word match when any one language gives them the
same stem.

Every stem is written with STEM_MARK in front ("0factur"), a token both FTS5's unicode61 and PostgreSQL's parser
keep whole: the English stem of "facturas" is "factura", and a quoted "factura" must not find the stem of another
word. Exact words and stems so never meet, with one index and no per-column filters in the queries.
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
    """The marked stems of one word (lower case, "ё" read as "е", Latin accents dropped), sorted."""
    folded = word.lower().translate(_FOLD)
    if len(folded) < MIN_STEM_WORD_CHARS or not folded.isalpha():
        return ()
    if _CYRILLIC.search(folded):
        stems = {_stemmer(language).stemWord(folded) for language in _CYRILLIC_LANGUAGES}  # type: ignore[attr-defined]
    else:
        # Spanish stems come without accents, English ones keep them ("facturación"): one spelling for both, so
        # "facturacion" typed without the accent has the stems of "facturación".
        stems = {_unaccented(_stemmer(language).stemWord(folded)) for language in _LATIN_LANGUAGES}  # type: ignore[attr-defined]
    return tuple(sorted(STEM_MARK + stem for stem in stems if stem))


def _unaccented(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFD", text) if not unicodedata.combining(char))


def display_stem(stem: str) -> str:
    """The stem without its mark, as it appears at the start of the words it stands for."""
    return stem.removeprefix(STEM_MARK)


def document_stems(texts: Iterable[str]) -> str:
    """Every distinct stem of the words of ``texts``, space-separated (order and repetition carry nothing: a
    stem matches single words, never phrases)."""
    stems: set[str] = set()
    seen: set[str] = set()
    for text in texts:
        for word in _WORD.findall(text):
            if word not in seen:
                seen.add(word)
                stems.update(word_stems(word))
    return " ".join(sorted(stems))
