"""Who the customer is, in the portal: a contact signed in by a magic link, per workspace.

An agent's sign-in (``request.user``) is a different thing and never makes anyone a contact. A contact's sign-in
lives in the Django session under a key of its own per workspace (``deskloop_portal:<workspace id>``), so being
signed in to one workspace's portal says nothing in another's. Signing in rotates the session key (a session
fixed by someone else before the link was used is worth nothing afterwards), and a sign-in is good for
``DESKLOOP_PORTAL_SESSION_SECONDS`` however active the session is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from deskloop.accounts.models import Workspace
from deskloop.channels.portal.queries import portal_workspace
from deskloop.core.policy import RoutePolicy, Tenancy, attach_policy
from deskloop.customers.models import Contact

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


class ContactRequest(HttpRequest):
    """An HttpRequest after ``contact_view`` let it through: a contact of the URL's workspace is signed in."""

    contact: Contact
    portal_workspace: Workspace


def _session_key(workspace: Workspace | int) -> str:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return f"deskloop_portal:{workspace_id}"


def sign_in_contact(request: HttpRequest, contact: Contact) -> None:
    """Make ``contact`` the signed-in customer of their workspace's portal in this browser."""
    request.session.cycle_key()
    request.session[_session_key(contact.workspace_id)] = {"contact": contact.pk, "at": int(time.time())}


def sign_out_contact(request: HttpRequest, workspace: Workspace) -> None:
    request.session.pop(_session_key(workspace), None)
    request.session.cycle_key()


def signed_in_contact(request: HttpRequest, workspace: Workspace) -> Contact | None:
    """The contact signed in to ``workspace``'s portal, or None (never signed in, expired, blocked, or gone)."""
    held = request.session.get(_session_key(workspace))
    if not isinstance(held, dict):
        return None
    contact_id, signed_in_at = held.get("contact"), held.get("at")
    contact = None
    if (
        isinstance(contact_id, int)
        and isinstance(signed_in_at, int)
        and int(time.time()) - signed_in_at <= settings.DESKLOOP_PORTAL_SESSION_SECONDS
    ):
        contact = (
            Contact.objects.select_related("organization")
            .filter(workspace=workspace, pk=contact_id, is_blocked=False)
            .first()
        )
    if contact is None:
        request.session.pop(_session_key(workspace), None)
    return contact


def sign_in_url(workspace: Workspace, next_path: str = "") -> str:
    url = reverse("portal:signin", kwargs={"slug": workspace.slug})
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def contact_view(view: ViewFunc) -> ViewFunc:
    """A portal page of the workspace named by the URL's ``slug``, for a contact signed in to it; anyone else
    (anonymous, an agent, a contact of another workspace) is sent to that portal's sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        workspace = portal_workspace(slug)
        contact = signed_in_contact(request, workspace)
        if contact is None:
            next_path = request.get_full_path() if request.method == "GET" else ""
            return redirect(sign_in_url(workspace, next_path))
        request.contact = contact  # type: ignore[attr-defined]
        request.portal_workspace = workspace  # type: ignore[attr-defined]
        return view(request, slug, *args, **kwargs)

    return cast(ViewFunc, attach_policy(wrapper, RoutePolicy(tenancy=Tenancy.CONTACT, roles=frozenset())))
