"""The portal's story helpers: a customer asks for a sign-in link and follows it, as a browser would."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client

from deskloop.accounts.models import Workspace

LINK = re.compile(r"https?://\S+/portal/[\w-]+/signin/[\w-]+/")


def ask_for_link(client: Client, workspace: Workspace, email: str, capture: Any, next_path: str = "") -> Any:
    with capture(execute=True):
        return client.post(f"/portal/{workspace.slug}/signin/", {"email": email, "next": next_path})


def last_link(to: str) -> str:
    """The sign-in link of the latest mail sent to ``to`` (path only: the test client has no host)."""
    sent = [message for message in mail.outbox if to in message.to]
    assert sent, f"no mail to {to}"
    found = LINK.search(sent[-1].body)
    assert found is not None, sent[-1].body
    return "/" + found.group(0).split("/", 3)[3]


def signed_in(client: Client, workspace: Workspace, email: str, capture: Any) -> Client:
    ask_for_link(client, workspace, email, capture)
    response = client.post(last_link(email))
    assert response.status_code == 302, response.content
    return client
