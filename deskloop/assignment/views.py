"""Routing pages: every agent's availability toggle (top bar) and the team's availability list; the routing
settings for admins (each team's mode and hand-on delay, each agent's shift calendar and capacity)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES
from deskloop.assignment import queries, services
from deskloop.assignment.forms import AgentScheduleForm, AvailabilityForm, TeamRoutingForm
from deskloop.calendars.queries import calendar_choices, get_calendar_for_agent
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal


def _toggle(request: AgentRequest, status: int = 200, error: str = "") -> HttpResponse:
    schedule = queries.schedule_for(request.agent)
    form = AvailabilityForm(initial={"availability": schedule.availability})
    return render(
        request,
        "assignment/_availability_toggle.html",
        {"availability_form": form, "availability": schedule.get_availability_display(), "error": error},
        status=status,
    )


@agent_view(roles=ALL_ROLES)
@require_http_methods(["GET", "POST"])
def my_availability(request: AgentRequest) -> HttpResponse:
    """The top bar's toggle: GET renders it (htmx loads it after the page), POST sets it."""
    if request.method == "GET":
        return _toggle(request)
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        if is_htmx(request):
            return _toggle(request, 422, _("Choose online, away or offline."))
        messages.error(request, _("Choose online, away or offline."))
        return redirect("assignment:availability")
    services.set_availability(agent=request.agent, availability=form.cleaned_data["availability"])
    if is_htmx(request):
        return _toggle(request)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("assignment:availability")


@agent_view(roles=ALL_ROLES)
@require_GET
def availability_list(request: AgentRequest) -> HttpResponse:
    return render(
        request,
        "assignment/availability_list.html",
        {"rows": queries.availability_of_agents(request.agent.workspace_id, timezone.now())},
    )


@agent_view(roles=ADMIN_ROLES)
@require_GET
def routing_settings(request: AgentRequest) -> HttpResponse:
    workspace_id = request.agent.workspace_id
    routings = queries.routing_by_team(workspace_id)
    choices = calendar_choices(workspace_id)
    teams = [
        (
            team,
            TeamRoutingForm(
                prefix=f"team{team.pk}",
                initial={
                    "mode": routings[team.pk].mode if team.pk in routings else "manual",
                    "reassign_after_minutes": routings[team.pk].reassign_after_minutes if team.pk in routings else None,
                },
            ),
        )
        for team in queries.teams_with_routing(workspace_id)
    ]
    agents = [
        (
            row,
            AgentScheduleForm(
                prefix=f"agent{row.agent.pk}",
                calendar_choices=choices,
                initial={"calendar": row.calendar.pk if row.calendar else "", "capacity": row.capacity},
            ),
        )
        for row in queries.availability_of_agents(workspace_id, timezone.now())
    ]
    return render(request, "assignment/routing_settings.html", {"teams": teams, "agents": agents})


@agent_view(roles=ADMIN_ROLES)
@require_POST
def team_routing_save(request: AgentRequest, team_id: int) -> HttpResponse:
    team = queries.get_team_for_routing(request.agent, team_id)
    form = TeamRoutingForm(request.POST, prefix=f"team{team.pk}")
    if not form.is_valid():
        messages.error(request, _("%(team)s: %(errors)s") % {"team": team.name, "errors": _errors(form)})
        return redirect("routing_settings:routing")
    with refusal() as refused:
        services.configure_team_routing(
            actor=request.agent,
            team=team,
            mode=form.cleaned_data["mode"],
            reassign_after_minutes=form.cleaned_data["reassign_after_minutes"],
        )
        messages.success(request, _("Routing of %(team)s saved.") % {"team": team.name})
        return redirect("routing_settings:routing")
    return refused.redirect(request, "routing_settings:routing")


@agent_view(roles=ADMIN_ROLES)
@require_POST
def agent_schedule_save(request: AgentRequest, agent_id: int) -> HttpResponse:
    agent = queries.get_agent_for_routing(request.agent, agent_id)
    form = AgentScheduleForm(
        request.POST, prefix=f"agent{agent.pk}", calendar_choices=calendar_choices(request.agent.workspace_id)
    )
    if not form.is_valid():
        messages.error(request, _("%(agent)s: %(errors)s") % {"agent": agent.name, "errors": _errors(form)})
        return redirect("routing_settings:routing")
    calendar_id = form.cleaned_data["calendar"]
    calendar = get_calendar_for_agent(request.agent, calendar_id) if calendar_id else None
    with refusal() as refused:
        services.update_agent_schedule(
            actor=request.agent, agent=agent, calendar=calendar, capacity=form.cleaned_data["capacity"]
        )
        messages.success(request, _("Shifts of %(agent)s saved.") % {"agent": agent.name})
        return redirect("routing_settings:routing")
    return refused.redirect(request, "routing_settings:routing")


def _errors(form: TeamRoutingForm | AgentScheduleForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
