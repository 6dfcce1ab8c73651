"""Reads of the knowledge base with rules: every lookup is scoped to the caller's workspace (404 otherwise), and
the help-center address of an article is built in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from deskloop.accounts.models import Agent, Workspace
from deskloop.knowledge.models import (
    ARTICLE_LOCALES,
    Article,
    ArticleImage,
    ArticleRevision,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    HelpCenter,
    KnowledgeCategory,
)

STALE_AFTER_DAYS = 180


@dataclass(frozen=True)
class ArticleFilters:
    """The article list's filters; empty values filter nothing."""

    category_id: int | None = None
    locale: str = ""
    state: str = ""
    visibility: str = ""
    product_area_id: int | None = None
    tag: str = ""
    text: str = ""


def articles_of(workspace_id: int) -> QuerySet[Article]:
    return (
        Article.objects.filter(workspace_id=workspace_id)
        .select_related("category__parent", "product_area")
        .prefetch_related("tags", Prefetch("translations", queryset=ArticleTranslation.objects.order_by("locale")))
    )


def filter_articles(workspace_id: int, filters: ArticleFilters) -> QuerySet[Article]:
    """The workspace's articles matching every given filter, newest change first. ``locale`` and ``state`` match
    one translation that has both (published in Spanish, not published in English and present in Spanish)."""
    articles = articles_of(workspace_id)
    if filters.category_id:
        articles = articles.filter(Q(category_id=filters.category_id) | Q(category__parent_id=filters.category_id))
    if filters.visibility:
        articles = articles.filter(visibility=filters.visibility)
    if filters.product_area_id:
        articles = articles.filter(product_area_id=filters.product_area_id)
    if filters.tag:
        articles = articles.filter(tags__name__iexact=filters.tag.strip())
    translation = Q()
    if filters.locale:
        translation &= Q(locale=filters.locale)
    if filters.state:
        translation &= Q(state=filters.state)
    text = " ".join(filters.text.split())
    if text:
        translation &= Q(title__icontains=text) | Q(body_text__icontains=text)
    if translation:
        matching = ArticleTranslation.objects.filter(translation, workspace_id=workspace_id)
        articles = articles.filter(pk__in=matching.values("article_id"))
    return articles.distinct().order_by("-updated_at", "-id")


def get_article_for_agent(agent: Agent, article_id: int) -> Article:
    article = articles_of(agent.workspace_id).filter(pk=article_id).first()
    if article is None:
        raise Http404("No such article")
    return article


def get_translation_for_agent(agent: Agent, article_id: int, locale: str) -> ArticleTranslation:
    translation = (
        ArticleTranslation.objects.select_related("article", "updated_by__user")
        .filter(workspace_id=agent.workspace_id, article_id=article_id, locale=locale)
        .first()
    )
    if translation is None:
        raise Http404("No such translation")
    return translation


def revisions_of(translation: ArticleTranslation) -> QuerySet[ArticleRevision]:
    return translation.revisions.select_related("author__user").order_by("-number")


def get_revision_for_agent(agent: Agent, article_id: int, locale: str, number: int) -> ArticleRevision:
    revision = (
        ArticleRevision.objects.select_related("translation__article", "author__user")
        .filter(
            workspace_id=agent.workspace_id,
            translation__article_id=article_id,
            translation__locale=locale,
            number=number,
        )
        .first()
    )
    if revision is None:
        raise Http404("No such revision")
    return revision


def categories_of(workspace_id: int) -> list[KnowledgeCategory]:
    """Top-level categories in their order, each followed by its sections in theirs."""
    rows = list(KnowledgeCategory.objects.filter(workspace_id=workspace_id).order_by("position", "name", "id"))
    ordered: list[KnowledgeCategory] = []
    for top in (row for row in rows if row.parent_id is None):
        ordered.append(top)
        ordered.extend(row for row in rows if row.parent_id == top.pk)
    return ordered


def get_category_for_agent(agent: Agent, category_id: int) -> KnowledgeCategory:
    category = KnowledgeCategory.objects.filter(workspace_id=agent.workspace_id, pk=category_id).first()
    if category is None:
        raise Http404("No such category")
    return category


def stale_articles(
    workspace_id: int, *, days: int = STALE_AFTER_DAYS, now: dt.datetime | None = None
) -> QuerySet[Article]:
    """Articles nobody confirmed for ``days`` days (or ever), the oldest review first."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    return (
        articles_of(workspace_id)
        .filter(Q(last_reviewed_at__lt=cutoff) | Q(last_reviewed_at__isnull=True))
        # Never reviewed is the oldest of all (PostgreSQL would put NULLs last otherwise).
        .order_by(F("last_reviewed_at").asc(nulls_first=True), "id")
        .select_related("last_reviewed_by__user")
    )


def image_for_reader(key: str, *, agent: Agent | None) -> ArticleImage:
    """An article image for whoever asks: any agent of its workspace; anyone else only while a published
    translation of a public article shows it (an internal article's images stay inside)."""
    image = ArticleImage.objects.select_related("blob", "article").filter(key=key).first()
    if image is None:
        raise Http404("No such image")
    if agent is not None and agent.workspace_id == image.workspace_id:
        return image
    from deskloop.knowledge.services.images import image_url

    shown = (
        image.article.visibility == ArticleVisibility.PUBLIC
        and ArticleTranslation.objects.filter(
            article_id=image.article_id, state=ArticleState.PUBLISHED, body_html__contains=image_url(image)
        ).exists()
    )
    if not shown:
        raise Http404("No such image")
    return image


def help_center_base_url(workspace: Workspace) -> str:
    """Where the workspace's help center answers: its own host name when it has one, else /help/<slug>/ on
    this site."""
    host = HelpCenter.objects.filter(workspace=workspace).values_list("host_name", flat=True).first()
    if host:
        return f"https://{host}/"
    return f"{settings.SITE_URL.rstrip('/')}/help/{workspace.slug}/"


def article_url(workspace: Workspace, translation: ArticleTranslation, *, base_url: str | None = None) -> str:
    """The help-center address of one translation (the helpcenter app's ``article`` route:
    ``<base>/<locale>/articles/<article id>-<slug>/``), absolute, so it can go into an email."""
    base = base_url if base_url is not None else help_center_base_url(workspace)
    return f"{base}{translation.locale}/articles/{translation.article_id}-{translation.slug}/"


def reader_locale(preferred: str, available: list[str], default: str) -> str:
    """The language to show a reader: theirs when the article has it, else the workspace's default, else the
    first the article has."""
    for code in (preferred[:2].lower() if preferred else "", default[:2].lower() if default else ""):
        if code in available:
            return code
    return available[0] if available else (default or ARTICLE_LOCALES[0])
