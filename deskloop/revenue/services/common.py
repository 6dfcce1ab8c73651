"""Checks shared by the deal and churn writes: the objects a record points at are of its workspace."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed

EXTERNAL_ID_MAX = 200


def same_workspace(workspace_id: int, **related: object) -> None:
    for field, obj in related.items():
        if obj is not None and getattr(obj, "workspace_id", None) != workspace_id:
            raise ValidationFailed(_("It is not in this workspace."), field=field)


def money(value: Decimal | int | str, *, field: str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(_("“%(value)s” is not an amount.") % {"value": value}, field=field) from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(_("An amount must be zero or more."), field=field)
    if amount >= Decimal("1e12"):
        raise ValidationFailed(_("The amount is too large."), field=field)
    return amount.quantize(Decimal("0.01"))


def external_id_of(value: str | None) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > EXTERNAL_ID_MAX:
        raise ValidationFailed(
            _("An external id is at most %(max)d characters.") % {"max": EXTERNAL_ID_MAX}, field="external_id"
        )
    return cleaned or None
