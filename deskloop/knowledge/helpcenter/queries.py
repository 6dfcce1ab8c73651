"""Reads of the public help center. Everything here starts from ``readable``: published translations of public
articles of one workspace. A draft, an internal article or another workspace's article is never reachable, so a
view that only calls these cannot leak one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When

from deskloop.accounts.models import Workspace
from deskloop.knowledge.models import (
    ARTICLE_LOCALES,
    Article,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    HelpCenter,
    KnowledgeCategory,
)
from deskloop.knowledge.suggestions import suggest_articles

RELATED_MAX = 5
SNIPPET_CHARS = 220


def readable(workspace_id: int, locale: str | None = None) -> QuerySet[ArticleTranslation]:
    """The translations an anonymous visitor may read, in ``locale`` (any when None)."""
    found = ArticleTranslation.objects.filter(
        workspace_id=workspace_id, state=ArticleState.PUBLISHED, article__visibility=ArticleVisibility.PUBLIC
    )
    return found if locale is None else found.filter(locale=locale)


def workspace_by_slug(slug: str) -> Workspace | None:
    return Workspace.objects.filter(slug=slug).first()


def help_center_of(workspace_id: int) -> HelpCenter | None:
    return HelpCenter.objects.filter(workspace_id=workspace_id).first()


def help_center_on_host(host: str) -> HelpCenter | None:
    """The help center whose own host name is ``host`` (compared lower-case, without a port)."""
    host = host.strip().lower().rstrip(".")
    if not host:
        return None
    return HelpCenter.objects.select_related("workspace").filter(host_name__iexact=host).first()


def knowledge_version(workspace_id: int) -> str:
    """Changes whenever an article of the workspace is created, edited, published or deleted (every text change
    moves ``Article.updated_at``): part of the cache keys, so a change makes older pages unreachable."""
    found = Article.objects.filter(workspace_id=workspace_id).aggregate(latest=Max("updated_at"), count=Count("id"))
    latest: datetime | None = found["latest"]
    return f"{latest.timestamp() if latest else 0}:{found['count']}"


def published_locales(workspace_id: int) -> list[str]:
    """The languages that have at least one readable article, in the order of ``ARTICLE_LOCALES``."""
    present = set(readable(workspace_id).values_list("locale", flat=True).distinct())
    return [code for code in ARTICLE_LOCALES if code in present]


@dataclass
class ArticleLink:
    article_id: int
    title: str
    slug: str
    snippet: str = ""


@dataclass
class CategoryNode:
    category: KnowledgeCategory
    name: str
    description: str
    article_count: int = 0
    sections: list[CategoryNode] = field(default_factory=list)
    articles: list[ArticleLink] = field(default_factory=list)


def _node(category: KnowledgeCategory, locale: str) -> CategoryNode:
    descriptions = category.description_translations if isinstance(category.description_translations, dict) else {}
    return CategoryNode(
        category=category,
        name=category.localized_name(locale),
        description=str(descriptions.get(locale) or category.description),
    )


def category_tree(workspace_id: int, locale: str) -> tuple[list[CategoryNode], int]:
    """The home page: categories with their sections and how many readable articles each holds (those without any
    are left out), and the number of readable articles outside any category."""
    counts: dict[int | None, int] = dict(
        readable(workspace_id, locale)
        .values_list("article__category_id")
        .annotate(n=Count("id"))
        .values_list("article__category_id", "n")
    )
    categories = list(KnowledgeCategory.objects.filter(workspace_id=workspace_id))
    tops = [_node(c, locale) for c in categories if c.parent_id is None]
    by_id = {node.category.pk: node for node in tops}
    for category in categories:
        if category.parent_id is not None and category.parent_id in by_id:
            section = _node(category, locale)
            section.article_count = counts.get(category.pk, 0)
            if section.article_count:
                by_id[category.parent_id].sections.append(section)
    for node in tops:
        node.article_count = counts.get(node.category.pk, 0) + sum(s.article_count for s in node.sections)
    return [node for node in tops if node.article_count], counts.get(None, 0)


def _links(translations: QuerySet[ArticleTranslation]) -> list[ArticleLink]:
    return [
        ArticleLink(article_id=t.article_id, title=t.title, slug=t.slug)
        for t in translations.only("article_id", "title", "slug")
    ]


def category_page(workspace_id: int, locale: str, slug: str) -> CategoryNode | None:
    """A category (or section) with its readable articles, its sections' articles, and its parent for the
    breadcrumbs; None when it does not exist or holds nothing a visitor may read in ``locale``."""
    category = KnowledgeCategory.objects.select_related("parent").filter(workspace_id=workspace_id, slug=slug).first()
    if category is None:
        return None
    node = _node(category, locale)
    sections = list(KnowledgeCategory.objects.filter(workspace_id=workspace_id, parent=category))
    in_locale = readable(workspace_id, locale).order_by("article__position", "title", "article_id")
    grouped: dict[int | None, list[ArticleLink]] = defaultdict(list)
    for t in in_locale.filter(article__category_id__in=[category.pk, *(s.pk for s in sections)]).only(
        "article_id", "title", "slug", "article__category_id"
    ):
        grouped[t.article.category_id].append(ArticleLink(article_id=t.article_id, title=t.title, slug=t.slug))
    node.articles = grouped.get(category.pk, [])
    for section in sections:
        child = _node(section, locale)
        child.articles = grouped.get(section.pk, [])
        child.article_count = len(child.articles)
        if child.articles:
            node.sections.append(child)
    node.article_count = len(node.articles) + sum(s.article_count for s in node.sections)
    return node if node.article_count else None


def article_translation(workspace_id: int, locale: str, article_id: int) -> ArticleTranslation | None:
    """The readable translation of one article in ``locale``, with what its page shows around it."""
    return (
        readable(workspace_id, locale)
        .select_related("article__category__parent", "article__product_area")
        .filter(article_id=article_id)
        .first()
    )


def other_languages(translation: ArticleTranslation) -> dict[str, str]:
    """locale -> slug of the same article's readable versions, this one included."""
    found = readable(translation.workspace_id).filter(article_id=translation.article_id)
    return dict(found.values_list("locale", "slug"))


