"""SLA policies and a ticket's clocks over the API: admins write, every agent reads, bad input is refused whole."""

from __future__ import annotations

import time_machine

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.service_levels.models import SlaOrganizationOverride, SlaPolicy
from deskloop.service_levels.tests.test_clocks import dispatched, open_at, utc
from deskloop.tickets.services.messages import add_agent_reply

ENTERPRISE = {
    "name": "Enterprise",
    "position": 1,
    "conditions": {"plans": ["Enterprise"], "priorities": ["urgent", "high"]},
    "first_response_minutes": 30,
    "resolution_minutes": 480,
    "warn_before_minutes": 10,
}


def test_admin_creates_changes_and_deletes_a_policy(acme: Cast) -> None:
    client = api_client(acme.admin)
    created = api_send(
        client, "post", "/api/v1/sla-policies", {**ENTERPRISE, "override_organization_ids": [acme.organization.pk]}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["conditions"], body["override_organization_ids"], body["next_response_minutes"]) == (
        {"plans": ["Enterprise"], "priorities": ["high", "urgent"]},
        [acme.organization.pk],
        None,
    )
    url = f"/api/v1/sla-policies/{body['id']}"
    changed = api_send(client, "patch", url, {"next_response_minutes": 60, "override_organization_ids": []})
    assert (changed.status_code, changed.json()["next_response_minutes"], changed.json()["first_response_minutes"]) == (
        200,
        60,
        30,
    )
    assert SlaOrganizationOverride.objects.count() == 0
    agent_view = api_client(acme.agent).get("/api/v1/sla-policies")
    assert [item["name"] for item in agent_view.json()["items"]] == ["Enterprise"]
    assert api_send(client, "delete", url).status_code == 204
    assert SlaPolicy.objects.count() == 0


def test_bad_input_and_other_roles_are_refused_and_nothing_changes(acme: Cast, umbrella: Cast) -> None:
    client = api_client(acme.admin)
    for payload, field in [
        ({**ENTERPRISE, "conditions": {"priorities": ["whenever"]}}, "conditions"),
        ({**ENTERPRISE, "first_response_minutes": 0}, "first_response_minutes"),
        ({**ENTERPRISE, "first_response_minutes": None, "resolution_minutes": None}, "first_response_minutes"),
        ({**ENTERPRISE, "override_organization_ids": [umbrella.organization.pk]}, "conditions"),
        ({**ENTERPRISE, "name": "  "}, "name"),
    ]:
        response = api_send(client, "post", "/api/v1/sla-policies", payload)
        assert (response.status_code, problem_body(response)["errors"][0]["field"]) == (422, field), payload
    assert api_send(client, "post", "/api/v1/sla-policies", ENTERPRISE).status_code == 201
    duplicate = api_send(client, "post", "/api/v1/sla-policies", {**ENTERPRISE, "name": "enterprise"})
    assert duplicate.status_code == 422
    refused = api_send(api_client(acme.agent), "post", "/api/v1/sla-policies", {**ENTERPRISE, "name": "Mine"})
    assert refused.status_code == 403
    policy = SlaPolicy.objects.get()
    assert api_client(umbrella.admin).get(f"/api/v1/sla-policies/{policy.pk}").status_code == 404
    assert SlaPolicy.objects.count() == 1


def test_ticket_sla_shows_every_clock_and_its_state(acme: Cast) -> None:
    SlaPolicy.objects.create(workspace=acme.workspace, name="Hour", first_response_minutes=60, resolution_minutes=600)
    dispatched()
    ticket = open_at(acme, utc(27, 8))
    with time_machine.travel(utc(27, 9, 30), tick=False):
        add_agent_reply(ticket=ticket, agent=acme.agent, body_text="Late, sorry")
        dispatched()
        body = api_client(acme.viewer).get(f"/api/v1/tickets/{ticket.number}/sla").json()
    assert (body["sla_due_at"], body["first_response_business_minutes"]) == ("2026-03-27T18:00:00Z", 90)
    assert [(t["metric"], t["state"], t["due_at"]) for t in body["targets"]] == [
        ("first_response", "missed", "2026-03-27T09:00:00Z"),
        ("resolution", "running", "2026-03-27T18:00:00Z"),
    ]
    ticket_body = api_client(acme.viewer).get(f"/api/v1/tickets/{ticket.number}").json()
    assert (ticket_body["sla_due_at"], ticket_body["sla_paused"]) == ("2026-03-27T18:00:00Z", False)
