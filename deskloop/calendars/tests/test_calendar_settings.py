"""An admin keeps Acme's business calendars on the settings pages: weekly hours with a shift past midnight, the
default flag, holidays by hand and from an .ics file; agents may not; bad input is refused with nothing changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from deskloop.assignment.services import update_agent_schedule
from deskloop.calendars.models import BusinessCalendar, Holiday
from deskloop.conftest import Cast, signed_in_client

GERMAN_HOLIDAYS = (Path(__file__).parent / "data" / "german-holidays.ics").read_bytes()


def calendar_form(
    name: str, time_zone: str = "Europe/Berlin", *, default: bool = False, **shifts: str
) -> dict[str, Any]:
    """The editor's fields: ``day0_shift0_start="07:00"`` and so on; every other slot empty."""
    form: dict[str, Any] = {"name": name, "time_zone": time_zone}
    for weekday in range(7):
        for slot in range(3):
            for edge in ("start", "end"):
                key = f"day{weekday}_shift{slot}_{edge}"
                form[key] = shifts.get(key, "")
    if default:
        form["is_default"] = "on"
    return form


def late_shift_every_day() -> dict[str, str]:
    hours = {}
    for day in range(7):
        hours[f"day{day}_shift0_start"], hours[f"day{day}_shift0_end"] = "07:00", "02:00"
    return hours


def test_an_admin_creates_a_calendar_with_a_shift_past_midnight(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    assert client.get("/settings/calendars/new/").status_code == 200
    response = client.post(
        "/settings/calendars/new/", calendar_form("Support Europe", default=True, **late_shift_every_day())
    )
    calendar = BusinessCalendar.objects.get(workspace=acme.workspace)
    assert response.status_code == 302
    assert response["Location"] == f"/settings/calendars/{calendar.pk}/"
    assert (calendar.name, calendar.time_zone, calendar.is_default) == ("Support Europe", "Europe/Berlin", True)
    assert calendar.weekly_hours == [{"weekday": day, "start": "07:00", "end": "02:00"} for day in range(7)]
    with time_machine.travel(dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), tick=False):  # 01:30 CET Sunday
        page = client.get(response["Location"]).content.decode()
    assert "Open now." in page
    assert 'value="02:00"' in page
    listing = client.get("/settings/calendars/").content.decode()
    assert "Support Europe" in listing
    assert "Europe/Berlin" in listing


