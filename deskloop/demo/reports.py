"""The demo's reports: the business minutes its history left unset, so every report has figures on first run.

The demo's tickets are answered and solved through the real services, which record when; the business minutes
the reports take medians over are service_levels' to write as it happens. Whatever the seed's history left empty
(a ticket played before any calendar or policy existed) is filled here with the same arithmetic, in the workspace's
default calendar; a value already written is never touched.
"""

from __future__ import annotations

from deskloop.accounts.models import Workspace
from deskloop.calendars.business_time import business_minutes_between
from deskloop.calendars.queries import default_schedule
from deskloop.tickets.models import DONE_CATEGORIES, Ticket


def seed_report_figures(*, workspace: Workspace) -> int:
    """Fill the unset business minutes of the workspace's answered and solved tickets; returns how many changed."""
    schedule = default_schedule(workspace.pk)
    changed = []
    tickets = Ticket.objects.filter(workspace=workspace).select_related("status").order_by("pk")
    for ticket in tickets:
        touched = False
        if ticket.first_response_at is not None and ticket.first_response_business_minutes is None:
            ticket.first_response_business_minutes = business_minutes_between(
                schedule, ticket.created_at, ticket.first_response_at
            )
            touched = True
        solved = ticket.status.category in DONE_CATEGORIES and ticket.solved_at is not None
        if solved and ticket.resolution_business_minutes is None:
            assert ticket.solved_at is not None
            ticket.resolution_business_minutes = business_minutes_between(schedule, ticket.created_at, ticket.solved_at)
            touched = True
        if touched:
            changed.append(ticket)
    Ticket.objects.bulk_update(changed, ["first_response_business_minutes", "resolution_business_minutes"])
    return len(changed)
