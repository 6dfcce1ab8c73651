"""Reads of the in-app widget, each scoped to the workspace the URL names: its widget secret, the request session
and the contact a widget pass names. What a contact may read (their tickets, public replies, public articles) is
the portal's rule, read through ``channels.portal.queries``: one rule for both places a customer reads from."""

from __future__ import annotations

from django.http import Http404

from deskloop.accounts.models import Workspace
from deskloop.customers.models import Contact
from deskloop.knowledge.models import HelpCenter, RequestSession


def workspace_by_slug(slug: str) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise Http404
    return workspace


def widget_secret(workspace: Workspace) -> str:
    found = HelpCenter.objects.filter(workspace=workspace).values_list("widget_secret", flat=True).first()
    return found or ""


def request_session(workspace: Workspace, key: str) -> RequestSession | None:
    try:
        return RequestSession.objects.filter(workspace=workspace, key=key).first()
    except ValueError:  # not a UUID: a pass from before a reset, never a crash
        return None


def contact_in_workspace(workspace: Workspace, contact_id: int | None) -> Contact | None:
    """The contact a pass names, unless blocked since (then the visitor is anonymous again, as in the portal)."""
    if contact_id is None:
        return None
    return (
        Contact.objects.select_related("organization")
        .filter(workspace=workspace, pk=contact_id, is_blocked=False)
        .first()
    )
