"""Custom field values as a ticket stores them: each value checked against its field's kind (the JSON shape
first, so an object is never stored as its Python repr) and normalized; and the fields a solve needs filled in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.core.errors import ValidationFailed
from deskloop.tickets.models import CustomField, CustomFieldType, Ticket

CUSTOM_FIELD_WRONG_TYPE = gettext_noop("%(label)s takes a value of type “%(kind)s”.")
CUSTOM_NUMBER_TOO_LARGE = gettext_noop("%(label)s must be between -%(max)s and %(max)s.")
# The largest integer every JSON reader (JavaScript's doubles among them) reads exactly.
CUSTOM_NUMBER_MAX = 2**53 - 1


def _of_json_type(field_type: str, value: Any) -> bool:
    """Whether ``value`` (as JSON gave it) has the shape a field of ``field_type`` stores: text, a date and a
    choice are strings; a number is a number or a string of one (forms send strings); several choices a list of
    strings (or one string)."""
    if field_type == CustomFieldType.NUMBER:
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    if field_type == CustomFieldType.MULTI_CHOICE:
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    return isinstance(value, str)


def validate_custom_fields(
    workspace_id: int, values: dict[str, Any], *, definitions: Sequence[CustomField] | None = None
) -> dict[str, Any]:
    """Check values against the workspace's field definitions; return the normalized values.

    Unknown keys are refused (a typo must not be stored silently). ``None`` or "" clears a field.
    """
    if not values:
        return {}
    defs = {d.key: d for d in (definitions or CustomField.objects.filter(workspace_id=workspace_id))}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        definition = defs.get(key)
        if definition is None:
            raise ValidationFailed(_("Unknown custom field “%(key)s”.") % {"key": key}, field=f"custom_fields.{key}")
        if value is None or value == "" or value == []:
            cleaned[key] = None
            continue
        label = definition.label
        if not _of_json_type(definition.field_type, value):
            # Checked before any conversion: str() of an object or a list would store its Python repr.
            raise ValidationFailed(
                _(CUSTOM_FIELD_WRONG_TYPE) % {"label": label, "kind": CustomFieldType(definition.field_type).label},
                field=f"custom_fields.{key}",
            )
        if definition.field_type == CustomFieldType.TEXT:
            cleaned[key] = str(value)[:2000]
        elif definition.field_type == CustomFieldType.NUMBER:
            try:
                number = Decimal(str(value))
            except InvalidOperation as exc:
                raise ValidationFailed(
                    _("%(label)s must be a number.") % {"label": label}, field=f"custom_fields.{key}"
                ) from exc
            if not number.is_finite():
                raise ValidationFailed(
                    _("%(label)s must be a number.") % {"label": label}, field=f"custom_fields.{key}"
                )
            if abs(number) > CUSTOM_NUMBER_MAX:
                # "1e5000" is a finite Decimal, but as an int it has 5000 digits: too many to write as JSON.
                raise ValidationFailed(
                    _(CUSTOM_NUMBER_TOO_LARGE) % {"label": label, "max": f"{CUSTOM_NUMBER_MAX:,}"},
                    field=f"custom_fields.{key}",
                )
            cleaned[key] = int(number) if number == number.to_integral_value() else float(number)
        elif definition.field_type == CustomFieldType.DATE:
            try:
                cleaned[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError as exc:
                raise ValidationFailed(
                    _("%(label)s must be a date (YYYY-MM-DD).") % {"label": label}, field=f"custom_fields.{key}"
                ) from exc
        elif definition.field_type == CustomFieldType.CHOICE:
            if value not in definition.choices:
                raise ValidationFailed(
                    _("“%(value)s” is not a choice of %(label)s.") % {"value": value, "label": label},
                    field=f"custom_fields.{key}",
                )
            cleaned[key] = value
        elif definition.field_type == CustomFieldType.MULTI_CHOICE:
            chosen = value if isinstance(value, list) else [value]
            bad = [v for v in chosen if v not in definition.choices]
            if bad:
                raise ValidationFailed(
                    _("“%(value)s” is not a choice of %(label)s.") % {"value": bad[0], "label": label},
                    field=f"custom_fields.{key}",
                )
            cleaned[key] = [c for c in definition.choices if c in chosen]
    return cleaned


def check_required_on_solve(ticket: Ticket, custom_fields: dict[str, Any]) -> None:
    missing = [
        d.label
        for d in CustomField.objects.filter(workspace_id=ticket.workspace_id, required_on_solve=True)
        if custom_fields.get(d.key) in (None, "", [])
    ]
    if missing:
        raise ValidationFailed(
            _("Fill in %(fields)s before solving this ticket.") % {"fields": ", ".join(missing)},
            field="custom_fields",
            code="required_on_solve",
        )
