"""Every route declares who may call it. The access-matrix test fails on a route without a policy.

A policy names the tenancy rule (public, or scoped to the caller's workspace) and the roles allowed.
The same ``RoutePolicy`` value is attached to Django views (``view.route_policy``) and to API operations,
so one test can walk both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar


class Tenancy(StrEnum):
    PUBLIC = "public"  # no sign-in; must not reveal workspace data (login, health, signed links)
    AUTHENTICATED = "authenticated"  # signed in, but not yet inside a workspace (workspace picker)
    WORKSPACE = "workspace"  # signed-in agent of the current workspace; objects resolved inside it
    # A customer (contact) signed in to the workspace named by the URL, by a magic link (channels.portal); an agent's
    # sign-in does not count, and objects are resolved inside what that contact may see.
    CONTACT = "contact"


@dataclass(frozen=True)
class RoutePolicy:
    tenancy: Tenancy
    roles: frozenset[str]
    # Roles that may read but whose writes are refused (viewer, light agent on public replies).
    description: str = ""


F = TypeVar("F", bound=Callable[..., Any])


def attach_policy(func: F, policy: RoutePolicy) -> F:
    func.route_policy = policy  # type: ignore[attr-defined]
    return func


def policy_of(func: Any) -> RoutePolicy | None:
    seen: set[int] = set()
    while func is not None and id(func) not in seen:
        seen.add(id(func))
        found = getattr(func, "route_policy", None)
        if isinstance(found, RoutePolicy):
            return found
        func = getattr(func, "__wrapped__", None) or getattr(func, "view_class", None)
    return None