def test_a_new_default_takes_the_flag_from_the_old_one(acme: Cast) -> None:
    client = signed_in_client(acme.owner)
    client.post(
        "/settings/calendars/new/",
        calendar_form("Old", default=True, day0_shift0_start="09:00", day0_shift0_end="17:00"),
    )
    client.post(
        "/settings/calendars/new/",
        calendar_form("New", default=True, day1_shift0_start="09:00", day1_shift0_end="17:00"),
    )
    assert list(BusinessCalendar.objects.order_by("name").values_list("name", "is_default")) == [
        ("New", True),
        ("Old", False),
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (calendar_form("", day0_shift0_start="09:00", day0_shift0_end="17:00"), "This field is required."),
        (calendar_form("Mars", time_zone="Mars/Olympus"), "Select a valid choice."),
        (calendar_form("Half", day0_shift0_start="09:00"), "Enter both times of the shift."),
        (
            calendar_form(
                "Overlap",
                day0_shift0_start="09:00",
                day0_shift0_end="17:00",
                day0_shift1_start="16:00",
                day0_shift1_end="18:00",
            ),
            "shifts on weekday 0 overlap",
        ),
        (calendar_form("Typo", day0_shift0_start="25:00", day0_shift0_end="17:00"), "Enter a valid time."),
    ],
)
def test_bad_calendars_are_refused_with_the_reason(acme: Cast, form: dict[str, Any], message: str) -> None:
    response = signed_in_client(acme.admin).post("/settings/calendars/new/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert BusinessCalendar.objects.count() == 0


def test_a_second_calendar_of_the_same_name_is_refused(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    client.post("/settings/calendars/new/", calendar_form("Office"))
    response = client.post("/settings/calendars/new/", calendar_form("office"))
    assert response.status_code == 400
    assert "Another calendar has this name." in response.content.decode()
    assert BusinessCalendar.objects.count() == 1


def test_agents_cannot_open_or_change_calendars(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    assert client.get("/settings/calendars/").status_code == 403
    assert client.post("/settings/calendars/new/", calendar_form("Mine")).status_code == 403
    assert BusinessCalendar.objects.count() == 0


def make_calendar(acme: Cast) -> BusinessCalendar:
    return BusinessCalendar.objects.create(
        workspace=acme.workspace,
        name="Office",
        time_zone="Europe/Berlin",
        weekly_hours=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )


def test_editing_keeps_what_is_sent_and_holidays_are_added_and_removed(acme: Cast) -> None:
    calendar = make_calendar(acme)
    client = signed_in_client(acme.admin)
    url = f"/settings/calendars/{calendar.pk}/"
    response = client.post(
        url, calendar_form("Office Vilnius", "Europe/Vilnius", day4_shift0_start="10:00", day4_shift0_end="14:00")
    )
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert (calendar.name, calendar.time_zone, calendar.weekly_hours) == (
        "Office Vilnius",
        "Europe/Vilnius",
        [{"weekday": 4, "start": "10:00", "end": "14:00"}],
    )
    assert client.post(f"{url}holidays/", {"date": "2026-12-24", "name": "Christmas Eve"}).status_code == 302
    again = client.post(f"{url}holidays/", {"date": "2026-12-24", "name": "Twice"})
    assert again.status_code == 400
    assert "2026-12-24 is already a holiday in this calendar." in again.content.decode()
    assert client.post(f"{url}holidays/", {"date": "24.12.2026"}).status_code == 400
    holiday = Holiday.objects.get(calendar=calendar)
    assert (holiday.date, holiday.name, holiday.source_uid) == (dt.date(2026, 12, 24), "Christmas Eve", "")
    assert client.post(f"{url}holidays/{holiday.pk}/delete/").status_code == 302
    assert not Holiday.objects.filter(calendar=calendar).exists()


def import_file(client: Any, calendar: BusinessCalendar, content: bytes, name: str = "holidays.ics") -> Any:
    upload = SimpleUploadedFile(name, content, content_type="text/calendar")
    return client.post(f"/settings/calendars/{calendar.pk}/holidays/import/", {"file": upload}, follow=True)


@time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_an_ics_file_imports_all_day_events_once(acme: Cast) -> None:
    calendar = make_calendar(acme)
    client = signed_in_client(acme.admin)
    page = import_file(client, calendar, GERMAN_HOLIDAYS).content.decode()
    assert "8 holidays added, 0 renamed, 0 removed, 0 unchanged." in page
    assert "Not imported: Muttertag (repeats in a way other than once a year on the same day)." in page
    assert "Not imported: Team meeting (not an all-day event)." in page
    holidays = list(Holiday.objects.filter(calendar=calendar).values_list("date", "name"))
    assert holidays == [
        (dt.date(2026, 1, 1), "Neujahr"),
        (dt.date(2026, 4, 3), "Karfreitag"),
        (dt.date(2026, 5, 1), "Tag der Arbeit"),
        (dt.date(2026, 12, 25), "Weihnachten, 1. und 2. Feiertag"),
        (dt.date(2026, 12, 26), "Weihnachten, 1. und 2. Feiertag"),
        (dt.date(2027, 1, 1), "Neujahr"),
        (dt.date(2027, 5, 1), "Tag der Arbeit"),
        (dt.date(2028, 1, 1), "Neujahr"),
    ]
    again = import_file(client, calendar, GERMAN_HOLIDAYS).content.decode()
    assert "0 holidays added, 0 renamed, 0 removed, 8 unchanged." in again
    assert Holiday.objects.filter(calendar=calendar).count() == 8
    changed = GERMAN_HOLIDAYS.replace(b"SUMMARY:Karfreitag", b"SUMMARY:Good Friday").replace(
        b"DTEND;VALUE=DATE:20261227", b"DTEND;VALUE=DATE:20261226"
    )
    third = import_file(client, calendar, changed).content.decode()
    assert "0 holidays added, 1 renamed, 1 removed, 6 unchanged." in third
    assert Holiday.objects.get(calendar=calendar, date=dt.date(2026, 4, 3)).name == "Good Friday"
    assert not Holiday.objects.filter(calendar=calendar, date=dt.date(2026, 12, 26)).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"Date,Name\n2026-12-25,Christmas\n",
            "The file cannot be imported: the file is not an iCalendar (.ics) file.",
        ),
        (b"BEGIN:VCALENDAR\r\nSUMMARY:\xff\xfe\r\nEND:VCALENDAR\r\n", "the file is not UTF-8 text"),
        (b"BEGIN:VCALENDAR\r\n" + b"X" * 1_000_001, "The file is larger than 1000 kB."),
    ],
)
def test_a_file_that_is_not_a_holiday_calendar_is_refused(acme: Cast, content: bytes, message: str) -> None:
    calendar = make_calendar(acme)
    response = import_file(signed_in_client(acme.admin), calendar, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Holiday.objects.exists()


def test_a_calendar_in_use_cannot_be_deleted(acme: Cast) -> None:
    calendar = make_calendar(acme)
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=calendar, capacity=None)
    client = signed_in_client(acme.admin)
    refused = client.post(f"/settings/calendars/{calendar.pk}/delete/", follow=True)
    assert "This calendar is in use by an SLA policy or an agent&#x27;s schedule." in refused.content.decode()
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    update_agent_schedule(actor=acme.admin, agent=acme.agent, calendar=None, capacity=None)
    assert client.post(f"/settings/calendars/{calendar.pk}/delete/").status_code == 302
    assert not BusinessCalendar.objects.filter(pk=calendar.pk).exists()
