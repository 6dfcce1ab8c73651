"""How a workspace shapes its tickets: statuses and custom fields (tags, product areas and team removal are in
configuration_groups.py; macros in macros.py).

Admins and owners only. Everything an agent already relies on is protected with a clear refusal rather than
silently broken: a status in use is not deleted, a category is never left without a status, a choice still set
on tickets is not removed, a field with values is not deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Model
from django.http import Http404
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.tickets.models import (
    CustomField,
    CustomFieldType,
    Macro,
    Status,
    StatusCategory,
    Ticket,
)

STATUS_NAME_MAX = 60
FIELD_LABEL_MAX = 100
FIELD_KEY_MAX = 60
CHOICE_MAX = 100
CHOICES_MAX = 200
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
CHOICE_TYPES = frozenset({CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE})
# How changes made from the settings screens are recorded in ticket histories.
VIA = "settings"

ADMINS_ONLY = gettext_noop("Only admins and owners can change how tickets are set up.")

STATUS_NAME_REQUIRED = gettext_noop("A status needs a name.")
STATUS_NAME_TOO_LONG = gettext_noop("A status name can be at most %(max)d characters.")
STATUS_NAME_TAKEN = gettext_noop("A status named “%(name)s” already exists.")
UNKNOWN_CATEGORY = gettext_noop("Choose one of the categories.")
STATUS_CATEGORY_IN_USE = gettext_noop(
    "“%(name)s” is used by tickets, so its category cannot change (reports would mix up their history). "
    "Create a new status in the other category instead."
)
STATUS_LAST_IN_CATEGORY = gettext_noop(
    "“%(name)s” is the only status in the category %(category)s; every category needs one. Add another first."
)
STATUS_IN_USE = ngettext_lazy(
    "The status “%(name)s” is used by %(count)s ticket. Move it to another status before deleting the status.",
    "The status “%(name)s” is used by %(count)s tickets. Move them to another status before deleting it.",
    "count",
)
STATUS_IN_MACRO = gettext_noop("The status “%(name)s” is set by the macro “%(macro)s”. Change the macro first.")
STATUS_NOT_FOUND = gettext_noop("Status not found.")

FIELD_LABEL_REQUIRED = gettext_noop("A custom field needs a label.")
FIELD_LABEL_TOO_LONG = gettext_noop("A label can be at most %(max)d characters.")
UNKNOWN_FIELD_TYPE = gettext_noop("Choose one of the field types.")
BAD_FIELD_KEY = gettext_noop(
    "The key must start with a letter and use only lowercase letters, digits and underscores (at most %(max)d)."
)
FIELD_KEY_TAKEN = gettext_noop("Another custom field already uses the key “%(key)s”.")
CHOICES_REQUIRED = gettext_noop("A choice field needs at least one choice.")
TOO_MANY_CHOICES = gettext_noop("A field can have at most %(max)d choices.")
CHOICE_TOO_LONG = gettext_noop("A choice can be at most %(max)d characters.")
CHOICE_TWICE = gettext_noop("“%(choice)s” is listed twice.")
CHOICE_IN_USE = ngettext_lazy(
    "“%(choice)s” is still set on %(count)s ticket. Change that ticket first, or keep the choice.",
    "“%(choice)s” is still set on %(count)s tickets. Change those tickets first, or keep the choice.",
    "count",
)
FIELD_IN_USE = ngettext_lazy(
    "“%(label)s” has a value on %(count)s ticket. Clear it before deleting the field, so no data is lost by accident.",
    "“%(label)s” has values on %(count)s tickets. Clear them before deleting the field, so no data is lost by accident.",
    "count",
)
FIELD_NOT_FOUND = gettext_noop("Custom field not found.")

M = TypeVar("M", bound=Model)


def one_line(value: str) -> str:
    return " ".join((value or "").split())


def get_for_admin(actor: Agent, model: type[M], pk: int) -> M:
    """A row of the admin's workspace, else 404 (another workspace's ids are never confirmed to exist)."""
    require_admin(actor, ADMINS_ONLY)
    found = model._default_manager.filter(workspace_id=actor.workspace_id, pk=pk).first()
    if found is None:
        raise Http404(f"No such {model.__name__}")
    return found


def check_same_workspace(actor: Agent, row: Any, message: str) -> None:
    require_admin(actor, ADMINS_ONLY)
    if row.workspace_id != actor.workspace_id:
        raise NotFound(_(message))


# ---- ordering ----------------------------------------------------------------------------------------------------
def _move(rows: list[M], row: M, offset: int) -> None:
    """Move ``row`` by ``offset`` places among ``rows`` (locked, in display order) and renumber them 0..n."""
    index = next(i for i, candidate in enumerate(rows) if candidate.pk == row.pk)
    target = max(0, min(len(rows) - 1, index + offset))
    rows.insert(target, rows.pop(index))
    for position, candidate in enumerate(rows):
        if candidate.position != position:  # type: ignore[attr-defined]
            candidate.position = position  # type: ignore[attr-defined]
            candidate.save(update_fields=["position"])


# ---- statuses ----------------------------------------------------------------------------------------------------
def statuses_for_admin(actor: Agent) -> list[Status]:
    """The workspace's statuses in display order, each with ``ticket_count``."""
    require_admin(actor, ADMINS_ONLY)
    return list(
        Status.objects.filter(workspace_id=actor.workspace_id)
        .annotate(ticket_count=Count("tickets"))
        .order_by("position", "id")
    )


