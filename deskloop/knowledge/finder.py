"""The composer's article finder: which articles answer what the agent typed, and for each one the link and the
text to insert in the ticket requester's language (else the workspace's default language).

Ranking is the knowledge base's one ranking (``suggestions.suggest_articles`` with ``audience="agents"``: published
articles, internal ones included), asked in the requester's language; it may abstain (no good answer), and then
the finder says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from deskloop.accounts.models import Workspace
from deskloop.knowledge.models import Article, ArticleState, ArticleVisibility
from deskloop.knowledge.queries import article_url, help_center_base_url, reader_locale
from deskloop.knowledge.suggestions import MAX_LIMIT, QUERY_MAX_CHARS, suggest_articles
from deskloop.tickets.models import Ticket

FINDER_LIMIT = MAX_LIMIT
QUERY_MAX = QUERY_MAX_CHARS


@dataclass(frozen=True)
class FoundArticle:
    article_id: int
    title: str
    locale: str
    # The help-center address to send a customer; "" when customers cannot open it (internal, or not published
    # in any language).
    url: str
    text: str
    internal: bool


def _ranked_article_ids(*, workspace_id: int, query: str, locale: str, limit: int) -> list[int]:
    return [
        hit.article_id
        for hit in suggest_articles(
            workspace_id=workspace_id, query=query, locale=locale, limit=limit, audience="agents"
        )
    ]


def find_articles_for_ticket(*, workspace: Workspace, ticket: Ticket, query: str) -> list[FoundArticle]:
    query = " ".join((query or "").split())[:QUERY_MAX]
    if not query:
        return []
    preferred = (ticket.requester.locale or "")[:2].lower()
    default = (workspace.default_language or "en")[:2].lower()
    ids = _ranked_article_ids(workspace_id=workspace.pk, query=query, locale=preferred or default, limit=FINDER_LIMIT)
    articles = {
        a.pk: a for a in Article.objects.filter(workspace=workspace, pk__in=ids).prefetch_related("translations")
    }
    base_url = help_center_base_url(workspace)
    found: list[FoundArticle] = []
    for article_id in ids:
        article = articles.get(article_id)
        if article is None:
            continue
        translations = {t.locale: t for t in article.translations.all()}
        published = [code for code, t in sorted(translations.items()) if t.state == ArticleState.PUBLISHED]
        code = reader_locale(preferred, published or sorted(translations), default)
        translation = translations[code]
        internal = article.visibility == ArticleVisibility.INTERNAL
        linkable = not internal and translation.state == ArticleState.PUBLISHED
        found.append(
            FoundArticle(
                article_id=article.pk,
                title=translation.title,
                locale=code,
                url=article_url(workspace, translation, base_url=base_url) if linkable else "",
                text=translation.body_text,
                internal=internal,
            )
        )
    return found
