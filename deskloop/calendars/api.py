"""Business calendars over the API: what an admin does on the calendar settings pages. Every agent may read them
(SLA policies and shifts name them); only admins change them. An id of another workspace reads as "not found"."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from deskloop.accounts.api import caller_agent
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES
from deskloop.calendars import ics, queries, services
from deskloop.calendars.business_time import is_open, next_open_at
from deskloop.calendars.models import BusinessCalendar, Holiday
from deskloop.core.api_support import api_policy, problems
from deskloop.core.errors import ValidationFailed

router = Router(tags=["calendars"])


class ShiftSchema(Schema):
    weekday: int = Field(..., ge=0, le=6, description="Monday 0 ... Sunday 6")
    start: str = Field(..., pattern=r"^\d\d:\d\d$", examples=["07:00"])
    end: str = Field(..., pattern=r"^\d\d:\d\d$", examples=["02:00"], description="Not after start: ends the next day")


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    weekly_hours: list[ShiftSchema]
    is_default: bool
    is_open_now: bool
    next_open_at: dt.datetime | None = Field(..., description="Now when open; null when it never opens")
    created_at: dt.datetime


class CalendarList(Schema):
    items: list[CalendarOut]


class CalendarIn(Schema):
    name: str = Field(..., max_length=services.NAME_MAX)
    time_zone: str = Field("UTC", max_length=64, examples=["Europe/Berlin"])
    weekly_hours: list[ShiftSchema] = Field(default_factory=list, max_length=70)
    is_default: bool = False


class CalendarUpdateIn(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=services.NAME_MAX)
    time_zone: str | None = Field(None, max_length=64)
    weekly_hours: list[ShiftSchema] | None = Field(None, max_length=70)
    is_default: bool | None = None


class HolidayOut(Schema):
    id: int
    date: dt.date
    name: str
    source_uid: str


class HolidayList(Schema):
    items: list[HolidayOut]


class HolidayIn(Schema):
    # Optional in the schema so another workspace's calendar answers 404 before the body is judged.
    date: dt.date | None = None
    name: str = Field("", max_length=services.HOLIDAY_NAME_MAX)


class HolidayImportIn(Schema):
    ics: str = Field("", max_length=ics.MAX_BYTES, description="The text of an iCalendar (.ics) file")


class SkippedEvent(Schema):
    event: str
    reason: str


class HolidayImportOut(Schema):
    added: int
    renamed: int
    removed: int
    unchanged: int
    skipped: list[SkippedEvent]


def _out(calendar: BusinessCalendar) -> CalendarOut:
    now = timezone.now()
    schedule = calendar.schedule()
    return CalendarOut(
        id=calendar.pk,
        name=calendar.name,
        time_zone=calendar.time_zone,
        weekly_hours=[ShiftSchema(**shift) for shift in calendar.weekly_hours],
        is_default=calendar.is_default,
        is_open_now=is_open(schedule, now),
        next_open_at=next_open_at(schedule, now),
        created_at=calendar.created_at,
    )


def _hours(shifts: list[ShiftSchema]) -> list[dict[str, object]]:
    return [shift.model_dump() for shift in shifts]


@router.get("/calendars", response={200: CalendarList, **problems(401, 429)}, summary="List business calendars")
@api_policy(ALL_ROLES)
def list_calendars(request: HttpRequest) -> CalendarList:
    agent = caller_agent(request)
    return CalendarList(items=[_out(calendar) for calendar in queries.calendars_of_workspace(agent.workspace_id)])


@router.post(
    "/calendars",
    response={201: CalendarOut, **problems(401, 403, 409, 422, 429)},
    summary="Create a business calendar",
    description="Making it the default takes the flag from the previous default.",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def create_calendar(request: HttpRequest, payload: CalendarIn, response: HttpResponse) -> Status[CalendarOut]:
    calendar = services.create_calendar(
        actor=caller_agent(request),
        fields=services.CalendarFields(
            name=payload.name,
            time_zone=payload.time_zone,
            weekly_hours=_hours(payload.weekly_hours),
            is_default=payload.is_default,
        ),
    )
    response["Location"] = f"{request.path.rstrip('/')}/{calendar.pk}"
    return Status(201, _out(calendar))


@router.get(
    "/calendars/{calendar_id}",
    response={200: CalendarOut, **problems(401, 404, 429)},
    summary="Get a business calendar",
)
@api_policy(ALL_ROLES)
def get_calendar(request: HttpRequest, calendar_id: int) -> CalendarOut:
    return _out(queries.get_calendar_for_agent(caller_agent(request), calendar_id))


@router.patch(
    "/calendars/{calendar_id}",
    response={200: CalendarOut, **problems(401, 403, 404, 422, 429)},
    summary="Change a business calendar",
)
@api_policy(ADMIN_ROLES)
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarUpdateIn) -> CalendarOut:
    agent = caller_agent(request)
    calendar = queries.get_calendar_for_agent(agent, calendar_id)
    fields = services.CalendarFields(
        name=payload.name if payload.name is not None else calendar.name,
        time_zone=payload.time_zone if payload.time_zone is not None else calendar.time_zone,
        weekly_hours=_hours(payload.weekly_hours) if payload.weekly_hours is not None else calendar.weekly_hours,
        is_default=payload.is_default if payload.is_default is not None else calendar.is_default,
    )
    return _out(services.update_calendar(actor=agent, calendar=calendar, fields=fields))


@router.delete(
    "/calendars/{calendar_id}",
    response={204: None, **problems(401, 403, 404, 409, 429)},
    summary="Delete a business calendar",
    description="Refused (409) while an SLA policy or an agent's schedule uses it.",
)
@api_policy(ADMIN_ROLES)
def delete_calendar(request: HttpRequest, calendar_id: int) -> Status[None]:
    agent = caller_agent(request)
    services.delete_calendar(actor=agent, calendar=queries.get_calendar_for_agent(agent, calendar_id))
    return Status(204, None)


@router.get(
    "/calendars/{calendar_id}/holidays",
    response={200: HolidayList, **problems(401, 404, 429)},
    summary="List a calendar's holidays",
)
@api_policy(ALL_ROLES)
def list_holidays(request: HttpRequest, calendar_id: int) -> HolidayList:
    calendar = queries.get_calendar_for_agent(caller_agent(request), calendar_id)
    return HolidayList(items=[HolidayOut.from_orm(holiday) for holiday in queries.holidays_of(calendar)])


@router.post(
    "/calendars/{calendar_id}/holidays",
    response={201: HolidayOut, **problems(401, 403, 404, 409, 422, 429)},
    summary="Add a holiday",
)
@api_policy(ADMIN_ROLES, idempotent=True)
def add_holiday(request: HttpRequest, calendar_id: int, payload: HolidayIn) -> Status[Holiday]:
    agent = caller_agent(request)
    calendar = queries.get_calendar_for_agent(agent, calendar_id)
    if payload.date is None:
        raise ValidationFailed(_("Give the holiday's date."), field="date")
    return Status(201, services.add_holiday(actor=agent, calendar=calendar, date=payload.date, name=payload.name))


# Declared before "/holidays/{holiday_id}", which would otherwise take "import" for an id.
@router.post(
    "/calendars/{calendar_id}/holidays/import",
    response={200: HolidayImportOut, **problems(401, 403, 404, 422, 429)},
    summary="Import holidays from an .ics file",
    description="All-day events (yearly repeats expanded); idempotent by the events' UIDs.",
)
@api_policy(ADMIN_ROLES)
def import_holidays(request: HttpRequest, calendar_id: int, payload: HolidayImportIn) -> HolidayImportOut:
    agent = caller_agent(request)
    calendar = queries.get_calendar_for_agent(agent, calendar_id)
    result = services.import_holidays(actor=agent, calendar=calendar, content=payload.ics.encode("utf-8"))
    return HolidayImportOut(
        added=result.added,
        renamed=result.renamed,
        removed=result.removed,
        unchanged=result.unchanged,
        skipped=[SkippedEvent(event=label, reason=reason) for label, reason in result.skipped],
    )


@router.delete(
    "/calendars/{calendar_id}/holidays/{holiday_id}",
    response={204: None, **problems(401, 403, 404, 429)},
    summary="Remove a holiday",
)
@api_policy(ADMIN_ROLES)
def remove_holiday(request: HttpRequest, calendar_id: int, holiday_id: int) -> Status[None]:
    agent = caller_agent(request)
    calendar = queries.get_calendar_for_agent(agent, calendar_id)
    services.remove_holiday(actor=agent, holiday=queries.get_holiday_for_agent(agent, calendar, holiday_id))
    return Status(204, None)


__all__ = ["router"]
