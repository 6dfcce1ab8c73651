"""Ranking articles for a customer's question: BM25 over stems, sentence vectors, and when to say nothing.

Pure: no Django, no models. ``suggestions.py`` builds a ``RankingIndex`` from a workspace's published
translations of one locale and asks it for the best few. Measured on kb-stackfaq (BENCHMARKS.md, "Knowledge
suggestions (issue #10)"): BM25 alone puts the right article in the top three for 0.82 of the questions, the
sentence model for 0.995.

How the model sees an article (``article_passages``): its title alone, and its title followed by the start of its
body (the model reads ``embedding.MAX_TOKENS`` tokens). An article scores its better passage: a question is often
a paraphrase of the title, and an average with a long body would blur it.

The shipped score is the cosine of the question and the article's better passage, plus a small share of the
article's BM25 score scaled to the question's best BM25 score. In English the share is small
(``LEXICAL_WEIGHT``): on kb-stackfaq it changes little, but it keeps exact words (product names, error codes) that
a sentence model blurs from being outranked by near-synonyms. Spanish and Russian articles are ranked by stemmed
BM25 alone: all-MiniLM-L6-v2 was trained on English only, so its vectors of other languages say little and nothing
here measures them, while stemmed BM25 matches "facturas" to "factura" (``deskloop.tickets.stemming``). That is
BM25 quality (0.82 recall@3 in English), not the model's. An article with no vector yet (the background task has
not run) is ranked by BM25 alone too.

Saying nothing: an English question whose best passage cosine is under ``ABSTAIN_BELOW`` gets no suggestion;
questions outside the help center's subject have a low cosine with every article. Where the model cannot judge
(other locales, articles without vectors) an article must share at least one non-trivial stemmed word with the
question.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deskloop.knowledge.embedding import DIMENSIONS, Vector
from deskloop.tickets.stemming import fold, word_stems

# Okapi BM25's textbook constants (Robertson & Zaragoza 2009): nothing tuned to one help center.
BM25_K1 = 1.2
BM25_B = 0.75
# A round share of the normalised BM25 score in an English article's score; BENCHMARKS.md shows 0 / 0.1 / 0.2 / 0.3.
LEXICAL_WEIGHT = 0.1
# The one locale the model reads.
MODEL_LOCALE = "en"
# Best passage cosine under which a question is taken to be outside the help center's subject. A round number in
# the middle of the flat stretch (0.30-0.40) where CLINC150's out-of-scope queries are refused and kb-stackfaq's
# recall@3 does not move (BENCHMARKS.md); not fitted to either set.
ABSTAIN_BELOW = 0.35
# The article text BM25 and the model read: the title and the first words of the body. The model reads at most
# MAX_TOKENS tokens anyway; BM25 gets the same start so that a 10,000-article index builds in seconds.
BODY_WORDS = 300

FloatArray = npt.NDArray[np.float32]
_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """The words of a text as BM25 compares them: each word's stems (English and Spanish for Latin script,
    Russian for Cyrillic), or the folded word itself when it has none (numbers, short words)."""
    out: list[str] = []
    for word in _WORD.findall(text):
        stems = word_stems(word)
        out.extend(stems if stems else (fold(word),))
    return out


# Function words carry no subject: a question and an article that share "how", "do" and "the" share nothing.
STOPWORDS = frozenset(
    tokens(
        "a an and are as at be by can do does for from how i if in is it me my of on or so that the this to was "
        "what when where which who why will with you your "
        "el la los las lo de del al y o en un una unos que por para con es son como mi mis se su no si "
        "и в во на с со по не что как я мой моя мне для это из к у о а но ли"
    )
)


def article_text(title: str, body: str) -> str:
    return f"{title.strip()}\n{' '.join(body.split()[:BODY_WORDS])}".strip()


def article_passages(title: str, body: str) -> list[str]:
    """The texts an article is embedded as: its title, and its title with the start of its body. Only the start:
    every further window of the body costs as much model time as the first, and on kb-stackfaq windows over the
    whole body found the right article in the top three no more often (BENCHMARKS.md)."""
    title = title.strip()
    text = article_text(title, body)
    return [title, text] if text != title else [title]


class BM25:
    """Okapi BM25 over stemmed words, one document per article."""

    def __init__(self, documents: Sequence[str]) -> None:
        by_term: dict[str, list[tuple[int, int]]] = {}
        lengths = np.zeros(len(documents), dtype=np.float32)
        for index, document in enumerate(documents):
            counts = Counter(t for t in tokens(document) if t not in STOPWORDS)
            lengths[index] = sum(counts.values())
            for term, count in counts.items():
                by_term.setdefault(term, []).append((index, count))
        self.size = len(documents)
        average = float(lengths.mean()) if self.size else 0.0
        self._norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(average, 1e-9))
        # term -> (documents holding it, its frequency in each): a question touches only those documents.
        self._postings = {
            term: (np.array([d for d, _ in pairs], dtype=np.int64), np.array([c for _, c in pairs], dtype=np.float32))
            for term, pairs in by_term.items()
        }

    def scores(self, query: str) -> FloatArray:
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(tokens(query)) - STOPWORDS:
            posting = self._postings.get(term)
            if posting is None:
                continue
            docs, freqs = posting
            idf = math.log(1 + (self.size - len(docs) + 0.5) / (len(docs) + 0.5))
            out[docs] += np.float32(idf) * freqs * np.float32(BM25_K1 + 1) / (freqs + self._norm[docs])
        return out


@dataclass(frozen=True)
class IndexedArticle:
    """One translation as the ranking sees it; ``passage_vectors`` is empty until it has been embedded."""

    title: str
    body: str
    passage_vectors: FloatArray


@dataclass(frozen=True)
class Ranked:
    position: int  # the article's place in the list the index was built from
    score: float


class RankingIndex:
    """The articles of one workspace in one locale, ready to answer questions. Built once per version of the
    articles (``suggestions.py`` caches it); reading it from several threads at once is safe."""

    def __init__(self, articles: Sequence[IndexedArticle], *, locale: str) -> None:
        self.locale = locale
        self.size = len(articles)
        self.bm25 = BM25([article_text(a.title, a.body) for a in articles])
        blocks = [a.passage_vectors.reshape(-1, DIMENSIONS) for a in articles]
        self.owners = np.repeat(np.arange(self.size, dtype=np.int64), [len(b) for b in blocks])
        self.vectors = np.concatenate(blocks) if self.size else np.zeros((0, DIMENSIONS), dtype=np.float32)
        self.has_vector = np.array([len(b) > 0 for b in blocks], dtype=bool)

    def cosines(self, query_vector: Vector) -> FloatArray:
        """Each article's best passage cosine with the question; -1 for an article without vectors."""
        best = np.full(self.size, -1.0, dtype=np.float32)
        if len(self.vectors):
            np.maximum.at(best, self.owners, self.vectors @ query_vector)
        return best

    def rank(
        self, query: str, query_vector: Vector | None, *, limit: int, allowed: npt.NDArray[np.bool_]
    ) -> list[Ranked]:
        """The best ``limit`` articles among ``allowed`` that clear the abstention rules, best first.
        ``query_vector`` is None when the model is not used (another locale, or it could not load)."""
        if not self.size or limit <= 0:
            return []
        lexical = self.bm25.scores(query)
        scores, eligible = combine(
            cosines=self.cosines(query_vector) if query_vector is not None else None,
            lexical=lexical,
            has_vector=self.has_vector,
            use_model=query_vector is not None and self.locale == MODEL_LOCALE,
        )
        candidates = np.flatnonzero(eligible & allowed)
        chosen = candidates[np.argsort(-scores[candidates], kind="stable")[:limit]]
        return [Ranked(position=int(i), score=round(float(scores[i]), 4)) for i in chosen]


def combine(
    *, cosines: FloatArray | None, lexical: FloatArray, has_vector: npt.NDArray[np.bool_], use_model: bool
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Every article's score and whether it may be suggested at all."""
    top = float(lexical.max()) if len(lexical) else 0.0
    lexical_share = lexical / top if top > 0 else np.zeros_like(lexical)
    shares_a_word = lexical > 0
    if not use_model or cosines is None:
        return lexical_share.astype(np.float32), shares_a_word
    weight = LEXICAL_WEIGHT
    score = np.where(has_vector, (1 - weight) * cosines + weight * lexical_share, lexical_share)
    eligible = np.where(has_vector, cosines >= ABSTAIN_BELOW, shares_a_word)
    return score.astype(np.float32), eligible
