"""The availability toggle in the top bar (htmx), the list of who is available, the routing settings page and
the availability API, from the agents' side."""

from __future__ import annotations

import datetime as dt
import json

import time_machine
from django.urls import reverse

from deskloop.assignment.models import AgentSchedule, RoutingMode, TeamRouting
from deskloop.calendars.models import BusinessCalendar
from deskloop.conftest import Cast, api_client, signed_in_client
from deskloop.tickets.services.tickets import TicketChanges, update_ticket

MONDAY_NOON = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)  # 12:00 in Berlin


def test_the_top_bar_loads_the_toggle_and_an_agent_goes_away(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    inbox = client.get(reverse("tickets:inbox")).content.decode()
    assert 'hx-get="/availability/me/"' in inbox
    toggle = client.get("/availability/me/", headers={"hx-request": "true"}).content.decode()
    assert '<option value="online" selected>Online</option>' in toggle
    with time_machine.travel(MONDAY_NOON, tick=False):
        response = client.post("/availability/me/", {"availability": "away"}, headers={"hx-request": "true"})
    assert response.status_code == 200
    assert '<option value="away" selected>Away</option>' in response.content.decode()
    schedule = AgentSchedule.objects.get(agent=acme.agent)
    assert (schedule.availability, schedule.availability_changed_at) == ("away", MONDAY_NOON)


def test_an_unknown_availability_is_refused_and_nothing_changes(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    response = client.post("/availability/me/", {"availability": "busy"}, headers={"hx-request": "true"})
    assert response.status_code == 422
    assert "Choose online, away or offline." in response.content.decode()
    assert not AgentSchedule.objects.exists()


def test_everyone_sees_who_is_available_on_shift_and_how_loaded(acme: Cast) -> None:
    office = BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )
    AgentSchedule.objects.create(workspace=acme.workspace, agent=acme.agent, calendar=office, capacity=4)
    update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
    with time_machine.travel(dt.datetime(2026, 3, 7, 11, 0, tzinfo=dt.UTC), tick=False):  # Saturday
        page = signed_in_client(acme.viewer).get("/availability/").content.decode()
        api = json.loads(api_client(acme.viewer).get("/api/v1/agents/availability").content)
    assert '<tr data-agent="Maria Agent">' in page
    maria = next(item for item in api["items"] if item["name"] == "Maria Agent")
    assert maria == {
        "agent_id": acme.agent.pk,
        "name": "Maria Agent",
        "availability": "online",
        "availability_changed_at": maria["availability_changed_at"],
        "on_shift": False,
        "calendar_id": office.pk,
        "open_tickets": 1,
        "capacity": 4,
    }
    # Owners, admins and agents take tickets; the light agent and the viewer are not listed.
    assert sorted(item["name"] for item in api["items"]) == [
        "Adam Admin",
        "Boris Billing",
        "Maria Agent",
        "Olivia Owner",
    ]


def test_an_agent_sets_their_availability_over_the_api(acme: Cast) -> None:
    client = api_client(acme.agent)
    with time_machine.travel(MONDAY_NOON, tick=False):
        response = client.patch(
            "/api/v1/agents/me/availability",
            data=json.dumps({"availability": "offline"}),
            content_type="application/json",
        )
    body = json.loads(response.content)
    assert (response.status_code, body["availability"], body["availability_changed_at"]) == (
        200,
        "offline",
        "2026-03-02T11:00:00Z",
    )
    refused = client.patch(
        "/api/v1/agents/me/availability", data=json.dumps({"availability": "busy"}), content_type="application/json"
    )
    assert refused.status_code == 422
    assert AgentSchedule.objects.get(agent=acme.agent).availability == "offline"


def test_an_admin_routes_a_team_and_sets_an_agents_shifts(acme: Cast) -> None:
    office = BusinessCalendar.objects.create(workspace=acme.workspace, name="Office", time_zone="Europe/Berlin")
    client = signed_in_client(acme.admin)
    page = client.get("/settings/routing/").content.decode()
    assert '<tr data-team="Support">' in page
    assert '<tr data-agent="Maria Agent">' in page
    prefix = f"team{acme.support.pk}"
    response = client.post(
        f"/settings/routing/teams/{acme.support.pk}/",
        {f"{prefix}-mode": "least_loaded", f"{prefix}-reassign_after_minutes": "30"},
    )
    assert response.status_code == 302
    routing = TeamRouting.objects.get(team=acme.support)
    assert (routing.mode, routing.reassign_after_minutes) == (RoutingMode.LEAST_LOADED, 30)
    agent_prefix = f"agent{acme.agent.pk}"
    response = client.post(
        f"/settings/routing/agents/{acme.agent.pk}/",
        {f"{agent_prefix}-calendar": str(office.pk), f"{agent_prefix}-capacity": "6"},
    )
    assert response.status_code == 302
    schedule = AgentSchedule.objects.get(agent=acme.agent)
    assert (schedule.calendar, schedule.capacity) == (office, 6)
    refused = client.post(
        f"/settings/routing/agents/{acme.agent.pk}/", {f"{agent_prefix}-capacity": "0"}, follow=True
    ).content.decode()
    assert "Maria Agent: Ensure this value is greater than or equal to 1." in refused
    schedule.refresh_from_db()
    assert (schedule.calendar, schedule.capacity) == (office, 6)


def test_agents_cannot_change_routing(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    assert client.get("/settings/routing/").status_code == 403
    prefix = f"team{acme.support.pk}"
    response = client.post(f"/settings/routing/teams/{acme.support.pk}/", {f"{prefix}-mode": "round_robin"})
    assert response.status_code == 403
    assert not TeamRouting.objects.exists()
