"""Churn over the API: recording it makes the organization churned and publishes churn.recorded; the organization
coming back (its stage set to customer again, or a won deal) counts as won back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import LifecycleStage, Organization
from deskloop.revenue.models import ChurnRecord


def _churn(acme: Cast, **extra: Any) -> dict[str, Any]:
    return {
        "organization_id": acme.organization.pk,
        "churned_on": "2026-10-31",
        "reason": "missing_capabilities",
        "mrr_lost": "990.00",
        "notes": "No recurring visits.",
        "external_id": "bill-7",
        **extra,
    }


def test_recording_churn_marks_the_organization_churned_and_announces_it(acme: Cast) -> None:
    response = api_send(api_client(acme.agent), "post", "/api/v1/churn-records", _churn(acme))
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    assert (body["reason"], body["mrr_lost"], body["won_back_on"]) == ("missing_capabilities", "990.00", None)
    assert Organization.objects.get(pk=acme.organization.pk).lifecycle_stage == LifecycleStage.CHURNED
    event = OutboxEvent.objects.get(workspace=acme.workspace, name="churn.recorded")
    assert (event.payload["id"], event.payload["mrr_lost"]) == (body["id"], "990.00")
    assert OutboxEvent.objects.filter(workspace=acme.workspace, name="organization.lifecycle_changed").count() == 1


def test_an_organization_set_back_to_customer_is_won_back(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = api_client(acme.agent)
    record_id = json.loads(api_send(client, "post", "/api/v1/churn-records", _churn(acme)).content)["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_send(
            client, "patch", f"/api/v1/organizations/{acme.organization.pk}", {"lifecycle_stage": "customer"}
        )
    assert response.status_code == 200, response.content
    assert ChurnRecord.objects.get(pk=record_id).won_back_on == timezone.localdate()
    listed = json.loads(client.get("/api/v1/churn-records?won_back=true").content)["items"]
    assert [item["id"] for item in listed] == [record_id]


def test_a_won_deal_wins_a_churned_organization_back(acme: Cast) -> None:
    client = api_client(acme.agent)
    record_id = json.loads(api_send(client, "post", "/api/v1/churn-records", _churn(acme)).content)["id"]
    deal = {
        "organization_id": acme.organization.pk,
        "name": "Globex comes back",
        "status": "won",
        "closed_on": "2026-11-20",
    }
    assert api_send(client, "post", "/api/v1/deals", deal).status_code == 201
    assert ChurnRecord.objects.get(pk=record_id).won_back_on == dt.date(2026, 11, 20)
    assert Organization.objects.get(pk=acme.organization.pk).lifecycle_stage == LifecycleStage.CUSTOMER


def test_bad_churn_records_are_refused_and_nothing_changes(acme: Cast, umbrella: Cast) -> None:
    client = api_client(acme.agent)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    cases = [
        (_churn(acme, reason="bored"), "reason"),
        (_churn(acme, churned_on=tomorrow), "churned_on"),
        (_churn(acme, won_back_on="2026-01-01"), "won_back_on"),
        (_churn(acme, organization_id=umbrella.organization.pk), "organization_id"),
    ]
    for body, field in cases:
        response = api_send(client, "post", "/api/v1/churn-records", body)
        assert response.status_code == 422, (body, response.content)
        assert field in json.dumps(problem_body(response)["errors"]), response.content
    assert ChurnRecord.objects.filter(workspace=acme.workspace).count() == 0
    assert Organization.objects.get(pk=acme.organization.pk).lifecycle_stage == LifecycleStage.CUSTOMER
