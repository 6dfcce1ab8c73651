"""The knowledge base over the API, as in the agents' pages: articles with a version per language, their
revisions, and categories. Every agent reads (internal articles too); writers change articles, admins categories.
Another workspace's article or category reads as "not found". Every write is a deskloop.knowledge.services call;
``external_id`` is settable so a script can keep its own ids (``import_articles`` keeps them the same way).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES, WRITER_ROLES, Agent
from deskloop.core.api_support import CursorPage, PageQuery, api_policy, keyset_page, problems
from deskloop.core.errors import NotFound
from deskloop.knowledge import queries
from deskloop.knowledge.models import (
    Article,
    ArticleLocale,
    ArticleRevision,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    KnowledgeCategory,
)
from deskloop.knowledge.services import articles as services
from deskloop.knowledge.services import categories as category_services
from deskloop.tickets.models import ProductArea

router = Router(tags=["knowledge"])

TAGS_MAX = 50


class TranslationOut(Schema):
    locale: str
    title: str
    body_html: str = Field(..., description="Sanitized HTML, as readers get it.")
    state: str = Field(..., description="draft or published")
    url: str = Field(..., description="The help-center address (customers can open it once published and public).")
    updated_at: dt.datetime


class ArticleOut(Schema):
    id: int
    external_id: str
    category_id: int | None
    visibility: str = Field(..., description="public (help center, widget, portal) or internal (agents only)")
    product_area_id: int | None
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    last_reviewed_at: dt.datetime | None
    translations: list[TranslationOut]


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class ArticleListQuery(PageQuery):
    category_id: int | None = Field(None, description="A category (its sections included) or a section.")
    locale: ArticleLocale | None = Field(None, description="Articles with a version in this language.")
    state: ArticleState | None = Field(None, description="With locale: the state of that version; else of any.")
    visibility: ArticleVisibility | None = None
    product_area_id: int | None = None
    tag: str | None = Field(None, max_length=100)
    q: str | None = Field(None, max_length=200, description="Words in a title or text.")


class ArticleIn(Schema):
    locale: ArticleLocale
    title: str = Field(..., max_length=services.TITLE_MAX)
    body: str = Field("", max_length=services.BODY_MAX, description="HTML; sanitized before it is stored.")
    external_id: str = Field("", max_length=services.EXTERNAL_ID_MAX)
    category_id: int | None = None
    visibility: ArticleVisibility = ArticleVisibility.PUBLIC
    state: ArticleState = ArticleState.DRAFT
    product_area_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=TAGS_MAX)


class ArticleUpdateIn(Schema):
    """Only the fields sent change; ``null`` clears a category or product area."""

    external_id: str | None = Field(None, max_length=services.EXTERNAL_ID_MAX)
    category_id: int | None = None
    visibility: ArticleVisibility | None = None
    product_area_id: int | None = None
    tags: list[str] | None = Field(None, max_length=TAGS_MAX)


class TranslationIn(Schema):
    # Defaults, so an id of another workspace is answered 404 before the body is judged.
    title: str = Field("", max_length=services.TITLE_MAX)
    body_html: str = Field("", max_length=services.BODY_MAX, description="HTML; sanitized before it is stored.")
    state: ArticleState | None = Field(None, description="Omitted: keeps the state (a new version is a draft).")
    note: str = Field("", max_length=200, description="Why this revision exists, shown in the history.")


class RevisionOut(Schema):
    number: int
    title: str
    body_html: str
    author_id: int | None
    note: str
    created_at: dt.datetime


class RevisionPage(Schema):
    items: list[RevisionOut]
    next_cursor: str | None


class CategoryOut(Schema):
    id: int
    name: str
    names: dict[str, str] = Field(..., description="The default name and one per language that has its own.")
    slug: str
    parent_id: int | None = Field(..., description="Set for a section: the category it belongs to.")
    position: int
    description: str


class CategoryPage(Schema):
    items: list[CategoryOut]
    next_cursor: str | None


class CategoryIn(Schema):
    name: str = Field(..., max_length=category_services.NAME_MAX)
    parent_id: int | None = Field(None, description="Makes it a section of that category.")
    description: str = Field("", max_length=500)


def _payload(article: Article, base_url: str) -> dict[str, Any]:
    workspace = article.workspace
    return {
        "id": article.pk,
        "external_id": article.external_id,
        "category_id": article.category_id,
        "visibility": article.visibility,
        "product_area_id": article.product_area_id,
        "tags": sorted(t.name for t in article.tags.all()),
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "last_reviewed_at": article.last_reviewed_at,
        "translations": [_translation_payload(workspace, t, base_url) for t in article.translations.all()],
    }


def _translation_payload(workspace: Any, translation: ArticleTranslation, base_url: str) -> dict[str, Any]:
    return {
        "locale": translation.locale,
        "title": translation.title,
        "body_html": translation.body_html,
        "state": translation.state,
        "url": queries.article_url(workspace, translation, base_url=base_url),
        "updated_at": translation.updated_at,
    }


def _article_out(agent: Agent, article_id: int) -> dict[str, Any]:
    return _payload(queries.get_article_for_agent(agent, article_id), queries.help_center_base_url(agent.workspace))


def _category(agent: Agent, category_id: int | None) -> KnowledgeCategory | None:
    if category_id is None:
        return None
    found = KnowledgeCategory.objects.filter(workspace_id=agent.workspace_id, pk=category_id).first()
    if found is None:
        raise NotFound(_("Category not found."))
    return found


def _product_area(agent: Agent, area_id: int | None) -> ProductArea | None:
    if area_id is None:
        return None
    found = ProductArea.objects.filter(workspace_id=agent.workspace_id, pk=area_id).first()
    if found is None:
        raise NotFound(_("Product area not found."))
    return found


@router.get("/knowledge/articles", response={200: ArticlePage, **problems(401, 403, 422, 429)}, summary="List articles")
@api_policy(ALL_ROLES)
def list_articles(request: HttpRequest, filters: Query[ArticleListQuery]) -> dict[str, Any]:
    """Every article of the workspace (internal ones too) matching all the filters given, by id."""
    agent = caller_agent(request)
    found = queries.filter_articles(
        agent.workspace_id,
        queries.ArticleFilters(
            category_id=filters.category_id,
            locale=filters.locale or "",
            state=filters.state or "",
            visibility=filters.visibility or "",
            product_area_id=filters.product_area_id,
            tag=filters.tag or "",
            text=filters.q or "",
        ),
    ).select_related("workspace")
    page = keyset_page(found, cursor=filters.cursor, limit=filters.limit)
    base_url = queries.help_center_base_url(agent.workspace)
    return {"items": [_payload(a, base_url) for a in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/knowledge/articles",
    response={201: ArticleOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Create an article",
    description="The article with its first language version (and first revision).",
)
@api_policy(WRITER_ROLES, idempotent=True)
def create_article(request: HttpRequest, payload: ArticleIn, response: HttpResponse) -> Status[dict[str, Any]]:
    agent = caller_agent(request)
    article = services.create_article(
        actor=agent,
        workspace=agent.workspace,
        locale=payload.locale,
        title=payload.title,
        body_html=payload.body,
        publish=payload.state == ArticleState.PUBLISHED,
        note="api",
        about=services.ArticleAbout(
            category=_category(agent, payload.category_id),
            visibility=payload.visibility,
            product_area=_product_area(agent, payload.product_area_id),
            tags=tuple(payload.tags),
            external_id=payload.external_id,
        ),
    )
    response["Location"] = f"{request.path.rstrip('/')}/{article.pk}"
    return Status(201, _article_out(agent, article.pk))


@router.get(
    "/knowledge/articles/{article_id}",
    response={200: ArticleOut, **problems(401, 403, 404, 429)},
    summary="Get an article",
)
@api_policy(ALL_ROLES)
def get_article(request: HttpRequest, article_id: int) -> dict[str, Any]:
    return _article_out(caller_agent(request), article_id)


@router.patch(
    "/knowledge/articles/{article_id}",
    response={200: ArticleOut, **problems(401, 403, 404, 422, 429)},
    summary="Change an article",
    description="What the article is about and who may read it; its text changes per language (PUT translations).",
)
@api_policy(WRITER_ROLES)
def update_article(request: HttpRequest, article_id: int, payload: ArticleUpdateIn) -> dict[str, Any]:
    agent = caller_agent(request)
    article = queries.get_article_for_agent(agent, article_id)
    sent = payload.model_fields_set
    services.update_article(
        actor=agent,
        article=article,
        about=services.ArticleAbout(
            category=_category(agent, payload.category_id) if "category_id" in sent else article.category,
            visibility=payload.visibility or article.visibility,
            product_area=_product_area(agent, payload.product_area_id)
            if "product_area_id" in sent
            else article.product_area,
            tags=tuple(payload.tags if payload.tags is not None else [t.name for t in article.tags.all()]),
            external_id=payload.external_id if payload.external_id is not None else article.external_id,
        ),
    )
    return _article_out(agent, article_id)


@router.delete(
    "/knowledge/articles/{article_id}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Delete an article",
    description="Every language of it, with its revisions and images.",
)
@api_policy(WRITER_ROLES)
def delete_article(request: HttpRequest, article_id: int) -> Status[None]:
    agent = caller_agent(request)
    services.delete_article(actor=agent, article=queries.get_article_for_agent(agent, article_id))
    return Status(204, None)


@router.put(
    "/knowledge/articles/{article_id}/translations/{locale}",
    response={200: TranslationOut, **problems(401, 403, 404, 422, 429)},
    summary="Write an article in one language",
    description="Creates or replaces the title and body in that language; a change leaves a revision.",
)
@api_policy(WRITER_ROLES)
def put_translation(request: HttpRequest, article_id: int, locale: str, payload: TranslationIn) -> dict[str, Any]:
    agent = caller_agent(request)
    article = queries.get_article_for_agent(agent, article_id)
    saved = services.save_translation(
        actor=agent,
        article=article,
        locale=locale,
        title=payload.title,
        body_html=payload.body_html,
        publish=None if payload.state is None else payload.state == ArticleState.PUBLISHED,
        note=payload.note or "api",
    )
    return _translation_payload(agent.workspace, saved.translation, queries.help_center_base_url(agent.workspace))


@router.get(
    "/knowledge/articles/{article_id}/translations/{locale}/revisions",
    response={200: RevisionPage, **problems(401, 403, 404, 422, 429)},
    summary="List an article's revisions in one language",
    description="Oldest first; the last one is the current text.",
)
@api_policy(ALL_ROLES)
def list_revisions(request: HttpRequest, article_id: int, locale: str, page: Query[PageQuery]) -> CursorPage:
    translation = queries.get_translation_for_agent(caller_agent(request), article_id, locale)
    revisions = ArticleRevision.objects.filter(translation=translation)
    return keyset_page(revisions, cursor=page.cursor, limit=page.limit, order=("number", "id"))


@router.get(
    "/knowledge/categories", response={200: CategoryPage, **problems(401, 403, 422, 429)}, summary="List categories"
)
@api_policy(ALL_ROLES)
def list_categories(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    """Categories and sections (``parent_id`` set), by id."""
    found = KnowledgeCategory.objects.filter(workspace_id=caller_agent(request).workspace_id)
    return keyset_page(found, cursor=page.cursor, limit=page.limit)


@router.post(
    "/knowledge/categories",
    response={201: CategoryOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Create a category or section",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def create_category(request: HttpRequest, payload: CategoryIn, response: HttpResponse) -> Status[KnowledgeCategory]:
    agent = caller_agent(request)
    category = category_services.create_category(
        actor=agent,
        workspace=agent.workspace,
        name=payload.name,
        parent=_category(agent, payload.parent_id),
        description=payload.description,
    )
    response["Location"] = f"{request.path.rstrip('/')}/{category.pk}"
    return Status(201, category)


__all__ = ["router"]
