"""Writes for help-center categories and their sections (a section is a category with a parent)."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Workspace
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.knowledge.models import KnowledgeCategory

CATEGORIES_ADMINS_ONLY = gettext_noop("Only admins can change the help center's categories.")
NAME_MAX = 120
SLUG_MAX = 120


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
) -> KnowledgeCategory:
    """A category (``parent`` None) or a section of one. ``actor`` None: a management command."""
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
        slug=_unique_slug(workspace, cleaned),
        parent=parent,
        description=description.strip()[:500],
        position=KnowledgeCategory.objects.filter(workspace=workspace, parent=parent).count(),
    )


def category_named(*, actor: Agent | None, workspace: Workspace, name: str) -> KnowledgeCategory:
    """The workspace's top-level category of this name (any casing), created when missing (imports)."""
    cleaned = " ".join((name or "").split())
    found = KnowledgeCategory.objects.filter(workspace=workspace, parent=None, name__iexact=cleaned).first()
    return found or create_category(actor=actor, workspace=workspace, name=cleaned)
