"""Reading SLA policies and clocks: which policy a ticket gets, the schedule it counts in, a ticket's targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.http import Http404

from deskloop.accounts.models import Agent
from deskloop.calendars.business_time import Schedule
from deskloop.calendars.queries import default_schedule
from deskloop.service_levels.models import SlaOrganizationOverride, SlaPolicy, SlaTarget
from deskloop.tickets.inbox import descendant_area_ids
from deskloop.tickets.models import Ticket, TicketTag

CONDITION_KEYS = ("organization_ids", "plans", "priorities", "channels", "tag_names", "product_area_ids")


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The organization's override when it has one (and it is active), else the first active policy by position
    whose conditions all match; None when no policy covers the ticket."""
    if ticket.organization_id is not None:
        override = (
            SlaOrganizationOverride.objects.filter(
                workspace_id=ticket.workspace_id, organization_id=ticket.organization_id, policy__is_active=True
            )
            .select_related("policy__calendar")
            .first()
        )
        if override is not None:
            return override.policy
    policies = list(
        SlaPolicy.objects.filter(workspace_id=ticket.workspace_id, is_active=True).select_related("calendar")
    )
    if not policies:
        return None
    facts = _ticket_facts(ticket)
    for policy in policies:
        if _matches(policy.conditions, facts, ticket.workspace_id):
            return policy
    return None


def _ticket_facts(ticket: Ticket) -> dict[str, Any]:
    plan = ticket.organization.plan if ticket.organization_id is not None and ticket.organization else ""
    tag_names = TicketTag.objects.filter(ticket_id=ticket.pk).values_list("tag__name", flat=True)
    return {
        "organization_ids": ticket.organization_id,
        "plans": plan.casefold(),
        "priorities": ticket.priority,
        "channels": ticket.channel,
        "tag_names": {name.casefold() for name in tag_names},
        "product_area_ids": ticket.product_area_id,
    }


def _matches(conditions: Mapping[str, Any], facts: Mapping[str, Any], workspace_id: int) -> bool:
    """Every non-empty list of the conditions must match the ticket; an empty or missing one matches anything."""
    for key in CONDITION_KEYS:
        wanted: Sequence[Any] = conditions.get(key) or []
        if not wanted:
            continue
        fact = facts[key]
        if key == "tag_names":
            if not fact & {str(name).casefold() for name in wanted}:
                return False
        elif key == "plans":
            if fact not in {str(plan).casefold() for plan in wanted}:
                return False
        elif key == "product_area_ids":
            # An area includes its sub-areas, as every product-area filter does.
            if fact is None or fact not in descendant_area_ids(workspace_id, [int(i) for i in wanted]):
                return False
        elif fact not in wanted:
            return False
    return True


def schedule_for(policy: SlaPolicy | None, workspace_id: int) -> Schedule:
    """The policy's calendar, else the workspace's default calendar, else around the clock."""
    if policy is not None and policy.calendar is not None:
        return policy.calendar.schedule()
    return default_schedule(workspace_id)


def targets_of(ticket: Ticket) -> list[SlaTarget]:
    return list(SlaTarget.objects.filter(ticket=ticket).select_related("policy").order_by("started_at", "id"))


def policies(workspace_id: int) -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(workspace_id=workspace_id).select_related("calendar"))


def get_policy_for_agent(agent: Agent, policy_id: int) -> SlaPolicy:
    """The policy in the agent's workspace, or 404 (another workspace's id reads as not found)."""
    policy = SlaPolicy.objects.filter(workspace_id=agent.workspace_id, pk=policy_id).select_related("calendar").first()
    if policy is None:
        raise Http404("No such SLA policy")
    return policy


def override_organization_ids(policy: SlaPolicy) -> list[int]:
    return sorted(policy.organization_overrides.values_list("organization_id", flat=True))


def policies_with_overrides(workspace_id: int) -> list[SlaPolicy]:
    """The policies in the order they are tried, with their calendar and the organizations they always apply to."""
    return list(
        SlaPolicy.objects.filter(workspace_id=workspace_id)
        .select_related("calendar")
        .prefetch_related("organization_overrides__organization")
    )
