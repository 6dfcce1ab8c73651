"""Tickets an agent opens by hand: a phone call they took, a conversation that came another way, or an email
conversation they start with a customer.

Both kinds go through ``open_ticket`` (and, for an outbound email, ``add_agent_reply``): the first message of a call
is what the customer said, logged by the agent; the first message of an outbound email is the agent's own reply,
which the email channel sends to the customer from the outbox like every other reply.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact, ContactEmail
from deskloop.customers.services import create_contact
from deskloop.tickets.models import Channel, Ticket
from deskloop.tickets.services.messages import add_agent_reply
from deskloop.tickets.services.tickets import CREATE_WRITERS_ONLY, NewTicket, open_ticket


class Opening(enum.StrEnum):
    """How the conversation reached the agent (the ticket's channel follows from it)."""

    PHONE = "phone"
    EMAIL = "email"  # the agent writes first; the message is emailed to the customer
    OTHER = "other"


CHANNEL_OF = {Opening.PHONE: Channel.PHONE, Opening.EMAIL: Channel.EMAIL, Opening.OTHER: Channel.OTHER}


@dataclass(frozen=True)
class NewRequester:
    """A customer not yet known: a name and an email address or a phone number."""

    name: str
    email: str = ""
    phone: str = ""


def open_ticket_as_agent(
    *, agent: Agent, requester: Contact | NewRequester, subject: str, body_text: str, opening: str
) -> Ticket:
    """Open the ticket (creating the requester when new) in one transaction: a refused ticket leaves no contact."""
    require_role(agent, Capability.WRITE, CREATE_WRITERS_ONLY)
    if opening not in Opening.__members__.values():
        raise ValidationFailed(_("Choose how the conversation started."), field="opening")
    body_text = body_text.strip()
    if not body_text:
        raise ValidationFailed(_("Write the first message."), field="body")
    with transaction.atomic():
        contact = _requester(agent, requester)
        if opening == Opening.EMAIL:
            if not ContactEmail.objects.filter(contact=contact).exists():
                raise ValidationFailed(
                    _("This customer has no email address to write to; add one or record a call."), field="requester"
                )
            new = NewTicket(requester=contact, subject=subject, channel=Channel.EMAIL)
            ticket = open_ticket(workspace=agent.workspace, ticket=new, created_by=agent)[0]
            add_agent_reply(ticket=ticket, agent=agent, body_text=body_text)
        else:
            new = NewTicket(
                requester=contact, subject=subject, body_text=body_text, channel=CHANNEL_OF[Opening(opening)]
            )
            ticket = open_ticket(workspace=agent.workspace, ticket=new, created_by=agent)[0]
    return ticket


def _requester(agent: Agent, requester: Contact | NewRequester) -> Contact:
    if isinstance(requester, Contact):
        if requester.workspace_id != agent.workspace_id:
            raise ValidationFailed(_("The requester was not found."), field="requester")
        return requester
    name = " ".join(requester.name.split())
    if not name:
        raise ValidationFailed(_("Give the new customer's name."), field="name")
    if not requester.email.strip() and not requester.phone.strip():
        raise ValidationFailed(_("Give the new customer's email address or phone number."), field="email")
    return create_contact(workspace=agent.workspace, email=requester.email, name=name, phone=requester.phone)
