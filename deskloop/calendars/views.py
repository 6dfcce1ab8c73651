"""Business calendar settings for admins: the list, the weekly hours editor, holidays by hand and from .ics."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.calendars import queries, services
from deskloop.calendars.business_time import is_open, next_open_at
from deskloop.calendars.forms import CalendarForm, HolidayForm, HolidayImportForm, initial_for
from deskloop.calendars.models import BusinessCalendar
from deskloop.core.refusals import refusal


def _fields(form: CalendarForm) -> services.CalendarFields:
    return services.CalendarFields(
        name=form.cleaned_data["name"],
        time_zone=form.cleaned_data["time_zone"],
        weekly_hours=form.weekly_hours(),
        is_default=form.cleaned_data["is_default"],
    )


@agent_view(roles=ADMIN_ROLES)
@require_GET
def calendar_list(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "calendars/calendar_list.html",
        {"calendars": queries.calendars_of_workspace(request.agent.workspace_id)},
    )


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def calendar_create(request: AgentRequest) -> HttpResponse:
    weekdays = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]
    form = CalendarForm(
        request.POST or None, initial=initial_for("", request.agent.workspace.time_zone, False, weekdays)
    )
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            calendar = services.create_calendar(actor=request.agent, fields=_fields(form))
            messages.success(request, _("Calendar created."))
            return redirect("calendars:calendar", calendar_id=calendar.pk)
    return render(request, "calendars/calendar_form.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request: AgentRequest, calendar: BusinessCalendar, **forms: object) -> dict[str, object]:
    now = timezone.now()
    schedule = calendar.schedule()
    return {
        "calendar": calendar,
        "holidays": queries.holidays_of(calendar),
        "is_open_now": is_open(schedule, now),
        "next_open_at": next_open_at(schedule, now),
        "holiday_form": forms.get("holiday_form") or HolidayForm(),
        "import_form": forms.get("import_form") or HolidayImportForm(),
        **{key: value for key, value in forms.items() if key == "form"},
    }


@agent_view(roles=ADMIN_ROLES)
@require_http_methods(["GET", "POST"])
def calendar_detail(request: AgentRequest, calendar_id: int) -> HttpResponse:
    calendar = queries.get_calendar_for_agent(request.agent, calendar_id)
    initial = initial_for(calendar.name, calendar.time_zone, calendar.is_default, calendar.weekly_hours)
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.update_calendar(actor=request.agent, calendar=calendar, fields=_fields(form))
            messages.success(request, _("Calendar saved."))
            return redirect("calendars:calendar", calendar_id=calendar.pk)
    calendar.refresh_from_db()
    return render(
        request,
        "calendars/calendar_detail.html",
        _detail(request, calendar, form=form),
        status=400 if form.errors else 200,
    )


@agent_view(roles=ADMIN_ROLES)
@require_POST
def calendar_delete(request: AgentRequest, calendar_id: int) -> HttpResponse:
    calendar = queries.get_calendar_for_agent(request.agent, calendar_id)
    with refusal() as refused:
        services.delete_calendar(actor=request.agent, calendar=calendar)
        messages.success(request, _("Calendar deleted."))
        return redirect("calendars:calendars")
    return refused.redirect(request, "calendars:calendar", calendar_id=calendar.pk)


@agent_view(roles=ADMIN_ROLES)
@require_POST
def holiday_add(request: AgentRequest, calendar_id: int) -> HttpResponse:
    calendar = queries.get_calendar_for_agent(request.agent, calendar_id)
    form = HolidayForm(request.POST)
    if form.is_valid():
        with refusal(form):
            services.add_holiday(
                actor=request.agent, calendar=calendar, date=form.cleaned_data["date"], name=form.cleaned_data["name"]
            )
            messages.success(request, _("Holiday added."))
            return redirect("calendars:calendar", calendar_id=calendar.pk)
    form_for_page = CalendarForm(
        initial=initial_for(calendar.name, calendar.time_zone, calendar.is_default, calendar.weekly_hours)
    )
    context = _detail(request, calendar, form=form_for_page, holiday_form=form)
    return render(request, "calendars/calendar_detail.html", context, status=400)


@agent_view(roles=ADMIN_ROLES)
@require_POST
def holiday_remove(request: AgentRequest, calendar_id: int, holiday_id: int) -> HttpResponse:
    calendar = queries.get_calendar_for_agent(request.agent, calendar_id)
    holiday = queries.get_holiday_for_agent(request.agent, calendar, holiday_id)
    services.remove_holiday(actor=request.agent, holiday=holiday)
    messages.success(request, _("Holiday removed."))
    return redirect("calendars:calendar", calendar_id=calendar.pk)


@agent_view(roles=ADMIN_ROLES)
@require_POST
def holiday_import(request: AgentRequest, calendar_id: int) -> HttpResponse:
    calendar = queries.get_calendar_for_agent(request.agent, calendar_id)
    form = HolidayImportForm(request.POST, request.FILES)
    if form.is_valid():
        with refusal(form):
            result = services.import_holidays(actor=request.agent, calendar=calendar, content=form.cleaned_data["file"])
            messages.success(
                request,
                ngettext(
                    "%(added)d holiday added, %(renamed)d renamed, %(removed)d removed, %(unchanged)d unchanged.",
                    "%(added)d holidays added, %(renamed)d renamed, %(removed)d removed, %(unchanged)d unchanged.",
                    result.added,
                )
                % {
                    "added": result.added,
                    "renamed": result.renamed,
                    "removed": result.removed,
                    "unchanged": result.unchanged,
                },
            )
            for label, reason in result.skipped[:20]:
                messages.warning(
                    request, _("Not imported: %(event)s (%(reason)s).") % {"event": label, "reason": reason}
                )
            return redirect("calendars:calendar", calendar_id=calendar.pk)
    form_for_page = CalendarForm(
        initial=initial_for(calendar.name, calendar.time_zone, calendar.is_default, calendar.weekly_hours)
    )
    context = _detail(request, calendar, form=form_for_page, import_form=form)
    return render(request, "calendars/calendar_detail.html", context, status=400)
