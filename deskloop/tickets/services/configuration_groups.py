"""How a workspace groups its tickets: tags (rename, merge, delete), product areas (a tree: create, rename, move,
delete when unused), and deleting a team. Admins and owners only.

Changes that touch tickets (merging or deleting a tag, deleting a team) go through ``update_ticket`` ticket by
ticket inside one transaction, so each ticket's history, version and webhooks see the change like any other
edit, and a refusal on one ticket leaves them all unchanged. Tag renames and merges keep macros' tag actions in
step, so a macro never re-creates a tag that was renamed away.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Team
from deskloop.core.errors import ValidationFailed
from deskloop.tickets.models import Macro, ProductArea, Tag, Ticket
from deskloop.tickets.services.configuration import ADMINS_ONLY, VIA, check_same_workspace, get_for_admin, one_line
from deskloop.tickets.services.tickets import (
    clean_tag_names,
    move_team_tickets,
    retag_tickets,
)

AREA_NAME_MAX = 100
AREA_PATH_MAX = 500
AREA_SEPARATOR = " > "

TAG_NAME_TAKEN = gettext_noop("A tag named “%(name)s” already exists. Merge into it instead.")
TAG_NAME_REQUIRED = gettext_noop("A tag needs a name.")
TAG_MERGE_SELF = gettext_noop("Choose a different tag to merge into.")
TAG_NOT_FOUND = gettext_noop("Tag not found.")

AREA_NAME_REQUIRED = gettext_noop("A product area needs a name.")
AREA_NAME_TOO_LONG = gettext_noop("A product area name can be at most %(max)d characters.")
AREA_NAME_SEPARATOR = gettext_noop("A product area name cannot contain “>”; it separates levels.")
AREA_NAME_TAKEN = gettext_noop("“%(path)s” already exists.")
AREA_PATH_TOO_LONG = gettext_noop("The full path would be longer than %(max)d characters.")
AREA_UNDER_ITSELF = gettext_noop("A product area cannot be moved under itself or one of its own sub-areas.")
AREA_HAS_CHILDREN = gettext_noop("“%(path)s” has sub-areas. Move or delete them first.")
AREA_IN_USE = ngettext_lazy(
    "“%(path)s” is set on %(count)s ticket. Move it to another product area first.",
    "“%(path)s” is set on %(count)s tickets. Move them to another product area first.",
    "count",
)
AREA_NOT_FOUND = gettext_noop("Product area not found.")

TEAM_NOT_FOUND = gettext_noop("Team not found.")
TEAM_MOVE_TO_SELF = gettext_noop("Choose another team to move the tickets to.")


# ---- tags --------------------------------------------------------------------------------------------------------
def tags_for_admin(actor: Agent, *, query: str = "") -> list[Tag]:
    """The workspace's tags by name, each with ``ticket_count``; ``query`` keeps names containing it."""
    require_admin(actor, ADMINS_ONLY)
    tags = Tag.objects.filter(workspace_id=actor.workspace_id)
    if query.strip():
        tags = tags.filter(name__icontains=query.strip())
    return list(tags.annotate(ticket_count=Count("tickets")).order_by("name", "id"))


def get_tag_for_admin(actor: Agent, tag_id: int) -> Tag:
    return get_for_admin(actor, Tag, tag_id)


def tag_ticket_count(tag: Tag) -> int:
    return Ticket.objects.filter(workspace_id=tag.workspace_id, tags=tag).count()


def _replace_tag_in_macros(workspace_id: int, old: str, new: str | None) -> None:
    """Macros name tags; after a rename or merge they add the new name, after a delete none."""
    lowered = old.lower()
    for macro in Macro.objects.select_for_update().filter(workspace_id=workspace_id):
        actions = dict(macro.actions or {})
        changed = False
        for key in ("add_tags", "remove_tags"):
            names = actions.get(key) or []
            if not any(name.lower() == lowered for name in names):
                continue
            replaced = [new if name.lower() == lowered else name for name in names]
            actions[key] = clean_tag_names([name for name in replaced if name])
            if not actions[key]:
                del actions[key]
            changed = True
        if changed:
            macro.actions = actions
            macro.save(update_fields=["actions"])


