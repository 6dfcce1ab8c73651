"""The pure ranking: BM25 over stems, the hybrid score, and abstention."""

from __future__ import annotations

import numpy as np

from deskloop.knowledge import embedding, ranking


def _index(articles: list[tuple[str, str]], *, locale: str = "en", embed: bool = True) -> ranking.RankingIndex:
    indexed = []
    for title, body in articles:
        vectors = (
            embedding.encode(ranking.article_passages(title, body))
            if embed
            else np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
        )
        indexed.append(ranking.IndexedArticle(title=title, body=body, passage_vectors=vectors))
    return ranking.RankingIndex(indexed, locale=locale)


ARTICLES = [
    ("Resetting your password", "Open Settings, then Security, and choose Reset password. We email you a link."),
    ("Refunds and returns", "You can return any item within 30 days for a full refund to the original card."),
    ("Shipping times", "Orders ship within two business days; tracking numbers arrive by email."),
]


def _ask(index: ranking.RankingIndex, query: str, limit: int = 3) -> list[int]:
    vector = embedding.encode([query])[0] if index.locale == ranking.MODEL_LOCALE else None
    allowed = np.ones(index.size, dtype=bool)
    return [r.position for r in index.rank(query, vector, limit=limit, allowed=allowed)]


def test_bm25_matches_stems_and_ignores_function_words():
    bm25 = ranking.BM25(["Invoices are sent monthly", "How to do the thing", "Facturas mensuales"])
    scores = bm25.scores("how do I get my invoice")
    assert scores[0] > 0
    assert scores[1] == 0  # shares only "how" and "do"
    assert ranking.BM25(["Facturas mensuales"]).scores("factura")[0] > 0


def test_a_paraphrase_finds_its_article_first():
    index = _index(ARTICLES)
    assert _ask(index, "I forgot my login credentials, how do I get back in?")[0] == 0
    assert _ask(index, "can I send back something I bought and get my money?")[0] == 1


def test_a_question_outside_the_help_center_gets_nothing():
    index = _index(ARTICLES)
    assert _ask(index, "who won the football world cup in 1998") == []


def test_articles_without_vectors_are_still_found_by_their_words():
    index = _index(ARTICLES, embed=False)
    assert _ask(index, "password reset link") == [0]


def test_spanish_and_russian_articles_are_found_by_stemmed_words():
    spanish = _index(
        [("Cómo descargar sus facturas", "Vaya a Cuenta y pulse Facturas."), ("Cambiar la contraseña", "Pulse ...")],
        locale="es",
    )
    assert _ask(spanish, "no encuentro la factura de marzo") == [0]
    russian = _index(
        [("Как скачать счёт", "Откройте раздел Счета."), ("Смена пароля", "Нажмите «Сменить пароль».")], locale="ru"
    )
    assert _ask(russian, "где мои счета") == [0]
    assert _ask(russian, "погода завтра") == []


def test_limit_and_allowed_articles_are_respected():
    index = _index(ARTICLES)
    vector = embedding.encode(["password refund shipping"])[0]
    only_shipping = np.array([False, False, True])
    ranked = index.rank("password refund shipping", vector, limit=3, allowed=only_shipping)
    assert [r.position for r in ranked] in ([2], [])
    assert len(index.rank("password refund shipping", vector, limit=1, allowed=np.ones(3, dtype=bool))) <= 1
