"""Settings screens about people, for admins and owners: agents (roles, deactivation, their tokens),
invitations and teams.

A refused action renders the screen again with the reason at the top and the status of the error (403, 404,
422), so nothing changes silently and the reason is visible without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts import queries, services
from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.forms import InvitationForm, RoleForm, TeamForm, TeamMembersForm
from deskloop.accounts.models import ADMIN_ROLES, Agent, Role, Team
from deskloop.core.refusals import refusal


# ---- agents ------------------------------------------------------------------------------------------------------
def _render_agent(request: AgentRequest, agent: Agent, *, error: str = "", status: int = 200) -> HttpResponse:
    actor = request.agent
    roles = [(value, label) for value, label in Role.choices if value != Role.OWNER or actor.role == Role.OWNER]
    # An admin sees an owner's role but cannot change it (only owners change owners).
    can_manage = actor.role == Role.OWNER or agent.role != Role.OWNER
    return render(
        request,
        "accounts/settings/agent_detail.html",
        {
            "member": agent,
            "roles": roles,
            "can_manage": can_manage,
            "is_self": agent.pk == actor.pk,
            "member_tokens": queries.tokens_of_agent(agent),
            "error": error,
        },
        status=status,
    )


@agent_view(ADMIN_ROLES, description="Everyone in the workspace with their role and teams")
@require_GET
def agents(request: AgentRequest) -> HttpResponse:
    return render(
        request, "accounts/settings/agents.html", {"members": queries.agents_of_workspace(request.agent.workspace_id)}
    )


@agent_view(ADMIN_ROLES, description="One agent: role, active state, teams and API tokens")
@require_GET
def agent_detail(request: AgentRequest, agent_id: int) -> HttpResponse:
    return _render_agent(request, queries.get_agent_for_admin(request.agent, agent_id))


@agent_view(ADMIN_ROLES, description="Change an agent's role (owners only change owners; one owner must remain)")
@require_POST
def agent_role(request: AgentRequest, agent_id: int) -> HttpResponse:
    agent = queries.get_agent_for_admin(request.agent, agent_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render_agent(request, agent, error=_("Choose one of the roles."), status=422)
    with refusal() as refused:
        services.set_agent_role(actor=request.agent, agent=agent, role=form.cleaned_data["role"])
        messages.success(
            request, _("%(name)s is now %(role)s.") % {"name": agent.name, "role": agent.get_role_display().lower()}
        )
        return redirect("settings:agent", agent_id=agent.pk)
    agent.refresh_from_db()
    return _render_agent(request, agent, error=refused.message, status=refused.status)


@agent_view(ADMIN_ROLES, description="Deactivate or reactivate an agent")
@require_POST
def agent_active(request: AgentRequest, agent_id: int) -> HttpResponse:
    agent = queries.get_agent_for_admin(request.agent, agent_id)
    active = request.POST.get("active") == "1"
    with refusal() as refused:
        services.set_agent_active(actor=request.agent, agent=agent, active=active)
        if active:
            messages.success(request, _("%(name)s can sign in to this workspace again.") % {"name": agent.name})
        else:
            messages.success(request, _("%(name)s was deactivated.") % {"name": agent.name})
        return redirect("settings:agent", agent_id=agent.pk)
    return _render_agent(request, agent, error=refused.message, status=refused.status)


# ---- invitations -------------------------------------------------------------------------------------------------
def _render_invitations(
    request: AgentRequest, form: InvitationForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    open_invitations = queries.open_invitations(request.agent.workspace_id)
    rows = [(invitation, services.invitation_state(invitation)) for invitation in open_invitations]
    return render(
        request,
        "accounts/settings/invitations.html",
        {"form": form, "rows": rows, "error": error, "invitation_days": services.INVITATION_DAYS},
        status=status,
    )


@agent_view(ADMIN_ROLES, description="Invite people by email; list, resend and revoke open invitations")
@require_http_methods(["GET", "POST"])
def invitations(request: AgentRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None, actor=request.agent)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            invitation, _secret = services.invite_agent(
                actor=request.agent, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
            )
            messages.success(request, _("An invitation was emailed to %(email)s.") % {"email": invitation.email})
            return redirect("settings:invitations")
    return _render_invitations(request, form, status=422 if form.errors else 200)


@agent_view(ADMIN_ROLES, description="Email a fresh link for an open invitation")
@require_POST
def invitation_resend(request: AgentRequest, invitation_id: int) -> HttpResponse:
    invitation = queries.get_invitation_for_admin(request.agent, invitation_id)
    with refusal() as refused:
        services.resend_invitation(actor=request.agent, invitation=invitation)
        messages.success(request, _("A new invitation link was emailed to %(email)s.") % {"email": invitation.email})
        return redirect("settings:invitations")
    form = InvitationForm(actor=request.agent)
    return _render_invitations(request, form, error=refused.message, status=refused.status)


@agent_view(ADMIN_ROLES, description="Withdraw an open invitation")
@require_POST
def invitation_revoke(request: AgentRequest, invitation_id: int) -> HttpResponse:
    invitation = queries.get_invitation_for_admin(request.agent, invitation_id)
    with refusal() as refused:
        services.revoke_invitation(actor=request.agent, invitation=invitation)
        messages.success(request, _("The invitation for %(email)s was withdrawn.") % {"email": invitation.email})
        return redirect("settings:invitations")
    form = InvitationForm(actor=request.agent)
    return _render_invitations(request, form, error=refused.message, status=refused.status)


# ---- teams -------------------------------------------------------------------------------------------------------
@agent_view(ADMIN_ROLES, description="Teams of the workspace; create a team")
@require_http_methods(["GET", "POST"])
def teams(request: AgentRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            team = services.create_team(
                workspace=request.agent.workspace, name=form.cleaned_data["name"], actor=request.agent
            )
            messages.success(request, _("Team “%(name)s” created. Now add its members.") % {"name": team.name})
            return redirect("settings:team", team_id=team.pk)
    return render(
        request,
        "accounts/settings/teams.html",
        {"form": form, "teams": queries.teams_of_workspace(request.agent.workspace_id)},
        status=422 if form.errors else 200,
    )


def _render_team(
    request: AgentRequest,
    team: Team,
    *,
    form: TeamForm | None = None,
    members_form: TeamMembersForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    candidates = list(queries.agents_of_workspace(request.agent.workspace_id))
    return render(
        request,
        "accounts/settings/team_detail.html",
        {
            "team": team,
            "form": form or TeamForm(initial={"name": team.name}),
            "members_form": members_form
            or TeamMembersForm(agents=candidates, initial={"members": [m.pk for m in team.members.all()]}),
            "other_teams": [t for t in queries.teams_of_workspace(request.agent.workspace_id) if t.pk != team.pk],
            "error": error,
        },
        status=status,
    )


@agent_view(ADMIN_ROLES, description="Rename a team")
@require_http_methods(["GET", "POST"])
def team_detail(request: AgentRequest, team_id: int) -> HttpResponse:
    team = queries.get_team_for_admin(request.agent, team_id)
    if request.method == "GET":
        return _render_team(request, team)
    form = TeamForm(request.POST)
    if form.is_valid():
        with refusal(form):
            services.rename_team(actor=request.agent, team=team, name=form.cleaned_data["name"])
            messages.success(request, _("Team renamed."))
            return redirect("settings:team", team_id=team.pk)
        team.refresh_from_db()
    return _render_team(request, team, form=form, status=422)


@agent_view(ADMIN_ROLES, description="Choose a team's members")
@require_POST
def team_members(request: AgentRequest, team_id: int) -> HttpResponse:
    team = queries.get_team_for_admin(request.agent, team_id)
    candidates = list(queries.agents_of_workspace(request.agent.workspace_id))
    form = TeamMembersForm(request.POST, agents=candidates)
    if not form.is_valid():
        return _render_team(request, team, members_form=form, error=_("Choose members from the list."), status=422)
    chosen = set(form.cleaned_data["members"])
    with refusal() as refused:
        services.set_team_members(actor=request.agent, team=team, members=[a for a in candidates if a.pk in chosen])
        messages.success(request, _("Members of %(team)s saved.") % {"team": team.name})
        return redirect("settings:team", team_id=team.pk)
    return _render_team(request, team, members_form=form, error=refused.message, status=refused.status)
