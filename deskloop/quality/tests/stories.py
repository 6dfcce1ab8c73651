"""Conversations the quality tests review: a customer writes, an agent replies, the ticket is solved, each at a
given moment (time-machine), so the weekly sample's boundaries are exact."""

from __future__ import annotations

import datetime as dt

import time_machine

from deskloop.accounts.models import Agent
from deskloop.conftest import Cast
from deskloop.customers.services import find_or_create_contact
from deskloop.quality.models import Scorecard, ScorecardCriterion
from deskloop.quality.services import CriterionValues, ScorecardSettings, add_criterion, save_scorecard_settings
from deskloop.tickets.models import StatusCategory, Ticket
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.messages import add_agent_reply
from deskloop.tickets.services.tickets import NewTicket, TicketChanges, open_ticket, update_ticket

UTC = dt.UTC


def solved_conversation(
    cast: Cast, agent: Agent, *, replied_at: dt.datetime, solved_at: dt.datetime, subject: str = "Cannot export"
) -> Ticket:
    with time_machine.travel(replied_at - dt.timedelta(hours=1), tick=False):
        customer = find_or_create_contact(workspace=cast.workspace, email="carla@globex.example", name="Carla")
        ticket = open_ticket(
            workspace=cast.workspace, ticket=NewTicket(requester=customer, subject=subject, body_text="Help, please")
        )[0]
    with time_machine.travel(replied_at, tick=False):
        add_agent_reply(ticket=ticket, agent=agent, body_text="Here is how to do it.")
    with time_machine.travel(solved_at, tick=False):
        solved = default_status(cast.workspace.pk, StatusCategory.SOLVED)
        update_ticket(ticket=ticket, changes=TicketChanges(status=solved), agent=agent)
    ticket.refresh_from_db()
    return ticket


def scorecard_with_criteria(cast: Cast, *, sample_size: int = 2) -> tuple[Scorecard, list[ScorecardCriterion]]:
    """Empathy (weight 1), Correctness (weight 3), Tone (weight 1)."""
    scorecard = save_scorecard_settings(
        actor=cast.admin, settings=ScorecardSettings(name="Support quality", is_active=True, sample_size=sample_size)
    )
    criteria = [
        add_criterion(actor=cast.admin, values=CriterionValues(name="Empathy", weight=1)),
        add_criterion(actor=cast.admin, values=CriterionValues(name="Correctness", weight=3)),
        add_criterion(actor=cast.admin, values=CriterionValues(name="Tone", weight=1)),
    ]
    return scorecard, criteria
