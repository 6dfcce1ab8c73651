"""/widget-demo/: the demo's pretend customer application embeds the widget under a strict policy and identifies
its signed-in customer with a server-made signature that Deskloop accepts."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from deskloop.channels.widget.identity import verify_identity
from deskloop.channels.widget.queries import widget_secret
from deskloop.demo.seed import seed_demo
from deskloop.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_without_a_demo_workspace_there_is_nothing() -> None:
    assert Client().get("/widget-demo/").status_code == 404


def test_the_demo_host_page_embeds_and_identifies_under_a_strict_policy() -> None:
    workspace = seed_demo(tickets=6).workspace
    page = Client().get("/widget-demo/")
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; script-src http://testserver; frame-src http://testserver;")
    html = page.content.decode()
    assert f'<script src="/widget.js" data-workspace="{workspace.slug}" async></script>' in html
    found = re.search(r'<script id="deskloop-identity" type="application/json">(.*?)</script>', html)
    assert found is not None
    claims = json.loads(found.group(1))
    identity = verify_identity(workspace_slug=workspace.slug, secret=widget_secret(workspace), raw=claims)
    # The customer it signs in has conversations to show.
    assert Ticket.objects.filter(workspace=workspace, requester__emails__email=identity.email).exists()