def status_choices(workspace_id: int) -> list[tuple[int, str]]:
    """(id, name) of the workspace's statuses in display order, for pickers any agent may use."""
    return list(Status.objects.filter(workspace_id=workspace_id).order_by("position", "id").values_list("id", "name"))


def get_status_for_admin(actor: Agent, status_id: int) -> Status:
    return get_for_admin(actor, Status, status_id)


def _clean_status_name(workspace_id: int, name: str, *, exclude: int | None = None) -> str:
    cleaned = one_line(name)
    if not cleaned:
        raise ValidationFailed(_(STATUS_NAME_REQUIRED), field="name")
    if len(cleaned) > STATUS_NAME_MAX:
        raise ValidationFailed(_(STATUS_NAME_TOO_LONG) % {"max": STATUS_NAME_MAX}, field="name")
    same_name = Status.objects.filter(workspace_id=workspace_id, name__iexact=cleaned)
    if exclude is not None:
        same_name = same_name.exclude(pk=exclude)
    if same_name.exists():
        raise ValidationFailed(_(STATUS_NAME_TAKEN) % {"name": cleaned}, field="name")
    return cleaned


def _clean_category(category: str) -> str:
    if category not in StatusCategory.values:
        raise ValidationFailed(_(UNKNOWN_CATEGORY), field="category")
    return category


def _category_label(category: str) -> str:
    return str(StatusCategory(category).label)


def create_status(*, actor: Agent, name: str, category: str) -> Status:
    """A new status at the end of the list; the first status of a category becomes its default."""
    require_admin(actor, ADMINS_ONLY)
    wid = actor.workspace_id
    cleaned_category = _clean_category(category)
    try:
        with transaction.atomic():
            cleaned_name = _clean_status_name(wid, name)
            last = Status.objects.filter(workspace_id=wid).aggregate(last=Max("position"))["last"]
            return Status.objects.create(
                workspace_id=wid,
                name=cleaned_name,
                category=cleaned_category,
                position=0 if last is None else last + 1,
                is_default=not Status.objects.filter(workspace_id=wid, category=cleaned_category).exists(),
            )
    except IntegrityError as exc:  # a concurrent create took the name between the check and the insert
        raise ValidationFailed(_(STATUS_NAME_TAKEN) % {"name": one_line(name)}, field="name") from exc


def _promote_next_default(workspace_id: int, category: str, *, leaving: Status) -> None:
    """The status ``leaving`` was its category's default: the next one in display order takes over."""
    if not leaving.is_default:
        return
    successor = (
        Status.objects.filter(workspace_id=workspace_id, category=category)
        .exclude(pk=leaving.pk)
        .order_by("position", "id")
        .first()
    )
    if successor is not None:
        successor.is_default = True
        successor.save(update_fields=["is_default"])


def _check_not_last_in_category(status: Status) -> None:
    others = Status.objects.filter(workspace_id=status.workspace_id, category=status.category).exclude(pk=status.pk)
    if not others.exists():
        raise ValidationFailed(
            _(STATUS_LAST_IN_CATEGORY) % {"name": status.name, "category": _category_label(status.category)},
            field="category",
        )


