"""The demo's product management: every top-level product area has its product manager, and two saved segments
("MRR > 100 and a customer for at least 6 months", "industry = field service") cut the insights, ideas and
organizations lists."""

from __future__ import annotations

from decimal import Decimal

from deskloop.accounts.models import Agent, Workspace
from deskloop.customers.segments import SegmentRules, save_segment
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.configuration_groups import set_product_area_owner

# Top-level area -> the agent (by directory key) who owns it as product manager.
AREA_OWNERS = {"Account": "amir", "Billing": "grace", "Integrations": "sam", "Mobile app": "lucia", "Reports": "dmitry"}


def seed_product_management(*, workspace: Workspace, agents: dict[str, Agent]) -> None:
    admin = next(agent for agent in agents.values() if agent.role == "owner")
    tops = list(ProductArea.objects.filter(workspace=workspace, parent__isnull=True).order_by("path"))
    fallback = [agents[key] for key in AREA_OWNERS.values() if key in agents]
    for index, area in enumerate(tops):
        owner = agents.get(AREA_OWNERS.get(area.name, ""), fallback[index % len(fallback)])
        set_product_area_owner(actor=admin, area=area, owner=owner)
    save_segment(
        agent=admin,
        rules=SegmentRules(
            name="MRR > 100 and customer for at least 6 months", mrr_above=Decimal(100), min_customer_months=6
        ),
    )
    save_segment(agent=admin, rules=SegmentRules(name="Industry = field service", industry="Field service"))
