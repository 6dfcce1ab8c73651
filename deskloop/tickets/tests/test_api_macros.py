"""Macros over the API, as on the settings page and in the ticket composer: same services, same roles (issue #9)."""

from __future__ import annotations

import pytest

from deskloop.conftest import Cast, api_client, api_send, problem_body
from deskloop.tickets.models import EventKind, Macro, Priority, TicketEvent
from deskloop.tickets.queries import default_status


def test_admin_manages_shared_macros(acme: Cast) -> None:
    client = api_client(acme.admin)
    created = api_send(
        client,
        "post",
        "/api/v1/macros",
        {"name": "Refund  done", "body": "Hi {{ requester.first_name }}", "actions": {"priority": "high"}},
    )
    assert created.status_code == 201, created.content
    macro = created.json()
    assert (macro["name"], macro["shared"], macro["actions"]) == ("Refund done", True, {"priority": "high"})
    url = f"/api/v1/macros/{macro['id']}"
    changed = api_send(client, "patch", url, {"body": "Hello {{ requester.name }}"})
    assert (changed.status_code, changed.json()["name"], changed.json()["body"]) == (
        200,
        "Refund done",
        "Hello {{ requester.name }}",
    )
    assert [item["id"] for item in api_client(acme.agent).get("/api/v1/macros").json()["items"]] == [macro["id"]]
    assert client.delete(url).status_code == 204
    assert not Macro.objects.exists()


def test_agents_keep_personal_macros_and_cannot_touch_shared_ones(acme: Cast) -> None:
    shared = Macro.objects.create(workspace=acme.workspace, name="Shared", body="x")
    client = api_client(acme.agent)
    refused = api_send(client, "post", "/api/v1/macros", {"name": "Mine", "shared": True})
    assert refused.status_code == 403
    assert problem_body(refused)["detail"] == "Only admins can manage shared macros."
    assert api_send(client, "patch", f"/api/v1/macros/{shared.pk}", {"name": "Hacked"}).status_code == 403
    assert client.delete(f"/api/v1/macros/{shared.pk}").status_code == 403
    mine = api_send(client, "post", "/api/v1/macros", {"name": "Mine", "shared": False})
    assert (mine.status_code, mine.json()["shared"]) == (201, False)
    # Another agent's personal macro does not exist for the caller, not even for an admin.
    assert api_client(acme.admin).get(f"/api/v1/macros/{mine.json()['id']}").status_code == 404
    assert api_client(acme.other_team_agent).delete(f"/api/v1/macros/{mine.json()['id']}").status_code == 404
    shared.refresh_from_db()
    assert shared.name == "Shared"


@pytest.mark.parametrize("role", ["light_agent", "viewer"])
def test_roles_that_cannot_write_cannot_create_macros(acme: Cast, role: str) -> None:
    refused = api_send(api_client(getattr(acme, role)), "post", "/api/v1/macros", {"name": "Mine", "shared": False})
    assert refused.status_code == 403
    assert not Macro.objects.exists()


def test_bad_macros_are_refused_by_field(acme: Cast) -> None:
    client = api_client(acme.admin)
    unknown = api_send(client, "post", "/api/v1/macros", {"name": "X", "actions": {"explode": True}})
    assert (unknown.status_code, problem_body(unknown)["errors"][0]["field"]) == (422, "actions")
    foreign_status = api_send(client, "post", "/api/v1/macros", {"name": "X", "actions": {"status": 999_999}})
    assert (foreign_status.status_code, problem_body(foreign_status)["errors"][0]["field"]) == (422, "actions.status")
    blank = api_send(client, "post", "/api/v1/macros", {"name": "   "})
    assert (blank.status_code, problem_body(blank)["errors"][0]["field"]) == (422, "name")
    assert not Macro.objects.exists()


def test_a_macro_is_rendered_for_a_ticket_and_its_actions_applied(acme: Cast) -> None:
    solved = default_status(acme.workspace, category="solved")
    macro = Macro.objects.create(
        workspace=acme.workspace,
        name="Solve",
        body="Hi {{ requester.first_name }}, done.",
        actions={"status": solved.pk, "priority": Priority.HIGH, "add_tags": ["refund"]},
    )
    client = api_client(acme.agent)
    rendered = client.get(f"/api/v1/tickets/{acme.ticket.number}/macros/{macro.pk}")
    assert rendered.json() == {"id": macro.pk, "name": "Solve", "body": "Hi Carmen, done.", "has_actions": True}
    applied = api_send(client, "post", f"/api/v1/tickets/{acme.ticket.number}/macros/{macro.pk}/apply")
    assert applied.status_code == 200, applied.content
    ticket = applied.json()
    assert (ticket["status"]["id"], ticket["priority"], ticket["tags"]) == (solved.pk, "high", ["refund"])
    assert TicketEvent.objects.filter(ticket=acme.ticket, kind=EventKind.MACRO_APPLIED, via="api").count() == 1


def test_light_agents_apply_only_macros_without_actions(acme: Cast) -> None:
    changing = Macro.objects.create(workspace=acme.workspace, name="Urgent", actions={"priority": "urgent"})
    text_only = Macro.objects.create(workspace=acme.workspace, name="Thanks", body="Thanks!")
    client = api_client(acme.light_agent)
    refused = api_send(client, "post", f"/api/v1/tickets/{acme.ticket.number}/macros/{changing.pk}/apply")
    assert refused.status_code == 403
    acme.ticket.refresh_from_db()
    assert acme.ticket.priority != "urgent"
    assert (
        api_send(client, "post", f"/api/v1/tickets/{acme.ticket.number}/macros/{text_only.pk}/apply").status_code == 200
    )
    assert (
        api_send(
            api_client(acme.viewer), "post", f"/api/v1/tickets/{acme.ticket.number}/macros/{text_only.pk}/apply"
        ).status_code
        == 403
    )


def test_another_workspaces_macros_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = Macro.objects.create(workspace=umbrella.workspace, name="Theirs", actions={"priority": "urgent"})
    client = api_client(acme.admin)
    assert client.get("/api/v1/macros").json()["items"] == []
    assert client.get(f"/api/v1/macros/{theirs.pk}").status_code == 404
    assert api_send(client, "patch", f"/api/v1/macros/{theirs.pk}", {"name": "Mine now"}).status_code == 404
    assert client.delete(f"/api/v1/macros/{theirs.pk}").status_code == 404
    assert client.get(f"/api/v1/tickets/{acme.ticket.number}/macros/{theirs.pk}").status_code == 404
    assert api_send(client, "post", f"/api/v1/tickets/{acme.ticket.number}/macros/{theirs.pk}/apply").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
