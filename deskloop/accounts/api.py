"""API authentication (bearer tokens) and the read-only agents and teams endpoints."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.security import HttpBearer

from deskloop.accounts.models import ALL_ROLES, Agent, Team
from deskloop.accounts.schemas import AgentPage, MeOut, TeamPage
from deskloop.accounts.services import authenticate_api_token
from deskloop.core.api_support import (
    ApiCaller,
    ApiProblem,
    CursorPage,
    PageQuery,
    api_policy,
    enforce_rate_limit,
    keyset_page,
    problems,
)

_CALLER_ATTRIBUTE = "_deskloop_api_caller"


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer dl_...``: the token fixes the workspace and the agent; every call is rate limited."""

    def __call__(self, request: HttpRequest) -> ApiCaller:
        # The route guard authenticates before ninja does; the second pass must not query or count again.
        cached = getattr(request, _CALLER_ATTRIBUTE, None)
        if isinstance(cached, ApiCaller):
            return cached
        scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiProblem(
                401,
                "not_authenticated",
                _("Send your API token in the Authorization header: “Bearer dl_…”."),
                headers={"WWW-Authenticate": 'Bearer realm="deskloop"'},
            )
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller:
        found = authenticate_api_token(token)
        if found is None:
            raise ApiProblem(
                401,
                "invalid_token",
                _("This API token is not valid or has been revoked."),
                headers={"WWW-Authenticate": 'Bearer realm="deskloop", error="invalid_token"'},
            )
        agent = found.agent
        caller = ApiCaller(
            token_id=found.pk,
            workspace_id=found.workspace_id,
            role=agent.role,
            rate_key=f"{found.pk}:{found.prefix}",
            agent=agent,
        )
        enforce_rate_limit(caller)
        setattr(request, _CALLER_ATTRIBUTE, caller)
        return caller


def caller_agent(request: HttpRequest) -> Agent:
    """The agent whose token authenticated this request (its workspace is loaded with it)."""
    found = getattr(request, "auth", None)
    if not isinstance(found, ApiCaller) or not isinstance(found.agent, Agent):
        raise ApiProblem(401, "not_authenticated", _("Send your API token in the Authorization header."))
    return found.agent


router = Router(tags=["agents"])


@router.get("/me", response={200: MeOut, **problems(401, 429)}, summary="The calling agent and its workspace")
@api_policy(ALL_ROLES)
def me(request: HttpRequest) -> dict[str, object]:
    agent = caller_agent(request)
    return {"agent": agent, "workspace": agent.workspace}


@router.get("/agents", response={200: AgentPage, **problems(401, 422, 429)}, summary="List agents")
@api_policy(ALL_ROLES)
def list_agents(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    agents = Agent.objects.filter(workspace_id=agent.workspace_id).select_related("user").prefetch_related("teams")
    return keyset_page(agents, cursor=page.cursor, limit=page.limit)


@router.get("/teams", response={200: TeamPage, **problems(401, 422, 429)}, summary="List teams")
@api_policy(ALL_ROLES)
def list_teams(request: HttpRequest, page: Query[PageQuery]) -> CursorPage:
    agent = caller_agent(request)
    teams = Team.objects.filter(workspace_id=agent.workspace_id).prefetch_related("members")
    return keyset_page(teams, cursor=page.cursor, limit=page.limit)


__all__ = ["ApiTokenAuth", "caller_agent", "router"]
