"""The demo workspace's SLA policies and the clocks its months of history would have run.

Two policies: "Enterprise" for the Enterprise plan (1 h first response, 2 h next response, 8 h resolution) and
"Standard" for everyone else (4 h, 8 h, 3 days), both counted in the support team's hours (Monday to Friday
08:00-18:00, Europe/Berlin). The seed writes history with dispatch off, so each ticket's clocks are replayed from
its messages and status changes: some were met, some missed, as the conversations' pace gives.
"""

from __future__ import annotations

from deskloop.accounts.models import Agent, Workspace
from deskloop.calendars.models import BusinessCalendar
from deskloop.service_levels.replay import replay_clocks
from deskloop.service_levels.services import PolicyValues, create_policy
from deskloop.tickets.models import Ticket

OFFICE_HOURS = [{"weekday": day, "start": "08:00", "end": "18:00"} for day in range(5)]


def seed_service_levels(*, workspace: Workspace, admin: Agent) -> None:
    calendar = BusinessCalendar.objects.filter(workspace=workspace, is_default=True).first()
    if calendar is None:
        calendar = BusinessCalendar.objects.create(
            workspace=workspace, name="Support hours", time_zone="Europe/Berlin", weekly_hours=OFFICE_HOURS
        )
    create_policy(
        actor=admin,
        values=PolicyValues(
            name="Enterprise",
            position=1,
            conditions={"plans": ["Enterprise"]},
            calendar_id=calendar.pk,
            first_response_minutes=60,
            next_response_minutes=120,
            resolution_minutes=8 * 60,
            warn_before_minutes=15,
        ),
    )
    create_policy(
        actor=admin,
        values=PolicyValues(
            name="Standard",
            position=2,
            calendar_id=calendar.pk,
            first_response_minutes=4 * 60,
            next_response_minutes=8 * 60,
            resolution_minutes=3 * 10 * 60,
        ),
    )
    for ticket in Ticket.objects.filter(workspace=workspace).select_related("status", "organization").order_by("pk"):
        replay_clocks(ticket=ticket)
