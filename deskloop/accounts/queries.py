"""Reads for the settings screens, each scoped to the caller's workspace (another workspace's rows are 404)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from deskloop.accounts.models import Agent, ApiToken, Invitation, Team, User, Workspace


def agents_of_workspace(workspace_id: int) -> QuerySet[Agent]:
    """Everyone in the workspace, active first, by name; with their user and teams loaded."""
    return (
        Agent.objects.filter(workspace_id=workspace_id)
        .select_related("user")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("-is_active", "user__name", "user__email")
    )


def active_agent_choices(workspace_id: int) -> list[tuple[int, str]]:
    """The workspace's active agents as (id, name) choices by name: owners of organizations, segments and product
    areas are picked from these."""
    agents = Agent.objects.filter(workspace_id=workspace_id, is_active=True).select_related("user")
    return sorted(((agent.pk, agent.name) for agent in agents), key=lambda choice: choice[1].lower())


def get_agent_for_admin(actor: Agent, agent_id: int) -> Agent:
    agent = agents_of_workspace(actor.workspace_id).filter(pk=agent_id).first()
    if agent is None:
        raise Http404("No such agent")
    return agent


def tokens_of_agent(agent: Agent) -> list[ApiToken]:
    """The agent's tokens, active ones first, newest first."""
    return list(ApiToken.objects.filter(agent=agent).order_by("revoked_at", "-created_at", "-id"))


def active_tokens_of_others(actor: Agent) -> list[ApiToken]:
    """Active tokens of the other agents of the workspace (what an admin looks after)."""
    return list(
        ApiToken.objects.filter(workspace_id=actor.workspace_id, revoked_at__isnull=True)
        .exclude(agent=actor)
        .select_related("agent__user")
        .order_by("agent__user__name", "-created_at", "-id")
    )


def get_token_for_agent(actor: Agent, token_id: int) -> ApiToken:
    """The caller's own token, or (for admins) any token of their workspace; otherwise 404."""
    tokens = ApiToken.objects.filter(workspace_id=actor.workspace_id)
    if not actor.is_admin:
        tokens = tokens.filter(agent=actor)
    token = tokens.select_related("agent__user").filter(pk=token_id).first()
    if token is None:
        raise Http404("No such token")
    return token


def open_invitations(workspace_id: int) -> list[Invitation]:
    """Invitations not yet accepted or revoked, expired ones included (they can be resent), newest first."""
    return list(
        Invitation.objects.filter(workspace_id=workspace_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by__user")
        .order_by("-created_at", "-id")
    )


def get_invitation_for_admin(actor: Agent, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(workspace_id=actor.workspace_id, pk=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


def teams_of_workspace(workspace_id: int) -> QuerySet[Team]:
    return (
        Team.objects.filter(workspace_id=workspace_id)
        .annotate(member_count=Count("members", distinct=True))
        .prefetch_related(Prefetch("members", queryset=Agent.objects.select_related("user").order_by("user__name")))
        .order_by("name")
    )


def get_team_for_admin(actor: Agent, team_id: int) -> Team:
    team = teams_of_workspace(actor.workspace_id).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team")
    return team


def user_with_email_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def signup_open() -> bool:
    """Whether the sign-up page may create a workspace: on a fresh installation (no workspace yet), for its first
    owner; on a running one only when the operator opened it (DESKLOOP_OPEN_SIGNUP), so nobody else can."""
    return bool(settings.OPEN_SIGNUP) or not Workspace.objects.exists()