def related_articles(translation: ArticleTranslation) -> list[ArticleLink]:
    """Up to five readable articles in the same language that share the section, the product area or a tag (those
    of the same section first), then what the ranker finds for the title when that leaves room."""
    shared = _sharing_articles(translation)
    if len(shared) >= RELATED_MAX:
        return shared
    taken = {link.article_id for link in shared} | {translation.article_id}
    ranked = suggest_articles(
        workspace_id=translation.workspace_id,
        query=translation.title,
        locale=translation.locale,
        limit=RELATED_MAX + len(taken),
    )
    more = [s.article_id for s in ranked if s.locale == translation.locale and s.article_id not in taken]
    return shared + articles_in_order(translation.workspace_id, translation.locale, more[: RELATED_MAX - len(shared)])


def _sharing_articles(translation: ArticleTranslation) -> list[ArticleLink]:
    article = translation.article
    tag_ids = list(article.tags.values_list("id", flat=True))
    shares = Q()
    if article.category_id is not None:
        shares |= Q(article__category_id=article.category_id)
    if article.product_area_id is not None:
        shares |= Q(article__product_area_id=article.product_area_id)
    if tag_ids:
        shares |= Q(article__tags__in=tag_ids)
    if not shares:
        return []
    same_section = Case(
        When(article__category_id=article.category_id, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    candidates = (
        readable(translation.workspace_id, translation.locale)
        .filter(shares)
        .exclude(article_id=article.pk)
        .annotate(closeness=same_section)
        .order_by("closeness", "article__position", "title", "article_id")
        .distinct()
    )
    return _links(candidates[:RELATED_MAX])


def articles_in_order(workspace_id: int, locale: str, article_ids: list[int]) -> list[ArticleLink]:
    """Readable translations of ``article_ids`` in ``locale``, in the given order, with a snippet of the body."""
    found = {
        t.article_id: t
        for t in readable(workspace_id, locale)
        .filter(article_id__in=article_ids)
        .only("article_id", "title", "slug", "body_text")
    }
    links = []
    for article_id in article_ids:
        t = found.get(article_id)
        if t is not None:
            snippet = " ".join(t.body_text.split())
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
            links.append(ArticleLink(article_id=t.article_id, title=t.title, slug=t.slug, snippet=snippet))
    return links


def sitemap_entries(workspace_id: int) -> list[tuple[int, dict[str, str], datetime]]:
    """(article id, {locale: slug}, last change) for every article with at least one readable translation."""
    by_article: dict[int, dict[str, str]] = defaultdict(dict)
    changed: dict[int, datetime] = {}
    rows = (
        readable(workspace_id)
        .order_by("article_id", "locale")
        .values_list("article_id", "locale", "slug", "updated_at")
    )
    for article_id, locale, slug, updated_at in rows:
        by_article[article_id][locale] = slug
        changed[article_id] = max(changed.get(article_id, updated_at), updated_at)
    return [(article_id, slugs, changed[article_id]) for article_id, slugs in by_article.items()]


def article_stamp(workspace_id: int, locale: str, article_id: int) -> tuple[str, str] | None:
    """(slug, version) of an article's readable translation: enough to answer 404, redirect a wrong slug, or find
    the cached page, without reading the body."""
    found = (
        readable(workspace_id, locale)
        .filter(article_id=article_id)
        .values_list("slug", "updated_at", "article__updated_at")
        .first()
    )
    if found is None:
        return None
    slug, translation_changed, article_changed = found
    return slug, f"{translation_changed.timestamp()}:{article_changed.timestamp()}"


def uncategorized(workspace_id: int, locale: str) -> list[ArticleLink]:
    return _links(
        readable(workspace_id, locale).filter(article__category__isnull=True).order_by("article__position", "title")
    )
