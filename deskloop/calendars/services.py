"""Writes for business calendars (admins only): create, change, delete, holidays by hand or from an .ics file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.calendars import ics
from deskloop.calendars.business_time import parse_time_zone, parse_weekly_hours, weekly_hours_as_json
from deskloop.calendars.models import BusinessCalendar, Holiday
from deskloop.core.errors import Conflict, NotFound, ValidationFailed

CALENDARS_ADMINS_ONLY = gettext_noop("Only admins can change business calendars.")
NAME_MAX = 100
HOLIDAY_NAME_MAX = 200
CALENDARS_PER_WORKSPACE = 100
# Holidays outside these years are typos (2205 for 2025), not plans.
EARLIEST_HOLIDAY = dt.date(1970, 1, 1)
LATEST_HOLIDAY = dt.date(2200, 12, 31)


@dataclass(frozen=True)
class CalendarFields:
    name: str
    time_zone: str
    weekly_hours: object
    is_default: bool = False


def _same_workspace(actor: Agent, calendar: BusinessCalendar) -> None:
    if calendar.workspace_id != actor.workspace_id:
        raise NotFound(_("Calendar not found."))


def _clean(actor: Agent, fields: CalendarFields, calendar: BusinessCalendar | None) -> CalendarFields:
    name = " ".join((fields.name or "").split())
    if not name:
        raise ValidationFailed(_("Give the calendar a name."), field="name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(_("A name can be at most %(max)d characters.") % {"max": NAME_MAX}, field="name")
    taken = BusinessCalendar.objects.filter(workspace_id=actor.workspace_id, name__iexact=name)
    if calendar is not None:
        taken = taken.exclude(pk=calendar.pk)
    if taken.exists():
        raise ValidationFailed(_("Another calendar has this name."), field="name")
    try:
        zone = parse_time_zone(fields.time_zone or "")
    except ValueError:
        raise ValidationFailed(
            _("Unknown time zone “%(value)s”.") % {"value": fields.time_zone}, field="time_zone"
        ) from None
    try:
        shifts = parse_weekly_hours(fields.weekly_hours)
    except ValueError as exc:
        raise ValidationFailed(
            _("The weekly hours cannot be used: %(reason)s.") % {"reason": exc}, field="weekly_hours"
        ) from None
    return CalendarFields(name, zone, weekly_hours_as_json(shifts), fields.is_default)


def create_calendar(*, actor: Agent, fields: CalendarFields) -> BusinessCalendar:
    require_admin(actor, CALENDARS_ADMINS_ONLY)
    cleaned = _clean(actor, fields, None)
    if BusinessCalendar.objects.filter(workspace_id=actor.workspace_id).count() >= CALENDARS_PER_WORKSPACE:
        raise ValidationFailed(
            _("A workspace can have at most %(max)d calendars.") % {"max": CALENDARS_PER_WORKSPACE}, field="name"
        )
    with transaction.atomic():
        if cleaned.is_default:
            _clear_default(actor.workspace_id)
        return BusinessCalendar.objects.create(
            workspace_id=actor.workspace_id,
            name=cleaned.name,
            time_zone=cleaned.time_zone,
            weekly_hours=cleaned.weekly_hours,
            is_default=cleaned.is_default,
        )


def update_calendar(*, actor: Agent, calendar: BusinessCalendar, fields: CalendarFields) -> BusinessCalendar:
    """Every field is replaced (the API's PATCH fills the ones not sent from the calendar). SLA clocks already
    running keep the due times they have; new targets and the next recalculation use the new hours."""
    require_admin(actor, CALENDARS_ADMINS_ONLY)
    _same_workspace(actor, calendar)
    cleaned = _clean(actor, fields, calendar)
    with transaction.atomic():
        if cleaned.is_default and not calendar.is_default:
            _clear_default(actor.workspace_id)
        calendar.name = cleaned.name
        calendar.time_zone = cleaned.time_zone
        calendar.weekly_hours = cleaned.weekly_hours
        calendar.is_default = cleaned.is_default
        calendar.save(update_fields=["name", "time_zone", "weekly_hours", "is_default"])
    return calendar


def _clear_default(workspace_id: int) -> None:
    # One default per workspace (a partial unique index): the old one gives way in the same transaction.
    BusinessCalendar.objects.select_for_update().filter(workspace_id=workspace_id, is_default=True).update(
        is_default=False
    )


def delete_calendar(*, actor: Agent, calendar: BusinessCalendar) -> None:
    """Refused while an SLA policy or an agent's schedule uses the calendar (their counting would silently
    change to around the clock)."""
    require_admin(actor, CALENDARS_ADMINS_ONLY)
    _same_workspace(actor, calendar)
    try:
        with transaction.atomic():
            calendar.delete()
    except ProtectedError:
        raise Conflict(
            _("This calendar is in use by an SLA policy or an agent's schedule. Choose another calendar there first."),
            code="calendar_in_use",
        ) from None


def add_holiday(*, actor: Agent, calendar: BusinessCalendar, date: dt.date, name: str) -> Holiday:
    require_admin(actor, CALENDARS_ADMINS_ONLY)
    _same_workspace(actor, calendar)
    if not EARLIEST_HOLIDAY <= date <= LATEST_HOLIDAY:
        raise ValidationFailed(_("Choose a date between 1970 and 2200."), field="date")
    cleaned = " ".join((name or "").split())[:HOLIDAY_NAME_MAX]
    try:
        with transaction.atomic():
            return Holiday.objects.create(workspace_id=actor.workspace_id, calendar=calendar, date=date, name=cleaned)
    except IntegrityError:
        raise ValidationFailed(
            _("%(date)s is already a holiday in this calendar.") % {"date": date.isoformat()}, field="date"
        ) from None


def remove_holiday(*, actor: Agent, holiday: Holiday) -> None:
    require_admin(actor, CALENDARS_ADMINS_ONLY)
    if holiday.workspace_id != actor.workspace_id:
        raise NotFound(_("Holiday not found."))
    holiday.delete()


@dataclass
class HolidayImport:
    """What an .ics import did: holidays added, renamed, removed (an event of the file moved to other dates),
    left as they were, and the events it could not read with the reason."""

    added: int = 0
    renamed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def import_holidays(*, actor: Agent, calendar: BusinessCalendar, content: bytes) -> HolidayImport:
    """Holidays from an .ics file (see ``calendars.ics`` for what is read). Idempotent by the events' UIDs: the
    same file again changes nothing; a changed file moves its events' holidays to their new dates. A date that
    is already a holiday entered by hand or from another event keeps its entry. Nothing is written when the file
    cannot be read."""
    require_admin(actor, CALENDARS_ADMINS_ONLY)
    _same_workspace(actor, calendar)
    try:
        parsed = ics.parse_holidays(content, today=timezone.localdate())
    except ics.IcsError as exc:
        raise ValidationFailed(_("The file cannot be imported: %(reason)s.") % {"reason": exc}, field="file") from None
    result = HolidayImport(skipped=parsed.skipped)
    wanted: dict[dt.date, ics.IcsHoliday] = {}
    for holiday in parsed.holidays:
        if EARLIEST_HOLIDAY <= holiday.date <= LATEST_HOLIDAY:
            wanted.setdefault(holiday.date, holiday)
    uids = {holiday.uid for holiday in parsed.holidays}
    with transaction.atomic():
        existing = {holiday.date: holiday for holiday in Holiday.objects.select_for_update().filter(calendar=calendar)}
        moved = [h.pk for h in existing.values() if h.source_uid in uids and h.date not in wanted]
        result.removed = Holiday.objects.filter(pk__in=moved).delete()[0]
        new_rows = []
        for date, holiday in sorted(wanted.items()):
            found = existing.get(date)
            if found is None:
                new_rows.append(
                    Holiday(
                        workspace_id=actor.workspace_id,
                        calendar=calendar,
                        date=date,
                        name=holiday.name,
                        source_uid=holiday.uid,
                    )
                )
            elif found.source_uid == holiday.uid and found.name != holiday.name:
                found.name = holiday.name
                found.save(update_fields=["name"])
                result.renamed += 1
            else:
                result.unchanged += 1
        Holiday.objects.bulk_create(new_rows)
        result.added = len(new_rows)
    return result
