"""The revenue story's extra cast: a product manager who owns "Scheduling", a prospect in field service, an idea."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deskloop.accounts.models import Agent
from deskloop.conftest import Cast
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.customers.services import create_organization
from deskloop.ideas.models import Idea
from deskloop.revenue.models import LostReason
from deskloop.revenue.services.setup import lost_reasons_of, save_target_industries
from deskloop.tickets.models import ProductArea


@dataclass
class Pipeline:
    pm: Agent
    area: ProductArea
    prospect: Organization
    idea: Idea
    missing_functionality: LostReason
    competitor: LostReason


@pytest.fixture
def pipeline(acme: Cast) -> Pipeline:
    area = ProductArea.objects.create(workspace=acme.workspace, name="Scheduling", path="Scheduling")
    # Maria (an agent) is the area's product manager.
    area.owner = acme.agent
    area.save(update_fields=["owner"])
    prospect = create_organization(
        workspace=acme.workspace,
        name="Initech Field Services",
        industry="Field service",
        lifecycle_stage=LifecycleStage.LEAD,
        mrr=0,
    )
    idea = Idea.objects.create(workspace=acme.workspace, title="Recurring visits", product_area=area)
    save_target_industries(actor=acme.admin, industries=["Field Service"])
    reasons = {r.name: r for r in lost_reasons_of(acme.workspace.pk)}
    return Pipeline(
        pm=acme.agent,
        area=area,
        prospect=prospect,
        idea=idea,
        missing_functionality=reasons["Missing functionality"],
        competitor=reasons["Chose a competitor"],
    )