def rename_tag(*, actor: Agent, tag: Tag, name: str) -> Tag:
    check_same_workspace(actor, tag, TAG_NOT_FOUND)
    cleaned = clean_tag_names([name])
    if not cleaned:
        raise ValidationFailed(_(TAG_NAME_REQUIRED), field="name")
    new_name = cleaned[0]
    try:
        with transaction.atomic():
            if Tag.objects.filter(workspace_id=tag.workspace_id, name__iexact=new_name).exclude(pk=tag.pk).exists():
                raise ValidationFailed(_(TAG_NAME_TAKEN) % {"name": new_name}, field="name")
            _replace_tag_in_macros(tag.workspace_id, tag.name, new_name)
            tag.name = new_name
            tag.save(update_fields=["name"])
    except IntegrityError as exc:
        raise ValidationFailed(_(TAG_NAME_TAKEN) % {"name": new_name}, field="name") from exc
    return tag


def merge_tags(*, actor: Agent, source: Tag, target: Tag) -> int:
    """Replace ``source`` with ``target`` on every ticket and macro, then delete ``source``. Returns the number
    of tickets that had ``source``."""
    check_same_workspace(actor, source, TAG_NOT_FOUND)
    check_same_workspace(actor, target, TAG_NOT_FOUND)
    if source.pk == target.pk:
        raise ValidationFailed(_(TAG_MERGE_SELF), field="target")
    # One transaction: a refusal on any ticket leaves every ticket as it was.
    with transaction.atomic():
        changed = retag_tickets(tag=source, replacement=target, agent=actor, via=VIA)
        _replace_tag_in_macros(source.workspace_id, source.name, target.name)
        source.delete()
    return changed


def delete_tag(*, actor: Agent, tag: Tag) -> int:
    """Remove the tag from every ticket (each records it) and macro, then delete it. Returns the ticket count."""
    check_same_workspace(actor, tag, TAG_NOT_FOUND)
    with transaction.atomic():
        changed = retag_tickets(tag=tag, replacement=None, agent=actor, via=VIA)
        _replace_tag_in_macros(tag.workspace_id, tag.name, None)
        tag.delete()
    return changed


# ---- product areas -----------------------------------------------------------------------------------------------
def product_areas_for_admin(actor: Agent) -> list[ProductArea]:
    """The tree in path order; each area has ``depth`` (0 for top level) and ``ticket_count``."""
    require_admin(actor, ADMINS_ONLY)
    areas: list[ProductArea] = list(
        ProductArea.objects.filter(workspace_id=actor.workspace_id)
        .select_related("owner__user")
        .annotate(ticket_count=Count("tickets"), child_count=Count("children", distinct=True))
        .order_by("path", "id")
    )
    for area in areas:
        area.depth = area.path.count(AREA_SEPARATOR)  # type: ignore[attr-defined]
    return areas


def get_area_for_admin(actor: Agent, area_id: int) -> ProductArea:
    return get_for_admin(actor, ProductArea, area_id)


def _clean_area_name(name: str) -> str:
    cleaned = one_line(name)
    if not cleaned:
        raise ValidationFailed(_(AREA_NAME_REQUIRED), field="name")
    if ">" in cleaned:
        raise ValidationFailed(_(AREA_NAME_SEPARATOR), field="name")
    if len(cleaned) > AREA_NAME_MAX:
        raise ValidationFailed(_(AREA_NAME_TOO_LONG) % {"max": AREA_NAME_MAX}, field="name")
    return cleaned


def _path(parent: ProductArea | None, name: str) -> str:
    return f"{parent.path}{AREA_SEPARATOR}{name}" if parent is not None else name


