"""The workspace's board settings: public or private, and what a vote of each importance is worth."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.ideas.models import IdeaBoard
from deskloop.ideas.services.values import board_of, refresh_workspace_values

BOARD_ADMINS_ONLY = gettext_noop("Only admins can change the ideas board.")
WEIGHT_MAX = Decimal("1000")


def _clean_weight(value: Decimal, field: str) -> Decimal:
    if not value.is_finite() or value < 0 or value > WEIGHT_MAX:
        raise ValidationFailed(_("A weight is a number from 0 to 1000."), field=field)
    return value.quantize(Decimal("0.01"))


def save_board_settings(
    *,
    actor: Agent,
    is_public: bool,
    weight_nice_to_have: Decimal,
    weight_important: Decimal,
    weight_critical: Decimal,
) -> IdeaBoard:
    """Store the board's settings (admins). New weights re-value every idea of the workspace at once, so the
    board never ranks by the old ones."""
    require_admin(actor, BOARD_ADMINS_ONLY)
    weights = {
        "weight_nice_to_have": _clean_weight(weight_nice_to_have, "weight_nice_to_have"),
        "weight_important": _clean_weight(weight_important, "weight_important"),
        "weight_critical": _clean_weight(weight_critical, "weight_critical"),
    }
    with transaction.atomic():
        board = board_of(actor.workspace_id)
        board = IdeaBoard.objects.select_for_update().get(pk=board.pk)
        reweighed = any(getattr(board, name) != value for name, value in weights.items())
        board.is_public = bool(is_public)
        for name, value in weights.items():
            setattr(board, name, value)
        board.save(update_fields=["is_public", *weights])
    if reweighed:
        # Batched, a transaction per batch (services.values): outside the settings' own transaction.
        refresh_workspace_values(actor.workspace_id)
    return board