def update_status(*, actor: Agent, status: Status, name: str, category: str) -> Status:
    """Rename a status and, while no ticket uses it, map it to another category."""
    check_same_workspace(actor, status, STATUS_NOT_FOUND)
    cleaned_category = _clean_category(category)
    try:
        with transaction.atomic():
            locked = Status.objects.select_for_update().get(pk=status.pk)
            locked.name = _clean_status_name(locked.workspace_id, name, exclude=locked.pk)
            if cleaned_category != locked.category:
                if Ticket.objects.filter(status=locked).exists():
                    raise ValidationFailed(_(STATUS_CATEGORY_IN_USE) % {"name": locked.name}, field="category")
                _check_not_last_in_category(locked)
                _promote_next_default(locked.workspace_id, locked.category, leaving=locked)
                locked.is_default = not Status.objects.filter(
                    workspace_id=locked.workspace_id, category=cleaned_category
                ).exists()
                locked.category = cleaned_category
            locked.save(update_fields=["name", "category", "is_default"])
    except IntegrityError as exc:
        raise ValidationFailed(_(STATUS_NAME_TAKEN) % {"name": one_line(name)}, field="name") from exc
    return locked


def move_status(*, actor: Agent, status: Status, offset: int) -> None:
    """Move a status up (negative offset) or down the list agents pick from."""
    check_same_workspace(actor, status, STATUS_NOT_FOUND)
    with transaction.atomic():
        rows = list(
            Status.objects.select_for_update().filter(workspace_id=status.workspace_id).order_by("position", "id")
        )
        _move(rows, status, offset)


def set_default_status(*, actor: Agent, status: Status) -> Status:
    """Make this the status a ticket gets when it enters the category without a status being chosen."""
    check_same_workspace(actor, status, STATUS_NOT_FOUND)
    with transaction.atomic():
        Status.objects.filter(workspace_id=status.workspace_id, category=status.category).exclude(pk=status.pk).update(
            is_default=False
        )
        Status.objects.filter(pk=status.pk).update(is_default=True)
    status.is_default = True
    return status


def delete_status(*, actor: Agent, status: Status) -> None:
    """Delete a status no ticket and no macro uses; its category must keep at least one status."""
    check_same_workspace(actor, status, STATUS_NOT_FOUND)
    with transaction.atomic():
        locked = Status.objects.select_for_update().get(pk=status.pk)
        count = Ticket.objects.filter(status=locked).count()
        if count:
            raise ValidationFailed(STATUS_IN_USE % {"name": locked.name, "count": count})
        macro = Macro.objects.filter(workspace_id=locked.workspace_id, actions__status=locked.pk).first()
        if macro is not None:
            raise ValidationFailed(_(STATUS_IN_MACRO) % {"name": locked.name, "macro": macro.name})
        _check_not_last_in_category(locked)
        _promote_next_default(locked.workspace_id, locked.category, leaving=locked)
        locked.delete()
        rows = list(
            Status.objects.select_for_update().filter(workspace_id=locked.workspace_id).order_by("position", "id")
        )
        for position, row in enumerate(rows):
            if row.position != position:
                row.position = position
                row.save(update_fields=["position"])


# ---- custom fields -----------------------------------------------------------------------------------------------
def custom_fields_for_admin(actor: Agent) -> list[CustomField]:
    require_admin(actor, ADMINS_ONLY)
    return list(CustomField.objects.filter(workspace_id=actor.workspace_id).order_by("position", "id"))


def get_custom_field_for_admin(actor: Agent, field_id: int) -> CustomField:
    return get_for_admin(actor, CustomField, field_id)


def _clean_label(label: str) -> str:
    cleaned = one_line(label)
    if not cleaned:
        raise ValidationFailed(_(FIELD_LABEL_REQUIRED), field="label")
    if len(cleaned) > FIELD_LABEL_MAX:
        raise ValidationFailed(_(FIELD_LABEL_TOO_LONG) % {"max": FIELD_LABEL_MAX}, field="label")
    return cleaned


def clean_choices(field_type: str, choices: Iterable[str]) -> list[str]:
    """The choices of a single/multiple choice field, in order, trimmed; other types have none."""
    if field_type not in CHOICE_TYPES:
        return []
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in choices:
        choice = one_line(raw)
        if not choice:
            continue
        if len(choice) > CHOICE_MAX:
            raise ValidationFailed(_(CHOICE_TOO_LONG) % {"max": CHOICE_MAX}, field="choices")
        if choice.casefold() in seen:
            raise ValidationFailed(_(CHOICE_TWICE) % {"choice": choice}, field="choices")
        seen.add(choice.casefold())
        cleaned.append(choice)
    if not cleaned:
        raise ValidationFailed(_(CHOICES_REQUIRED), field="choices")
    if len(cleaned) > CHOICES_MAX:
        raise ValidationFailed(_(TOO_MANY_CHOICES) % {"max": CHOICES_MAX}, field="choices")
    return cleaned


