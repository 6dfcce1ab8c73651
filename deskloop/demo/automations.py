"""The demo's automation rules: what a support lead sets up in the first week, saved through the real service by
the demo's admin, and the event rules run once on the open tickets they match (real runs, so the run log and the
tickets' history show what rules do)."""

from __future__ import annotations

from deskloop.accounts.models import Agent, Workspace
from deskloop.automations import queries
from deskloop.automations.engine import run_rule
from deskloop.automations.models import AutomationRule
from deskloop.automations.services import RuleDraft, create_rule
from deskloop.tickets.models import StatusCategory
from deskloop.tickets.queries import default_status

# The rules' first round on the open tickets they match counts as one cycle, as if the admin switched them on at once.
DEMO_CYCLE = "demo"


def seed_automations(*, workspace: Workspace, admin: Agent) -> list[AutomationRule]:
    solved = default_status(workspace.pk, StatusCategory.SOLVED)
    drafts = [
        RuleDraft(
            name="Payment problems go to Billing, high priority",
            events=["ticket.created"],
            match="any",
            conditions=[
                {"field": "subject", "operator": "contains", "value": "charged"},
                {"field": "subject", "operator": "contains", "value": "payment"},
                {"field": "subject", "operator": "contains", "value": "cobrado"},
                {"field": "subject", "operator": "contains", "value": "Оплата"},
            ],
            actions=[
                {"type": "set_team", "value": "Billing"},
                {"type": "set_priority", "value": "high"},
                {"type": "add_tag", "value": "payment"},
            ],
        ),
        RuleDraft(
            name="Crashes are bugs",
            events=["ticket.created"],
            conditions=[{"field": "subject", "operator": "contains", "value": "crash"}],
            actions=[{"type": "set_request_type", "value": "bug"}, {"type": "add_tag", "value": "crash"}],
        ),
        RuleDraft(
            name="Pending for 5 days: solved, with a note",
            kind="time",
            time_condition={"status_category": "pending", "hours_since": "updated_at", "hours": 120},
            actions=[
                {"type": "set_status", "value": solved.pk},
                {
                    "type": "add_note",
                    "text": "Solved automatically after 5 days without an answer. A reply from the customer reopens it.",
                },
            ],
        ),
        RuleDraft(
            name="SLA breached: urgent, and tell the lead",
            events=["ticket.sla_breached"],
            actions=[{"type": "set_priority", "value": "urgent"}, {"type": "notify_agent", "value": admin.pk}],
        ),
    ]
    rules = [create_rule(actor=admin, draft=draft) for draft in drafts]
    for rule in rules:
        if rule.kind == "event" and "ticket.created" in rule.events:
            for ticket in queries.preview(rule).tickets:
                run_rule(rule=rule, ticket_id=ticket.pk, event_name="ticket.created", cycle=DEMO_CYCLE)
    return rules
