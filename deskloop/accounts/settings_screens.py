"""The settings screens, registered by the apps that own them (the same plug-in shape as ``core.periodic``).

Accounts owns the menu and its groups; each app registers its screens in ``AppConfig.ready()`` with the capability
an agent needs to open them, so accounts names nothing of the apps above it. The menu
(``templatetags/settings_nav.py``) shows the screens the agent's role may open.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from deskloop.accounts.access import CAPABILITY_ROLES, Capability
from deskloop.accounts.models import Agent


class SettingsGroup(enum.Enum):
    """The menu's groups, in the order shown."""

    YOU = _("You")
    PEOPLE = _("People")
    TICKETS = _("Tickets")
    INTEGRATIONS = _("Channels and integrations")
    WORKSPACE = _("Workspace")


@dataclass(frozen=True)
class Screen:
    url_name: str
    label: Promise
    description: Promise
    group: SettingsGroup
    # The capability needed to open it; None: every agent.
    capability: Capability | None
    # View names starting with one of these belong to the screen (its detail pages and actions).
    sections: tuple[str, ...]
    # Place within its group.
    order: int

    def may_open(self, agent: Agent) -> bool:
        return self.capability is None or agent.role in CAPABILITY_ROLES[self.capability]


_screens: dict[str, Screen] = {}


def register_screen(screen: Screen) -> None:
    """Show ``screen`` in the settings menu. Registering a URL name again replaces it (``ready()`` may run twice)."""
    _screens[screen.url_name] = screen


def screens_for(agent: Agent) -> list[tuple[SettingsGroup, list[Screen]]]:
    """The screens the agent may open, by group, in menu order; groups with none left out."""
    groups = list(SettingsGroup)
    visible = sorted(
        (s for s in _screens.values() if s.may_open(agent)), key=lambda s: (groups.index(s.group), s.order)
    )
    return [
        (group, [s for s in visible if s.group is group]) for group in groups if any(s.group is group for s in visible)
    ]


def register_account_screens() -> None:
    """Accounts' own screens: the caller's profile and tokens, people, the workspace."""
    for screen in (
        Screen(
            "settings:profile",
            _("Profile"),
            _("Your name, language, time zone and password."),
            SettingsGroup.YOU,
            None,
            ("settings:profile", "settings:password"),
            10,
        ),
        Screen(
            "settings:tokens",
            _("API tokens"),
            _("Tokens for scripts and integrations that use the API as you."),
            SettingsGroup.YOU,
            None,
            ("settings:token",),
            20,
        ),
        Screen(
            "settings:agents",
            _("Agents"),
            _("Roles, teams, deactivation."),
            SettingsGroup.PEOPLE,
            Capability.ADMIN,
            ("settings:agent",),
            10,
        ),
        Screen(
            "settings:invitations",
            _("Invitations"),
            _("Invite colleagues by email; resend or withdraw invitations."),
            SettingsGroup.PEOPLE,
            Capability.ADMIN,
            ("settings:invitation",),
            20,
        ),
        Screen(
            "settings:teams",
            _("Teams"),
            _("Groups of agents tickets are routed to."),
            SettingsGroup.PEOPLE,
            Capability.ADMIN,
            ("settings:team",),
            30,
        ),
        Screen(
            "settings:workspace",
            _("Workspace"),
            _("Name, ticket prefix, default language and time zone."),
            SettingsGroup.WORKSPACE,
            Capability.ADMIN,
            ("settings:workspace", "settings:private_targets"),
            10,
        ),
    ):
        register_screen(screen)
