"""``/widget.js``, the one script a host application adds, and ``/widget-demo/``, a host page that embeds it.

The loader is a static file served from a view so that it answers at the root (the documented tag is
``<script src="https://<host>/widget.js" ...>``) with its labels in every language the panel speaks; it changes
only with a deploy, so browsers and proxies may keep it for an hour.
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from deskloop.accounts.access import public_view
from deskloop.channels.widget import queries
from deskloop.channels.widget.identity import sign_identity
from deskloop.knowledge.models import ARTICLE_LOCALES

LOADER_FILE = Path(__file__).parent / "static" / "widget" / "loader.js"
LOADER_MAX_AGE = 3600
DEMO_USER = {"user_id": "demo-42", "email": "dana@demo-customer.example", "name": "Dana Demo"}


def _labels() -> dict[str, dict[str, str]]:
    labels = {}
    for locale in ARTICLE_LOCALES:
        with translation.override(locale):
            labels[locale] = {"open": _("Help"), "close": _("Close help"), "panel": _("Help and support")}
    return labels


@cache
def _loader_source() -> str:
    # Read once per process: the file changes only with a deploy.
    return LOADER_FILE.read_text(encoding="utf-8").replace("__LABELS__", json.dumps(_labels(), ensure_ascii=False))


@public_view
@require_GET
def loader(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_loader_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def demo_host_policy(origin: str) -> str:
    """What a careful host application sends: scripts and frames from Deskloop only, no inline anything."""
    return f"default-src 'none'; script-src {origin}; frame-src {origin}; style-src {origin}; img-src {origin}; base-uri 'none'"


@public_view
@require_GET
def demo_host(request: HttpRequest) -> HttpResponse:
    """A pretend customer application that embeds the widget of the demo workspace (or, in DEBUG, of
    ``?workspace=<slug>``) and identifies its signed-in user with a signature made here, on the server, as a real
    host application would. Without a demo workspace (or in production for any other), there is nothing to show."""
    from deskloop.demo.seed import demo_workspace

    requested = request.GET.get("workspace", "") if settings.DEBUG else ""
    workspace = queries.workspace_by_slug(requested) if requested else demo_workspace()
    if workspace is None:
        raise Http404
    secret = queries.widget_secret(workspace)
    claims = {**DEMO_USER, "timestamp": str(int(time.time()))}
    identity = (
        {**claims, "signature": sign_identity(secret=secret, workspace_slug=workspace.slug, claims=claims)}
        if secret
        else None
    )
    origin = request.build_absolute_uri("/").rstrip("/")
    response = render(request, "widget/demo_host.html", {"workspace": workspace, "identity": identity})
    response["Content-Security-Policy"] = demo_host_policy(origin)
    return response
