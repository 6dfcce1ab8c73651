"""The SLA policies settings page: an admin adds a policy with conditions and an override; bad input changes nothing."""

from __future__ import annotations

from deskloop.conftest import Cast, signed_in_client
from deskloop.service_levels.models import SlaOrganizationOverride, SlaPolicy

FORM = {
    "name": "Urgent mail",
    "position": "1",
    "is_active": "on",
    "first_response_minutes": "30",
    "resolution_minutes": "240",
    "warn_before_minutes": "10",
    "priorities": ["urgent"],
    "channels": ["email"],
    "plans": "Pro, Enterprise",
    "tag_names": "outage",
}


def test_admin_adds_a_policy_and_sees_it_in_order(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    response = client.post("/settings/sla/new/", {**FORM, "overrides": [str(acme.organization.pk)]})
    assert (response.status_code, response["Location"]) == (302, "/settings/sla/")
    policy = SlaPolicy.objects.get()
    assert policy.conditions == {
        "plans": ["Enterprise", "Pro"],
        "priorities": ["urgent"],
        "channels": ["email"],
        "tag_names": ["outage"],
    }
    assert SlaOrganizationOverride.objects.get().organization_id == acme.organization.pk
    page = client.get("/settings/sla/").content.decode()
    assert f'<tr data-policy="{policy.pk}">' in page
    assert acme.organization.name in page
    edit = client.post(f"/settings/sla/{policy.pk}/", {**FORM, "first_response_minutes": "45"})
    assert edit.status_code == 302
    policy.refresh_from_db()
    assert (policy.first_response_minutes, SlaOrganizationOverride.objects.count()) == (45, 0)


def test_bad_input_is_shown_on_its_field_and_agents_may_not_open_it(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    response = client.post("/settings/sla/new/", {**FORM, "first_response_minutes": "", "resolution_minutes": ""})
    assert response.status_code == 400
    assert "Set at least one target." in response.content.decode()
    assert SlaPolicy.objects.count() == 0
    assert signed_in_client(acme.agent).get("/settings/sla/").status_code == 403
