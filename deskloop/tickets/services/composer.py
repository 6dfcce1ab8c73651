"""What the ticket page's composer sends: a reply or a note, optionally setting the status and applying a macro,
all in one transaction so a failed macro action does not leave a sent reply behind."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import Conflict, ValidationFailed
from deskloop.tickets.attachments import IncomingFile
from deskloop.tickets.models import Macro, Message, Status, Ticket
from deskloop.tickets.services.macros import apply_macro
from deskloop.tickets.services.messages import add_agent_reply, add_internal_note
from deskloop.tickets.services.presence import stop_replying
from deskloop.tickets.services.tickets import TicketChanges, update_ticket


class ComposerKind(StrEnum):
    REPLY = "reply"
    NOTE = "note"


def send_from_composer(
    *,
    ticket: Ticket,
    agent: Agent,
    kind: ComposerKind,
    body_text: str,
    attachments: Sequence[IncomingFile] = (),
    status: Status | None = None,
    macro: Macro | None = None,
    via: str = "web",
) -> Message:
    """Send a public reply (writers) or an internal note (writers and light agents).

    ``status`` is "send and set status"; ``macro`` is the macro whose text the agent inserted, whose actions
    are applied after the message. The services called refuse roles that may not do each part.
    """
    if ticket.merged_into_id is not None:
        raise Conflict(_("This ticket was merged into another ticket; reply there."), code="merged")
    if ticket.deleted_at is not None:
        raise Conflict(_("This ticket is in the trash; restore it first."), code="trashed")
    if status is not None and status.workspace_id != ticket.workspace_id:
        raise ValidationFailed(_("The status was not found."), field="status")
    with transaction.atomic():
        if kind == ComposerKind.REPLY:
            message = add_agent_reply(
                ticket=ticket, agent=agent, body_text=body_text, attachments=attachments, status=status, via=via
            )
        else:
            message = add_internal_note(
                ticket=ticket, agent=agent, body_text=body_text, attachments=attachments, via=via
            )
            if status is not None and status.pk != ticket.status_id:
                updated = update_ticket(ticket=ticket, changes=TicketChanges(status=status), agent=agent, via=via)
                ticket.status, ticket.version = updated.status, updated.version
        if macro is not None:
            apply_macro(ticket=ticket, macro=macro, agent=agent, via=via)
        stop_replying(ticket=ticket, agent=agent)
    return message
