"""The list of settings screens, shown as the settings home page and as the side navigation of each screen.

Screens of higher apps (tickets, email channel, webhooks) are named by their URL names only, so accounts imports
nothing from them; a screen whose app is not installed is simply left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from deskloop.accounts.models import Agent

register = template.Library()

EVERYONE, WRITERS, ADMINS = "everyone", "writers", "admins"


@dataclass(frozen=True)
class Screen:
    url_name: str
    label: Promise
    description: Promise
    audience: str
    # View names starting with one of these belong to the screen (its detail pages and actions).
    sections: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    label: Promise
    screens: tuple[Screen, ...]


GROUPS = (
    Group(
        _("You"),
        (
            Screen(
                "settings:profile",
                _("Profile"),
                _("Your name, language, time zone and password."),
                EVERYONE,
                ("settings:profile", "settings:password"),
            ),
            Screen(
                "settings:tokens",
                _("API tokens"),
                _("Tokens for scripts and integrations that use the API as you."),
                EVERYONE,
                ("settings:token",),
            ),
        ),
    ),
    Group(
        _("People"),
        (
            Screen(
                "settings:agents",
                _("Agents"),
                _("Roles, teams, deactivation."),
                ADMINS,
                ("settings:agent",),
            ),
            Screen(
                "settings:invitations",
                _("Invitations"),
                _("Invite colleagues by email; resend or withdraw invitations."),
                ADMINS,
                ("settings:invitation",),
            ),
            Screen(
                "settings:teams", _("Teams"), _("Groups of agents tickets are routed to."), ADMINS, ("settings:team",)
            ),
        ),
    ),
    Group(
        _("Tickets"),
        (
            Screen(
                "admin_settings:statuses",
                _("Statuses"),
                _("The statuses tickets move through and their categories."),
                ADMINS,
                ("admin_settings:status",),
            ),
            Screen(
                "admin_settings:fields",
                _("Custom fields"),
                _("Extra ticket fields, and which must be filled in to solve."),
                ADMINS,
                ("admin_settings:field",),
            ),
            Screen(
                "admin_settings:tags",
                _("Tags"),
                _("Rename, merge and delete tags."),
                ADMINS,
                ("admin_settings:tag",),
            ),
            Screen(
                "admin_settings:areas",
                _("Product areas"),
                _("The parts of your product tickets and feedback are about."),
                ADMINS,
                ("admin_settings:area",),
            ),
            Screen(
                "admin_settings:macros",
                _("Macros"),
                _("Canned replies that can also set status, tags and assignee."),
                WRITERS,
                ("admin_settings:macro",),
            ),
        ),
    ),
    Group(
        _("Channels and integrations"),
        (
            Screen(
                "email_channel:mailboxes",
                _("Mailboxes"),
                _("Email addresses that turn mail into tickets; the quarantine."),
                ADMINS,
                ("email_channel:mailbox", "email_channel:quarantine", "email_channel:inbound"),
            ),
            Screen(
                "email_channel:email_templates",
                _("Email templates"),
                _("The wording of acknowledgements and notifications sent to customers and agents."),
                ADMINS,
                ("email_channel:email_template",),
            ),
            Screen(
                "webhooks:endpoints",
                _("Webhooks"),
                _("Signed HTTP calls to your systems when tickets change."),
                ADMINS,
                ("webhooks:",),
            ),
        ),
    ),
    Group(
        _("Workspace"),
        (
            Screen(
                "settings:workspace",
                _("Workspace"),
                _("Name, ticket prefix, default language and time zone."),
                ADMINS,
                ("settings:workspace", "settings:private_targets"),
            ),
        ),
    ),
)


def _may_open(agent: Agent | None, audience: str) -> bool:
    if agent is None:
        return False
    if audience == ADMINS:
        return agent.is_admin
    if audience == WRITERS:
        return agent.can_write
    return True


@register.simple_tag(takes_context=True)
def settings_groups(context: template.Context) -> list[dict[str, Any]]:
    """The screens the current agent may open, grouped, each with its URL and whether it is the current one."""
    agent = context.get("agent")
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else ""
    groups = []
    for group in GROUPS:
        screens = []
        for screen in group.screens:
            if not _may_open(agent, screen.audience):
                continue
            try:
                url = reverse(screen.url_name)
            except NoReverseMatch:
                continue
            screens.append(
                {
                    "url": url,
                    "label": screen.label,
                    "description": screen.description,
                    "is_current": any(current.startswith(section) for section in screen.sections),
                }
            )
        if screens:
            groups.append({"label": group.label, "screens": screens})
    return groups
