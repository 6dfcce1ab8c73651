"""The Automations settings screen and the read API, as an admin (and others) use them."""

from __future__ import annotations

import json
from typing import Any

from deskloop.automations.models import AutomationRule, AutomationRun
from deskloop.conftest import Cast, api_client, signed_in_client
from deskloop.tickets.services.tickets import NewTicket, open_ticket

FORM = {
    "name": "Outage is urgent",
    "kind": "event",
    "events": ["ticket.created"],
    "match": "all",
    "time_hours_since": "updated_at",
    "is_active": "on",
    "condition_field": ["subject", ""],
    "condition_operator": ["contains", "is"],
    "condition_value": ["outage", ""],
    "action_type": ["set_priority", "set_team", ""],
    "action_value": ["urgent", "support", ""],
    "action_text": ["", "", ""],
}


def _tickets(cast: Cast, *subjects: str) -> None:
    for subject in subjects:
        open_ticket(workspace=cast.workspace, ticket=NewTicket(requester=cast.customer, subject=subject))


def test_an_admin_previews_then_saves_a_rule_built_by_names(acme: Cast, umbrella: Cast) -> None:
    _tickets(acme, "Outage in Paris", "Second outage", "Invoice question")
    _tickets(umbrella, "Outage at Umbrella")
    client = signed_in_client(acme.admin)

    preview = client.post("/settings/automations/new/", {**FORM, "preview": "1"}, headers={"hx-request": "true"})
    assert preview.status_code == 200
    assert "Would match 2 tickets" in preview.content.decode()
    assert "Outage at Umbrella" not in preview.content.decode()
    assert not AutomationRule.objects.exists()  # a dry run writes nothing

    saved = client.post("/settings/automations/new/", FORM)
    rule = AutomationRule.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == f"/settings/automations/{rule.pk}/"
    assert rule.conditions == [{"field": "subject", "operator": "contains", "value": "outage"}]
    assert rule.actions == [{"type": "set_priority", "value": "urgent"}, {"type": "set_team", "value": acme.support.pk}]
    assert rule.created_by == acme.admin
    page = client.get(saved["Location"]).content.decode()
    assert 'value="Support"' in page  # the team shown by its name again


def test_a_rule_naming_something_unknown_is_refused_with_the_reason(acme: Cast, umbrella: Cast) -> None:
    client = signed_in_client(acme.admin)
    form = {**FORM, "action_value": ["urgent", str(umbrella.support.pk), ""]}

    refused = client.post("/settings/automations/new/", form)

    assert refused.status_code == 400
    assert f"“{umbrella.support.pk}” was not found in this workspace." in refused.content.decode()
    assert not AutomationRule.objects.exists()


def test_agents_cannot_open_the_automations_screen(acme: Cast) -> None:
    assert signed_in_client(acme.agent).get("/settings/automations/").status_code == 403
    assert signed_in_client(acme.agent).post("/settings/automations/new/", FORM).status_code == 403
    assert not AutomationRule.objects.exists()


def _saved_rule(cast: Cast) -> AutomationRule:
    signed_in_client(cast.admin).post("/settings/automations/new/", FORM)
    return AutomationRule.objects.get(workspace=cast.workspace)


def test_the_api_lists_rules_previews_and_shows_the_run_log(
    acme: Cast, umbrella: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    rule = _saved_rule(acme)
    with django_capture_on_commit_callbacks(execute=True):
        _tickets(acme, "Outage in Berlin")
    _tickets(acme, "Another outage")  # opened with no dispatch: not urgent yet, so an open match
    client = api_client(acme.admin)

    listed = json.loads(client.get("/api/v1/automations").content)
    assert [(item["id"], item["name"], item["created_by_id"]) for item in listed["items"]] == [
        (rule.pk, "Outage is urgent", acme.admin.pk)
    ]
    preview = json.loads(client.post(f"/api/v1/automations/{rule.pk}/preview").content)
    assert preview["count"] == 2
    assert [ticket["subject"] for ticket in preview["tickets"]] == ["Another outage", "Outage in Berlin"]
    runs = json.loads(client.get(f"/api/v1/automations/{rule.pk}/runs").content)
    assert [(run["outcome"], run["detail"]) for run in runs["items"]] == [
        ("applied", "set priority to Urgent; set team to Support")
    ]
    assert AutomationRun.objects.count() == 1  # the preview wrote nothing
    log_page = signed_in_client(acme.admin).get(f"/settings/automations/{rule.pk}/runs/").content.decode()
    assert "set priority to Urgent; set team to Support" in log_page

    foreign = _saved_rule(umbrella)
    assert client.get(f"/api/v1/automations/{foreign.pk}").status_code == 404
    assert client.post(f"/api/v1/automations/{foreign.pk}/preview").status_code == 404
    assert api_client(acme.agent).get("/api/v1/automations").status_code == 403
