"""Writes for help-center categories and their sections (a section is a category with a parent)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import Conflict, NotFound, ValidationFailed
from deskloop.knowledge.models import ARTICLE_LOCALES, KnowledgeCategory

CATEGORIES_ADMINS_ONLY = gettext_noop("Only admins can change the help center's categories.")
NAME_MAX = 120
SLUG_MAX = 120
DESCRIPTION_MAX = 500


def _clean_translations(values: dict[str, str] | None, limit: int, *, field: str) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for locale, text in (values or {}).items():
        if locale not in ARTICLE_LOCALES:
            raise ValidationFailed(_("Unknown language “%(locale)s”.") % {"locale": locale}, field=field)
        text = " ".join(str(text).split())
        if len(text) > limit:
            raise ValidationFailed(_("A name can be at most %(max)d characters.") % {"max": limit}, field=field)
        if text:
            cleaned[locale] = text
    return cleaned


def _unique_slug(workspace: Workspace, name: str) -> str:
    base = slugify(name, allow_unicode=True)[:SLUG_MAX].strip("-") or "category"
    taken = set(
        KnowledgeCategory.objects.filter(workspace=workspace, slug__startswith=base).values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_category(
    *,
    actor: Agent | None,
    workspace: Workspace,
    name: str,
    parent: KnowledgeCategory | None = None,
    description: str = "",
    name_translations: dict[str, str] | None = None,
    description_translations: dict[str, str] | None = None,
) -> KnowledgeCategory:
    """A category (``parent`` None) or a section of one. ``actor`` None: a management command.
    ``name_translations`` / ``description_translations``: the name and description per article language."""
    if actor is not None:
        if actor.workspace_id != workspace.pk:
            raise NotFound(_("Category not found."))
        require_admin(actor, CATEGORIES_ADMINS_ONLY)
    if parent is not None and parent.workspace_id != workspace.pk:
        raise NotFound(_("Category not found."))
    if parent is not None and parent.parent_id is not None:
        raise ValidationFailed(_("A section cannot have sections of its own."), field="parent")
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationFailed(_("A category needs a name."), field="name")
    if len(cleaned) > NAME_MAX:
        raise ValidationFailed(_("A name can be at most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    return KnowledgeCategory.objects.create(
        workspace=workspace,
        name=cleaned,
        name_translations=_clean_translations(name_translations, NAME_MAX, field="name"),
        description_translations=_clean_translations(description_translations, DESCRIPTION_MAX, field="description"),
        slug=_unique_slug(workspace, cleaned),
        parent=parent,
        description=description.strip()[:DESCRIPTION_MAX],
        position=KnowledgeCategory.objects.filter(workspace=workspace, parent=parent).count(),
    )


def category_named(*, actor: Agent | None, workspace: Workspace, name: str) -> KnowledgeCategory:
    """The workspace's top-level category of this name (any casing), created when missing (imports)."""
    cleaned = " ".join((name or "").split())
    found = KnowledgeCategory.objects.filter(workspace=workspace, parent=None, name__iexact=cleaned).first()
    return found or create_category(actor=actor, workspace=workspace, name=cleaned)


def _require_category_admin(actor: Agent, category: KnowledgeCategory) -> None:
    if actor.workspace_id != category.workspace_id:
        raise NotFound(_("Category not found."))
    require_admin(actor, CATEGORIES_ADMINS_ONLY)


@transaction.atomic
def rename_category(
    *, actor: Agent, category: KnowledgeCategory, name: str, names: Mapping[str, str], description: str = ""
) -> KnowledgeCategory:
    """A new default name (the slug stays, so help-center links keep working) and a name per article language
    (``names``: language code -> name; an empty one reads the default name)."""
    _require_category_admin(actor, category)
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValidationFailed(_("A category needs a name."), field="name")
    translations: dict[str, str] = {}
    for code, value in names.items():
        if code not in ARTICLE_LOCALES:
            raise ValidationFailed(_("Names can be given in the article languages only."), field=f"name_{code}")
        value = " ".join((value or "").split())
        if len(value) > NAME_MAX:
            raise ValidationFailed(
                _("A name can be at most %(max)d characters.") % {"max": NAME_MAX}, field=f"name_{code}"
            )
        if value:
            translations[code] = value
    if len(cleaned) > NAME_MAX:
        raise ValidationFailed(_("A name can be at most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    category.name = cleaned
    category.name_translations = translations
    category.description = (description or "").strip()[:500]
    category.save(update_fields=["name", "name_translations", "description"])
    return category


@transaction.atomic
def move_category(*, actor: Agent, category: KnowledgeCategory, up: bool) -> KnowledgeCategory:
    """Swap the category with its neighbour among its siblings (the help center lists them in this order)."""
    _require_category_admin(actor, category)
    # Locked in order, so two admins reordering at once do not leave two siblings at one position.
    siblings = list(
        KnowledgeCategory.objects.select_for_update()
        .filter(workspace_id=category.workspace_id, parent_id=category.parent_id)
        .order_by("position", "name", "id")
    )
    index = next(i for i, row in enumerate(siblings) if row.pk == category.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, row in enumerate(siblings):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    return next(row for row in siblings if row.pk == category.pk)


@transaction.atomic
def delete_category(*, actor: Agent, category: KnowledgeCategory) -> None:
    """Only an empty category goes: articles and sections are moved or deleted first, never with it."""
    _require_category_admin(actor, category)
    if category.sections.exists():
        raise Conflict(_("“%(name)s” still has sections; delete or move them first.") % {"name": category.name})
    if category.articles.exists():
        raise Conflict(
            _("“%(name)s” still has articles; move them to another category first.") % {"name": category.name}
        )
    category.delete()
