"""Closing the loop: when an idea ships, the owners of deals lost for it and of organizations that churned over it
are in its audience (with the idea's own voters), also for ideas merged into it."""

from __future__ import annotations

import datetime as dt

from deskloop.conftest import Cast
from deskloop.customers.services import OrganizationValues, update_organization
from deskloop.ideas.models import Idea
from deskloop.ideas.shipping import shipped_audience
from deskloop.revenue.models import DealStatus
from deskloop.revenue.services.churn import ChurnValues, record_churn
from deskloop.revenue.services.deals import DealValues, record_deal
from deskloop.revenue.tests.conftest import Pipeline


def test_lost_deal_owners_and_churned_account_owners_hear_that_it_shipped(acme: Cast, pipeline: Pipeline) -> None:
    duplicate = Idea.objects.create(workspace=acme.workspace, title="Repeat jobs", merged_into=pipeline.idea)
    record_deal(
        workspace=acme.workspace,
        actor=acme.agent,
        values=DealValues(
            organization=pipeline.prospect,
            name="Initech",
            status=DealStatus.LOST,
            lost_reason=pipeline.competitor,
            idea=pipeline.idea,
            owner=acme.other_team_agent,
        ),
    )
    # An open deal's owner has nothing to go back with yet.
    record_deal(
        workspace=acme.workspace,
        actor=acme.agent,
        values=DealValues(organization=pipeline.prospect, name="Open one", idea=pipeline.idea, owner=acme.owner),
    )
    update_organization(
        actor=acme.admin,
        organization=acme.organization,
        values=OrganizationValues(name=acme.organization.name, domains=[], mrr=990, owner=acme.admin),
    )
    record_churn(
        workspace=acme.workspace,
        actor=acme.agent,
        values=ChurnValues(
            organization=acme.organization,
            churned_on=dt.date(2026, 9, 30),
            reason="missing_capabilities",
            idea=duplicate,
        ),
    )
    audience = shipped_audience(pipeline.idea)
    assert audience.agent_ids == {acme.other_team_agent.pk, acme.admin.pk}
