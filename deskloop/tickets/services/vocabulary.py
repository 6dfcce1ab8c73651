"""Per-language names of the workspace's vocabulary (statuses, teams, product areas, custom field labels): the one
write of ``NamedInLanguages.name_translations``, whatever the row is."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent, Team
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.core.models import NamedInLanguages
from deskloop.tickets.models import CustomField, ProductArea, Status
from deskloop.tickets.services.configuration import get_for_admin, one_line

NAMES_ADMINS_ONLY = gettext_noop("Only admins can name the workspace's statuses, teams, areas and fields.")
NAME_TOO_LONG = gettext_noop("A name has at most %(max)d characters.")
UNKNOWN_LANGUAGE = gettext_noop("Names can be given in the offered languages only.")

# What an admin can name per language, by the key the settings routes use.
VOCABULARY: dict[str, type[NamedInLanguages]] = {
    "status": Status,
    "team": Team,
    "area": ProductArea,
    "field": CustomField,
}


def get_named_for_admin(actor: Agent, kind: str, pk: int) -> NamedInLanguages:
    model = VOCABULARY.get(kind)
    if model is None:
        raise NotFound(_("Nothing to name here."))
    return get_for_admin(actor, model, pk)


def set_name_translations(*, actor: Agent, row: NamedInLanguages, names: Mapping[str, str]) -> NamedInLanguages:
    """Replace ``row``'s per-language names with ``names`` (language code -> name; an empty name drops that
    language, which then reads the default name)."""
    require_admin(actor, NAMES_ADMINS_ONLY)
    if getattr(row, "workspace_id", None) != actor.workspace_id:
        raise NotFound(_("Nothing to name here."))
    languages = {code for code, _label in settings.LANGUAGES}
    field = type(row)._meta.get_field(row.NAME_ATTRIBUTE)
    max_length = int(getattr(field, "max_length", None) or 100)
    cleaned: dict[str, str] = {}
    for code, name in names.items():
        if code not in languages:
            raise ValidationFailed(_(UNKNOWN_LANGUAGE), field=f"name_{code}")
        value = one_line(name or "")
        if len(value) > max_length:
            raise ValidationFailed(_(NAME_TOO_LONG) % {"max": max_length}, field=f"name_{code}")
        if value:
            cleaned[code] = value
    row.name_translations = cleaned
    row.save(update_fields=["name_translations"])
    return row
