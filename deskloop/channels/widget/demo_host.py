"""``/widget-demo/``: a pretend customer application that embeds the widget, so a newcomer sees it work.

Which workspace it shows is the demo's to say: the demo app registers its finder here from its ``ready()``
(``register_demo_workspace``), as apps above register settings screens, so the widget never imports the demo."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from deskloop.accounts.access import public_view
from deskloop.accounts.models import Workspace
from deskloop.channels.widget import queries
from deskloop.channels.widget.identity import sign_identity


@dataclass(frozen=True)
class DemoVisitor:
    """The demo workspace and the customer the pretend application says is signed in."""

    workspace: Workspace
    user_id: str
    email: str
    name: str


_finders: list[Callable[[], DemoVisitor | None]] = []


def register_demo_visitor(finder: Callable[[], DemoVisitor | None]) -> None:
    """Called by the demo app's ``ready()``; the last registration wins (tests may register their own)."""
    _finders.append(finder)


def demo_host_policy(origin: str) -> str:
    """What a careful host application sends: scripts and frames from Deskloop only, no inline anything."""
    return f"default-src 'none'; script-src {origin}; frame-src {origin}; style-src {origin}; img-src {origin}; base-uri 'none'"


@public_view
@require_GET
def demo_host(request: HttpRequest) -> HttpResponse:
    """A pretend customer application that embeds the demo workspace's widget and identifies its signed-in customer
    with a signature made here, on the server, as a real host application would. Without a demo workspace there is
    nothing to show (404), so a production installation exposes nothing here."""
    visitor = _finders[-1]() if _finders else None
    if visitor is None:
        raise Http404
    workspace = visitor.workspace
    secret = queries.widget_secret(workspace)
    claims = {
        "user_id": visitor.user_id,
        "email": visitor.email,
        "name": visitor.name,
        "timestamp": str(int(time.time())),
    }
    identity = (
        {**claims, "signature": sign_identity(secret=secret, workspace_slug=workspace.slug, claims=claims)}
        if secret
        else None
    )
    origin = request.build_absolute_uri("/").rstrip("/")
    response = render(request, "widget/demo_host.html", {"workspace": workspace, "identity": identity})
    response["Content-Security-Policy"] = demo_host_policy(origin)
    return response
