"""Deals over the API: a deal lost for missing functionality in a target industry becomes the product manager's
task and the prospect's critical vote, once; other lost deals do not; bad input changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.core.models import OutboxEvent
from deskloop.ideas.models import IdeaVote, Importance, ProductTask, VoteSource
from deskloop.revenue.models import Deal, DealStatus
from deskloop.revenue.tests.conftest import Pipeline


def _lost_deal(pipeline: Pipeline, **extra: Any) -> dict[str, Any]:
    return {
        "organization_id": pipeline.prospect.pk,
        "name": "Initech rollout",
        "amount": "24000.00",
        "currency": "EUR",
        "status": "lost",
        "lost_reason_id": pipeline.missing_functionality.pk,
        "idea_id": pipeline.idea.pk,
        "external_id": "crm-1",
        **extra,
    }


def test_a_lost_deal_for_missing_functionality_in_a_target_industry_opens_the_pms_task_and_votes(
    acme: Cast, pipeline: Pipeline
) -> None:
    client = api_client(acme.agent)
    response = api_send(client, "post", "/api/v1/deals", _lost_deal(pipeline))
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    assert (body["status"], body["industry"], body["product_area"]["path"]) == ("lost", "Field service", "Scheduling")
    deal = Deal.objects.get(pk=body["id"])
    task = ProductTask.objects.get(workspace=acme.workspace)
    assert (task.source_kind, task.source_id, task.assignee, task.product_area, task.idea) == (
        "deal",
        deal.pk,
        pipeline.pm,
        pipeline.area,
        pipeline.idea,
    )
    assert task.title == "Lost deal for missing functionality: Initech rollout (Initech Field Services)"
    vote = IdeaVote.objects.get(idea=pipeline.idea)
    assert (vote.contact, vote.organization, vote.importance, vote.source) == (
        None,
        pipeline.prospect,
        Importance.CRITICAL,
        VoteSource.DEAL,
    )
    lost = OutboxEvent.objects.get(workspace=acme.workspace, name="deal.lost")
    assert (lost.payload["id"], lost.payload["product_task_id"], lost.payload["missing_functionality"]) == (
        deal.pk,
        task.pk,
        True,
    )
    # Changing the lost deal again neither opens a second task nor votes twice nor announces it again.
    again = api_send(client, "patch", f"/api/v1/deals/{deal.pk}", {"competitor": "Umbrella Corp", "amount": "25000"})
    assert again.status_code == 200, again.content
    assert ProductTask.objects.filter(workspace=acme.workspace).count() == 1
    assert IdeaVote.objects.filter(idea=pipeline.idea).count() == 1
    assert OutboxEvent.objects.filter(workspace=acme.workspace, name="deal.lost").count() == 1
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("25000.00")


def test_a_deal_lost_to_a_competitor_or_outside_the_target_industries_opens_no_task(
    acme: Cast, pipeline: Pipeline
) -> None:
    client = api_client(acme.agent)
    to_competitor = _lost_deal(pipeline, lost_reason_id=pipeline.competitor.pk, external_id="crm-2")
    assert api_send(client, "post", "/api/v1/deals", to_competitor).status_code == 201
    elsewhere = _lost_deal(pipeline, industry="Retail", external_id="crm-3")
    assert api_send(client, "post", "/api/v1/deals", elsewhere).status_code == 201
    assert ProductTask.objects.filter(workspace=acme.workspace).count() == 0
    assert IdeaVote.objects.filter(idea=pipeline.idea).count() == 0
    assert OutboxEvent.objects.filter(workspace=acme.workspace, name="deal.lost").count() == 2


def test_an_open_deal_that_is_later_lost_opens_the_task_then(acme: Cast, pipeline: Pipeline) -> None:
    client = api_client(acme.agent)
    created = api_send(client, "post", "/api/v1/deals", _lost_deal(pipeline, status="open", lost_reason_id=None))
    deal_id = json.loads(created.content)["id"]
    assert ProductTask.objects.filter(workspace=acme.workspace).count() == 0
    lost = {"status": "lost", "lost_reason_id": pipeline.missing_functionality.pk}
    assert api_send(client, "patch", f"/api/v1/deals/{deal_id}", lost).status_code == 200
    assert ProductTask.objects.get(workspace=acme.workspace).source_id == deal_id
    assert Deal.objects.get(pk=deal_id).closed_on is not None


def test_bad_deals_are_refused_with_the_field_and_nothing_is_written(
    acme: Cast, umbrella: Cast, pipeline: Pipeline
) -> None:
    client = api_client(acme.agent)
    cases = [
        (_lost_deal(pipeline, organization_id=umbrella.organization.pk), 422, "organization_id"),
        (_lost_deal(pipeline, currency="euro"), 422, "currency"),
        (_lost_deal(pipeline, status="open"), 422, "lost_reason"),
        (_lost_deal(pipeline, name="  "), 422, "name"),
        (_lost_deal(pipeline, amount="-5"), 422, "amount"),
    ]
    for body, status, field in cases:
        response = api_send(client, "post", "/api/v1/deals", body)
        assert response.status_code == status, (body, response.content)
        assert field in json.dumps(problem_body(response)["errors"]), response.content
    assert api_send(client, "post", "/api/v1/deals", _lost_deal(pipeline)).status_code == 201
    duplicate = api_send(client, "post", "/api/v1/deals", _lost_deal(pipeline, name="Another"))
    assert duplicate.status_code == 409
    assert Deal.objects.filter(workspace=acme.workspace).count() == 1
    viewer = api_send(api_client(acme.viewer), "post", "/api/v1/deals", _lost_deal(pipeline, external_id="x"))
    assert viewer.status_code == 403
    assert Deal.objects.filter(workspace=acme.workspace).count() == 1


def test_deal_list_is_cut_by_status_product_area_and_segment(acme: Cast, pipeline: Pipeline) -> None:
    from deskloop.customers.segments import SegmentRules, save_segment
    from deskloop.tickets.models import ProductArea

    client = api_client(acme.agent)
    child = ProductArea.objects.create(
        workspace=acme.workspace, name="Recurring", path="Scheduling > Recurring", parent=pipeline.area
    )
    api_send(client, "post", "/api/v1/deals", _lost_deal(pipeline, idea_id=None, product_area_id=child.pk))
    won = {"organization_id": acme.organization.pk, "name": "Globex upsell", "status": "won", "external_id": "crm-9"}
    assert api_send(client, "post", "/api/v1/deals", won).status_code == 201
    field_service = save_segment(agent=acme.agent, rules=SegmentRules(name="Field", industry="field service"))

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/deals?{query}")
        assert response.status_code == 200, response.content
        return sorted(item["name"] for item in json.loads(response.content)["items"])

    assert names("") == ["Globex upsell", "Initech rollout"]
    assert names("status=won") == ["Globex upsell"]
    assert names(f"product_area={pipeline.area.pk}") == ["Initech rollout"]
    assert names(f"segment={field_service.pk}") == ["Initech rollout"]
    assert Deal.objects.get(name="Globex upsell").status == DealStatus.WON
