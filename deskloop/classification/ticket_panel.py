"""The ticket page's "Suggested: Billing > Invoices, 87%" panel, with Accept and Dismiss (or choose another in the
properties form). Registered on tickets' page panel registry from ``ClassificationConfig.ready``."""

from __future__ import annotations

from typing import Any

from deskloop.accounts.models import Agent
from deskloop.classification.models import SuggestionOutcome, TicketSuggestion
from deskloop.tickets.models import RequestType, Ticket


def suggestion_panel(*, ticket: Ticket, agent: Agent) -> dict[str, Any] | None:
    """A pending suggestion for a ticket the agent may change, else no panel. One query."""
    if not agent.can_write or ticket.deleted_at is not None or ticket.merged_into_id is not None:
        return None
    suggestion = (
        TicketSuggestion.objects.filter(
            workspace_id=ticket.workspace_id, ticket=ticket, outcome=SuggestionOutcome.PENDING
        )
        .select_related("product_area")
        .first()
    )
    if suggestion is None or suggestion.is_empty:
        return None
    area = suggestion.product_area if ticket.product_area_id is None else None
    kind = suggestion.request_type if not ticket.request_type else ""
    if area is None and not kind:
        return None
    return {
        "suggestion": suggestion,
        "area": area,
        "area_percent": round((suggestion.area_confidence or 0) * 100),
        "request_type_label": RequestType(kind).label if kind else "",
        "type_percent": round((suggestion.type_confidence or 0) * 100),
        "ticket": ticket,
    }