def _key_for(workspace_id: int, key: str, label: str) -> str:
    taken = set(CustomField.objects.filter(workspace_id=workspace_id).values_list("key", flat=True))
    if key:
        cleaned = key.strip()
        if len(cleaned) > FIELD_KEY_MAX or not KEY_PATTERN.match(cleaned):
            raise ValidationFailed(_(BAD_FIELD_KEY) % {"max": FIELD_KEY_MAX}, field="key")
        if cleaned in taken:
            raise ValidationFailed(_(FIELD_KEY_TAKEN) % {"key": cleaned}, field="key")
        return cleaned
    base = slugify(label).replace("-", "_").strip("_")[: FIELD_KEY_MAX - 4] or "field"
    if not base[0].isalpha():
        base = f"field_{base}"[: FIELD_KEY_MAX - 4]
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def _values_of(workspace_id: int, key: str) -> list[Any]:
    """The non-empty values tickets hold for a field (values live in each ticket's JSON, keyed by ``key``)."""
    stored = Ticket.objects.filter(workspace_id=workspace_id, custom_fields__has_key=key).values_list(
        "custom_fields", flat=True
    )
    return [values[key] for values in stored if values.get(key) not in (None, "", [])]


def create_custom_field(
    *,
    actor: Agent,
    label: str,
    field_type: str,
    choices: Sequence[str] = (),
    required_on_solve: bool = False,
    key: str = "",
    visible_to_customers: bool = False,
) -> CustomField:
    """A new ticket field at the end. ``key`` (the API and filter name) is made from the label unless given;
    it and the type never change afterwards, because stored values depend on both."""
    require_admin(actor, ADMINS_ONLY)
    wid = actor.workspace_id
    cleaned_label = _clean_label(label)
    if field_type not in CustomFieldType.values:
        raise ValidationFailed(_(UNKNOWN_FIELD_TYPE), field="field_type")
    cleaned_choices = clean_choices(field_type, choices)
    try:
        with transaction.atomic():
            last = CustomField.objects.filter(workspace_id=wid).aggregate(last=Max("position"))["last"]
            return CustomField.objects.create(
                workspace_id=wid,
                key=_key_for(wid, key, cleaned_label),
                label=cleaned_label,
                field_type=field_type,
                choices=cleaned_choices,
                required_on_solve=required_on_solve,
                visible_to_customers=visible_to_customers,
                position=0 if last is None else last + 1,
            )
    except IntegrityError as exc:
        raise ValidationFailed(_(FIELD_KEY_TAKEN) % {"key": key or cleaned_label}, field="key") from exc


def update_custom_field(
    *,
    actor: Agent,
    field: CustomField,
    label: str,
    choices: Sequence[str] = (),
    required_on_solve: bool = False,
    visible_to_customers: bool = False,
) -> CustomField:
    """Relabel a field, edit its choices (a choice still set on tickets stays), the required-to-solve flag and
    whether customers are asked it (the portal's and the widget's request form)."""
    check_same_workspace(actor, field, FIELD_NOT_FOUND)
    cleaned_label = _clean_label(label)
    cleaned_choices = clean_choices(field.field_type, choices)
    with transaction.atomic():
        locked = CustomField.objects.select_for_update().get(pk=field.pk)
        removed = [choice for choice in locked.choices if choice not in cleaned_choices]
        if removed:
            in_use: dict[str, int] = {}
            for value in _values_of(locked.workspace_id, locked.key):
                for chosen in value if isinstance(value, list) else [value]:
                    if chosen in removed:
                        in_use[chosen] = in_use.get(chosen, 0) + 1
            for choice in removed:
                if choice in in_use:
                    raise ValidationFailed(CHOICE_IN_USE % {"choice": choice, "count": in_use[choice]}, field="choices")
        locked.label = cleaned_label
        locked.choices = cleaned_choices
        locked.required_on_solve = required_on_solve
        locked.visible_to_customers = visible_to_customers
        locked.save(update_fields=["label", "choices", "required_on_solve", "visible_to_customers"])
    return locked


def move_custom_field(*, actor: Agent, field: CustomField, offset: int) -> None:
    check_same_workspace(actor, field, FIELD_NOT_FOUND)
    with transaction.atomic():
        rows = list(
            CustomField.objects.select_for_update().filter(workspace_id=field.workspace_id).order_by("position", "id")
        )
        _move(rows, field, offset)


def delete_custom_field(*, actor: Agent, field: CustomField) -> None:
    """Delete a field no ticket has a value for."""
    check_same_workspace(actor, field, FIELD_NOT_FOUND)
    with transaction.atomic():
        count = len(_values_of(field.workspace_id, field.key))
        if count:
            raise ValidationFailed(FIELD_IN_USE % {"label": field.label, "count": count})
        field.delete()
