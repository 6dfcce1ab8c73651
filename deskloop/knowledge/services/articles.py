"""Writes for articles: create one, save a language version of it (each save a revision), publish, review.

Every path that changes an article's text (the editor, the API, ``import_articles``, "create an article from this
answer") comes through ``save_translation``, so each change is sanitized once, leaves a revision, and is queued
for embedding after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.core.html import html_to_text, sanitize_html
from deskloop.knowledge.models import (
    ARTICLE_LOCALES,
    Article,
    ArticleRevision,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    KnowledgeCategory,
)
from deskloop.knowledge.services.embeddings import schedule_embedding
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.tickets import get_or_create_tags

WRITERS_ONLY = gettext_noop("Only agents who reply to customers can change articles.")
TITLE_MAX = 255
EXTERNAL_ID_MAX = 200
# An article body is written by people; a megabyte of HTML is already a book. Bounded like every input.
BODY_MAX = 1_000_000
SLUG_MAX = 100
# Where article images are served (knowledge.urls); the sanitizer keeps image sources under it and no other
# relative ones.
IMAGE_PATH = "/knowledge/images/"
RESTORED_NOTE = "restored from %(number)d"


@dataclass(frozen=True)
class SavedTranslation:
    translation: ArticleTranslation
    # False when the title, body and state were already what was asked: no revision, nothing re-embedded.
    changed: bool


def require_writer(actor: Agent | None, workspace: Workspace) -> None:
    """``actor`` None is the installation itself (a management command run by whoever runs the server)."""
    if actor is None:
        return
    if actor.workspace_id != workspace.pk:
        raise NotFound(_("Article not found."))
    require_role(actor, Capability.WRITE, WRITERS_ONLY)


def _clean_locale(locale: str) -> str:
    code = (locale or "").strip().lower()
    if code not in ARTICLE_LOCALES:
        raise ValidationFailed(
            _("Unknown language “%(locale)s”; use one of: %(known)s.")
            % {"locale": locale, "known": ", ".join(ARTICLE_LOCALES)},
            field="locale",
        )
    return code


def _clean_title(title: str) -> str:
    cleaned = " ".join((title or "").split())
    if not cleaned:
        raise ValidationFailed(_("An article needs a title."), field="title")
    if len(cleaned) > TITLE_MAX:
        raise ValidationFailed(_("A title can be at most %(max)d characters.") % {"max": TITLE_MAX}, field="title")
    return cleaned


def _clean_body(body_html: str) -> str:
    if len(body_html or "") > BODY_MAX:
        raise ValidationFailed(
            _("An article body can be at most %(max)d characters.") % {"max": BODY_MAX}, field="body"
        )
    # Article images are our own URLs (services.images); remote ones stay blocked like in mail.
    return sanitize_html(body_html or "", own_image_paths=(IMAGE_PATH,))


def _clean_external_id(external_id: str) -> str:
    cleaned = (external_id or "").strip()
    if len(cleaned) > EXTERNAL_ID_MAX:
        raise ValidationFailed(
            _("An external id can be at most %(max)d characters.") % {"max": EXTERNAL_ID_MAX}, field="external_id"
        )
    return cleaned


def _check_in_workspace(workspace: Workspace, *rows: KnowledgeCategory | ProductArea | None) -> None:
    for row in rows:
        if row is not None and row.workspace_id != workspace.pk:
            raise NotFound(
                _("Category not found.") if isinstance(row, KnowledgeCategory) else _("Product area not found.")
            )


def article_slug(title: str) -> str:
    return slugify(title, allow_unicode=True)[:SLUG_MAX].strip("-") or "article"


@dataclass(frozen=True)
class ArticleAbout:
    """What an article is about and who may read it: the fields its language versions share."""

    category: KnowledgeCategory | None = None
    visibility: str = ArticleVisibility.PUBLIC
    product_area: ProductArea | None = None
    tags: tuple[str, ...] = ()
    # The id the article has in the system it came from; "" for none.
    external_id: str = ""


def _checked_about(workspace: Workspace, about: ArticleAbout, *, article: Article | None) -> ArticleAbout:
    """``about`` with a clean external id, after checking it can be stored for ``article`` (None: a new one)."""
    _check_in_workspace(workspace, about.category, about.product_area)
    if about.visibility not in ArticleVisibility.values:
        raise ValidationFailed(_("Choose public or internal."), field="visibility")
    external_id = _clean_external_id(about.external_id)
    taken = Article.objects.filter(workspace=workspace, external_id=external_id)
    if article is not None:
        taken = taken.exclude(pk=article.pk)
    if external_id and taken.exists():
        raise ValidationFailed(
            _("Another article already has the external id “%(id)s”.") % {"id": external_id}, field="external_id"
        )
    return replace(about, external_id=external_id)


@transaction.atomic
def create_article(
    *,
    actor: Agent | None,
    workspace: Workspace,
    locale: str,
    title: str,
    body_html: str,
    about: ArticleAbout = ArticleAbout(),
    publish: bool = False,
    note: str = "",
) -> Article:
    """A new article with its first language version (and first revision)."""
    require_writer(actor, workspace)
    about = _checked_about(workspace, about, article=None)
    now = timezone.now()
    article = Article.objects.create(
        workspace=workspace,
        category=about.category,
        external_id=about.external_id,
        visibility=about.visibility,
        product_area=about.product_area,
        created_by=actor,
        created_at=now,
        updated_at=now,
        last_reviewed_at=now,
        last_reviewed_by=actor,
    )
    if about.tags:
        article.tags.set(get_or_create_tags(workspace.pk, about.tags))
    save_translation(
        actor=actor, article=article, locale=locale, title=title, body_html=body_html, publish=publish, note=note
    )
    return article


@transaction.atomic
def update_article(*, actor: Agent | None, article: Article, about: ArticleAbout) -> Article:
    """Change what an article is about and who may read it (its text is changed per language by
    ``save_translation``). Every field of ``about`` is the new value (``ArticleAbout.of`` keeps the others)."""
    workspace = article.workspace
    require_writer(actor, workspace)
    about = _checked_about(workspace, about, article=article)
    article.category = about.category
    article.visibility = about.visibility
    article.product_area = about.product_area
    article.external_id = about.external_id
    article.updated_at = timezone.now()
    article.save(update_fields=["category", "visibility", "product_area", "external_id", "updated_at"])
    article.tags.set(get_or_create_tags(workspace.pk, about.tags))
    return article


@transaction.atomic
def save_translation(
    *,
    actor: Agent | None,
    article: Article,
    locale: str,
    title: str,
    body_html: str,
    publish: bool | None = None,
    note: str = "",
) -> SavedTranslation:
    """Create or change the article's version in ``locale``; a change of title or body leaves a revision.
    ``publish``: True publishes, False makes it a draft, None keeps the state it has (draft for a new one)."""
    require_writer(actor, article.workspace)
    locale = _clean_locale(locale)
    title = _clean_title(title)
    body_html = _clean_body(body_html)
    now = timezone.now()
    translation = (
        ArticleTranslation.objects.select_for_update().filter(article=article, locale=locale).first()
    ) or ArticleTranslation(workspace_id=article.workspace_id, article=article, locale=locale)
    text_changed = translation.pk is None or (translation.title, translation.body_html) != (title, body_html)
    state = translation.state if publish is None else (ArticleState.PUBLISHED if publish else ArticleState.DRAFT)
    if not text_changed and state == translation.state:
        return SavedTranslation(translation, changed=False)
    if state == ArticleState.PUBLISHED and translation.state != ArticleState.PUBLISHED:
        translation.published_at = now
    translation.state = state
    translation.title = title
    translation.slug = article_slug(title)
    translation.body_html = body_html
    translation.body_text = html_to_text(body_html)
    translation.updated_at = now
    translation.updated_by = actor
    translation.save()
    if text_changed:
        _record_revision(translation, actor=actor, note=note)
        schedule_embedding(translation)
    Article.objects.filter(pk=article.pk).update(updated_at=now)
    return SavedTranslation(translation, changed=True)


def _record_revision(translation: ArticleTranslation, *, actor: Agent | None, note: str) -> ArticleRevision:
    last = translation.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    return ArticleRevision.objects.create(
        workspace_id=translation.workspace_id,
        translation=translation,
        number=last + 1,
        title=translation.title,
        body_html=translation.body_html,
        author=actor,
        note=note[:200],
    )


@transaction.atomic
def mark_reviewed(*, actor: Agent, article: Article) -> Article:
    """Someone read the article and it is still right: it leaves the stale list."""
    require_writer(actor, article.workspace)
    article.last_reviewed_at = timezone.now()
    article.last_reviewed_by = actor
    article.save(update_fields=["last_reviewed_at", "last_reviewed_by"])
    return article


@transaction.atomic
def restore_revision(*, actor: Agent, revision: ArticleRevision) -> SavedTranslation:
    """Save a revision's title and body again as the current text: a new revision, so nothing in between is lost.
    The translation keeps its state (a published article stays published with the restored text)."""
    translation = revision.translation
    require_writer(actor, translation.article.workspace)
    if translation.title == revision.title and translation.body_html == revision.body_html:
        raise Conflict(_("The current text is already the text of revision %(number)d.") % {"number": revision.number})
    return save_translation(
        actor=actor,
        article=translation.article,
        locale=translation.locale,
        title=revision.title,
        body_html=revision.body_html,
        note=RESTORED_NOTE % {"number": revision.number},
    )


@transaction.atomic
def delete_article(*, actor: Agent, article: Article) -> None:
    """The article, every language of it, its revisions and images (their files go with the orphan-blob purge)."""
    require_writer(actor, article.workspace)
    article.delete()


@transaction.atomic
def edit_article(
    *,
    actor: Agent,
    article: Article,
    locale: str,
    title: str,
    body_html: str,
    publish: bool,
    about: ArticleAbout,
    note: str = "",
) -> SavedTranslation:
    """The editor's one save: what the article is about and its text in one language, together or not at all.
    The external id is not the editor's to change: it stays."""
    update_article(actor=actor, article=article, about=replace(about, external_id=article.external_id))
    return save_translation(
        actor=actor, article=article, locale=locale, title=title, body_html=body_html, publish=publish, note=note
    )


def preview_body(body_html: str) -> str:
    """What the body will look like once saved (the editor's preview): the same cleaning, nothing stored."""
    return _clean_body(body_html)
