"""Who is calling, in which workspace, and whether their role allows the route.

The session holds one current workspace; ``request.agent`` is the caller's membership in it. Views
declare their policy with ``agent_view(roles=...)`` or ``public_view``; the access-matrix test reads it.
Services check the role again with ``require_role`` (the same service is reached from the UI, the API, channels
and commands): the one role guard, each refusal message a constant of the module that refuses.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.models import ADMIN_ROLES, ALL_ROLES, NOTE_ROLES, WRITER_ROLES, Agent, Role, User
from deskloop.core import errors
from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy

SESSION_WORKSPACE_KEY = "deskloop_workspace_id"

ADMINS_ONLY = gettext_noop("Only admins and owners can change this.")


class Capability(enum.Enum):
    """What a role may do in its workspace; ``CAPABILITY_ROLES`` says which roles have it."""

    OWN = "own"  # owners: what opens the workspace to the outside (private webhook targets)
    ADMIN = "admin"  # owners and admins: settings, people, configuration
    WRITE = "write"  # and agents: change tickets, reply to customers, edit contacts
    NOTE = "note"  # and light agents: internal notes


CAPABILITY_ROLES: dict[Capability, frozenset[str]] = {
    Capability.OWN: frozenset({Role.OWNER.value}),
    Capability.ADMIN: ADMIN_ROLES,
    Capability.WRITE: WRITER_ROLES,
    Capability.NOTE: NOTE_ROLES,
}


def require_role(agent: Agent, capability: Capability, message: str) -> None:
    """Refuse (``PermissionDenied``, 403) unless the agent's role has the capability.

    ``message`` is the refusing module's constant, marked with ``gettext_noop``; it is translated here, at raise
    time, in the caller's language.
    """
    if agent.role not in CAPABILITY_ROLES[capability]:
        raise errors.PermissionDenied(_(message))


def require_admin(agent: Agent, message: str = ADMINS_ONLY) -> None:
    require_role(agent, Capability.ADMIN, message)


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


class AgentRequest(HttpRequest):
    """An HttpRequest after ``agent_view`` let it through: the caller is an active agent of a workspace."""

    agent: Agent
    user: User


def resolve_agent(request: HttpRequest) -> Agent | None:
    """The caller's active membership in the session's workspace, or their only one."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Agent.objects.select_related("workspace", "user").filter(user_id=user.pk, is_active=True)
    workspace_id = request.session.get(SESSION_WORKSPACE_KEY)
    if workspace_id is not None:
        agent = memberships.filter(workspace_id=workspace_id).first()
        if agent is not None:
            return agent
    candidates = list(memberships[:2])
    if len(candidates) == 1:
        request.session[SESSION_WORKSPACE_KEY] = candidates[0].workspace_id
        return candidates[0]
    return None


def agent_view(roles: Iterable[str] = ALL_ROLES, *, description: str = "") -> Callable[[ViewFunc], ViewFunc]:
    """Allow signed-in agents of the current workspace whose role is in ``roles``; 403 for other roles."""
    allowed = frozenset(roles)
    policy = RoutePolicy(tenancy=Tenancy.WORKSPACE, roles=allowed, description=description)

    def decorate(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            agent = getattr(request, "agent", None) or resolve_agent(request)
            if agent is None:
                return redirect("accounts:choose_workspace")
            # Known before the role check, so the 403 page shows the agent's own layout (and its way back).
            request.agent = agent  # type: ignore[attr-defined]
            if agent.role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(ViewFunc, attach_policy(wrapper, policy))

    return decorate


def signed_in_view(view: ViewFunc) -> ViewFunc:
    """Signed in, not necessarily inside a workspace yet (choosing one, own profile)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return cast(ViewFunc, attach_policy(wrapper, RoutePolicy(tenancy=Tenancy.AUTHENTICATED, roles=ALL_ROLES)))


def public_view(view: ViewFunc) -> ViewFunc:
    """Open to anyone; such a view must not show workspace data."""
    return attach_policy(view, RoutePolicy(tenancy=Tenancy.PUBLIC, roles=frozenset()))
