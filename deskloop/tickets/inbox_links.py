"""Links in the inbox sidebar to pages of the apps above tickets (a channel's refused mail), registered by those
apps in ``AppConfig.ready()`` the way settings screens are, so tickets names nothing above it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise

from deskloop.accounts.access import CAPABILITY_ROLES, Capability
from deskloop.accounts.models import Agent


@dataclass(frozen=True)
class InboxLink:
    url_name: str
    label: Promise
    # The capability needed to see the link (the page checks it again); None: every agent.
    capability: Capability | None
    order: int


@dataclass(frozen=True)
class ShownLink:
    url: str
    label: str


_links: dict[str, InboxLink] = {}


def register_inbox_link(link: InboxLink) -> None:
    """Show ``link`` in the inbox sidebar. Registering a URL name again replaces it (``ready()`` may run twice)."""
    _links[link.url_name] = link


def inbox_links_for(agent: Agent) -> list[ShownLink]:
    visible = (
        link for link in _links.values() if link.capability is None or agent.role in CAPABILITY_ROLES[link.capability]
    )
    return [ShownLink(reverse(link.url_name), str(link.label)) for link in sorted(visible, key=lambda link: link.order)]