def _check_free(workspace_id: int, parent: ProductArea | None, name: str, *, exclude: int | None = None) -> None:
    siblings = ProductArea.objects.filter(workspace_id=workspace_id, parent=parent, name__iexact=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise ValidationFailed(_(AREA_NAME_TAKEN) % {"path": _path(parent, name)}, field="name")


def _repath(area: ProductArea) -> None:
    """Recompute the stored paths of ``area`` and everything under it (names or parents changed)."""
    everything = {a.pk: a for a in ProductArea.objects.select_for_update().filter(workspace_id=area.workspace_id)}
    everything[area.pk] = area
    children: dict[int | None, list[ProductArea]] = {}
    for candidate in everything.values():
        children.setdefault(candidate.parent_id, []).append(candidate)
    pending = [area]
    while pending:
        current = pending.pop()
        parent = everything.get(current.parent_id) if current.parent_id else None
        path = _path(parent, current.name)
        if len(path) > AREA_PATH_MAX:
            raise ValidationFailed(_(AREA_PATH_TOO_LONG) % {"max": AREA_PATH_MAX}, field="name")
        current.path = path
        current.save(update_fields=["name", "parent", "path"])
        pending.extend(children.get(current.pk, []))


def create_product_area(*, actor: Agent, name: str, parent: ProductArea | None = None) -> ProductArea:
    require_admin(actor, ADMINS_ONLY)
    if parent is not None and parent.workspace_id != actor.workspace_id:
        raise ValidationFailed(_(AREA_NOT_FOUND), field="parent")
    cleaned = _clean_area_name(name)
    path = _path(parent, cleaned)
    if len(path) > AREA_PATH_MAX:
        raise ValidationFailed(_(AREA_PATH_TOO_LONG) % {"max": AREA_PATH_MAX}, field="name")
    try:
        with transaction.atomic():
            _check_free(actor.workspace_id, parent, cleaned)
            return ProductArea.objects.create(workspace_id=actor.workspace_id, name=cleaned, parent=parent, path=path)
    except IntegrityError as exc:
        raise ValidationFailed(_(AREA_NAME_TAKEN) % {"path": path}, field="name") from exc


def update_product_area(*, actor: Agent, area: ProductArea, name: str, parent: ProductArea | None) -> ProductArea:
    """Rename and/or move an area (with its sub-areas) under another parent, or to the top level."""
    check_same_workspace(actor, area, AREA_NOT_FOUND)
    if parent is not None and parent.workspace_id != actor.workspace_id:
        raise ValidationFailed(_(AREA_NOT_FOUND), field="parent")
    cleaned = _clean_area_name(name)
    try:
        with transaction.atomic():
            locked = ProductArea.objects.select_for_update().get(pk=area.pk)
            ancestor = parent
            while ancestor is not None:
                if ancestor.pk == locked.pk:
                    raise ValidationFailed(_(AREA_UNDER_ITSELF), field="parent")
                ancestor = ancestor.parent
            _check_free(locked.workspace_id, parent, cleaned, exclude=locked.pk)
            locked.name = cleaned
            locked.parent = parent
            _repath(locked)
    except IntegrityError as exc:
        raise ValidationFailed(_(AREA_NAME_TAKEN) % {"path": _path(parent, cleaned)}, field="name") from exc
    return locked


def set_product_area_owner(*, actor: Agent, area: ProductArea, owner: Agent | None) -> ProductArea:
    """Make ``owner`` (an active agent of the workspace) the product manager of ``area``, or nobody: lost-deal tasks
    and the area's insights page go to them."""
    check_same_workspace(actor, area, AREA_NOT_FOUND)
    if owner is not None and (owner.workspace_id != actor.workspace_id or not owner.is_active):
        raise ValidationFailed(_("No such agent in this workspace."), field="owner")
    area.owner = owner
    area.save(update_fields=["owner"])
    return area


def delete_product_area(*, actor: Agent, area: ProductArea) -> None:
    """Delete an area without sub-areas that no ticket points at (mailboxes routing to it route to none)."""
    check_same_workspace(actor, area, AREA_NOT_FOUND)
    with transaction.atomic():
        if ProductArea.objects.filter(parent=area).exists():
            raise ValidationFailed(_(AREA_HAS_CHILDREN) % {"path": area.path})
        count = Ticket.objects.filter(product_area=area).count()
        if count:
            raise ValidationFailed(AREA_IN_USE % {"path": area.path, "count": count})
        area.delete()


# ---- teams -------------------------------------------------------------------------------------------------------
def delete_team(*, actor: Agent, team: Team, move_to: Team | None = None) -> int:
    """Delete a team; its tickets move to ``move_to`` (or to no team), each recording the change.

    Lives here rather than in accounts because tickets change. Returns the number of tickets moved.
    """
    check_same_workspace(actor, team, TEAM_NOT_FOUND)
    if move_to is not None:
        if move_to.workspace_id != actor.workspace_id:
            raise ValidationFailed(_(TEAM_NOT_FOUND), field="move_to")
        if move_to.pk == team.pk:
            raise ValidationFailed(_(TEAM_MOVE_TO_SELF), field="move_to")
    with transaction.atomic():
        moved = move_team_tickets(team=team, move_to=move_to, agent=actor, via=VIA)
        team.delete()
    return moved


def teams_for_admin(actor: Agent) -> list[Team]:
    require_admin(actor, ADMINS_ONLY)
    return list(Team.objects.filter(workspace_id=actor.workspace_id).order_by("name"))


def get_team_for_admin(actor: Agent, team_id: int) -> Team:
    return get_for_admin(actor, Team, team_id)
