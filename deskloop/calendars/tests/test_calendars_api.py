"""/api/v1/calendars: admins create and change calendars and their holidays; every agent reads them; other
workspaces' calendars are not found; bad input is a 422 with the field and nothing changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import time_machine
from django.test import Client

from deskloop.calendars.models import BusinessCalendar, Holiday
from deskloop.conftest import Cast, api_client

GERMAN_HOLIDAYS = (Path(__file__).parent / "data" / "german-holidays.ics").read_text()
LATE_SHIFT = [{"weekday": day, "start": "07:00", "end": "02:00"} for day in range(7)]


def call(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")
    return response, (json.loads(response.content) if response.content else None)


@time_machine.travel(dt.datetime(2026, 3, 29, 3, 0, tzinfo=dt.UTC), tick=False)  # Sunday 05:00 CEST: closed
def test_an_admin_creates_reads_changes_and_deletes_a_calendar(acme: Cast) -> None:
    admin = api_client(acme.admin)
    response, body = call(
        admin,
        "post",
        "/api/v1/calendars",
        {"name": "Support Europe", "time_zone": "Europe/Berlin", "weekly_hours": LATE_SHIFT, "is_default": True},
    )
    assert response.status_code == 201
    calendar_id = body["id"]
    assert response["Location"] == f"/api/v1/calendars/{calendar_id}"
    assert body == {
        "id": calendar_id,
        "name": "Support Europe",
        "time_zone": "Europe/Berlin",
        "weekly_hours": LATE_SHIFT,
        "is_default": True,
        "is_open_now": False,
        "next_open_at": "2026-03-29T05:00:00Z",  # 07:00 CEST, the first shift in summer time
        "created_at": "2026-03-29T03:00:00Z",
    }
    _, listing = call(api_client(acme.viewer), "get", "/api/v1/calendars")
    assert [item["name"] for item in listing["items"]] == ["Support Europe"]
    response, body = call(admin, "patch", f"/api/v1/calendars/{calendar_id}", {"time_zone": "UTC"})
    assert (response.status_code, body["time_zone"], body["weekly_hours"], body["is_open_now"]) == (
        200,
        "UTC",
        LATE_SHIFT,
        False,
    )
    response, _ = call(admin, "delete", f"/api/v1/calendars/{calendar_id}")
    assert response.status_code == 204
    assert not BusinessCalendar.objects.exists()


def test_bad_calendars_are_422_with_the_field(acme: Cast) -> None:
    admin = api_client(acme.admin)
    response, body = call(admin, "post", "/api/v1/calendars", {"name": "Mars", "time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    assert body["errors"] == [{"field": "time_zone", "message": "Unknown time zone “Mars/Olympus”."}]
    overlapping = [{"weekday": 0, "start": "09:00", "end": "17:00"}, {"weekday": 0, "start": "12:00", "end": "13:00"}]
    response, body = call(admin, "post", "/api/v1/calendars", {"name": "Overlap", "weekly_hours": overlapping})
    assert response.status_code == 422
    assert body["errors"][0]["field"] == "weekly_hours"
    response, body = call(
        admin,
        "post",
        "/api/v1/calendars",
        {"name": "Typo", "weekly_hours": [{"weekday": 9, "start": "09:00", "end": "17:00"}]},
    )
    assert response.status_code == 422
    assert BusinessCalendar.objects.count() == 0


def test_agents_read_but_do_not_change_and_other_workspaces_are_not_found(acme: Cast, umbrella: Cast) -> None:
    theirs = BusinessCalendar.objects.create(workspace=umbrella.workspace, name="Theirs")
    agent = api_client(acme.agent)
    response, _ = call(agent, "post", "/api/v1/calendars", {"name": "Mine"})
    assert response.status_code == 403
    response, _ = call(agent, "get", f"/api/v1/calendars/{theirs.pk}")
    assert response.status_code == 404
    response, _ = call(api_client(acme.admin), "patch", f"/api/v1/calendars/{theirs.pk}", {"name": "Stolen"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


@time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_holidays_sub_resource_and_ics_import(acme: Cast) -> None:
    admin = api_client(acme.admin)
    _, calendar = call(admin, "post", "/api/v1/calendars", {"name": "Office", "time_zone": "Europe/Berlin"})
    base = f"/api/v1/calendars/{calendar['id']}/holidays"
    response, holiday = call(admin, "post", base, {"date": "2026-10-03", "name": "Tag der Deutschen Einheit"})
    assert (response.status_code, holiday["date"], holiday["source_uid"]) == (201, "2026-10-03", "")
    response, body = call(admin, "post", base, {"name": "No date"})
    assert (response.status_code, body["errors"][0]["field"]) == (422, "date")
    response, body = call(admin, "post", f"{base}/import", {"ics": GERMAN_HOLIDAYS})
    assert response.status_code == 200
    assert body == {
        "added": 8,
        "renamed": 0,
        "removed": 0,
        "unchanged": 0,
        "skipped": [
            {"event": "Muttertag", "reason": "repeats in a way other than once a year on the same day"},
            {"event": "Team meeting", "reason": "not an all-day event"},
        ],
    }
    response, body = call(admin, "post", f"{base}/import", {"ics": "hello"})
    assert response.status_code == 422
    _, listing = call(api_client(acme.agent), "get", base)
    assert len(listing["items"]) == 9
    response, _ = call(admin, "delete", f"{base}/{holiday['id']}")
    assert response.status_code == 204
    assert Holiday.objects.count() == 8
