"""The settings menu: screens registered by the apps that own them, shown per role (accounts.settings_screens)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from deskloop.accounts.models import Role
from deskloop.conftest import Cast, signed_in_client

YOU = [("Profile", "/settings/profile/"), ("API tokens", "/settings/tokens/")]
MACROS = [("Macros", "/settings/macros/")]
ADMIN_MENU = {
    "You": YOU,
    "People": [
        ("Agents", "/settings/agents/"),
        ("Invitations", "/settings/invitations/"),
        ("Teams", "/settings/teams/"),
    ],
    "Tickets": [
        ("Statuses", "/settings/statuses/"),
        ("Custom fields", "/settings/fields/"),
        ("Tags", "/settings/tags/"),
        ("Product areas", "/settings/product-areas/"),
        ("SLA policies", "/settings/sla/"),
        *MACROS,
        ("Automations", "/settings/automations/"),
        ("Ticket routing", "/settings/routing/"),
        ("Quality scorecard", "/quality/settings/"),
    ],
    "Channels and integrations": [
        ("Mailboxes", "/settings/mailboxes/"),
        ("Mail allow list", "/settings/mail-allow-list/"),
        ("Email templates", "/settings/email-templates/"),
        ("Webhooks", "/settings/webhooks/"),
        ("Help center", "/settings/help-center/"),
    ],
    "Workspace": [
        ("Workspace", "/settings/workspace/"),
        ("Business calendars", "/settings/calendars/"),
        ("Surveys", "/surveys/settings/"),
        ("Ideas board", "/settings/ideas-board/"),
        ("Deals and churn", "/settings/revenue/"),
    ],
}
MENU_BY_ROLE = {
    Role.OWNER: ADMIN_MENU,
    Role.ADMIN: ADMIN_MENU,
    Role.AGENT: {"You": YOU, "Tickets": MACROS},
    Role.LIGHT_AGENT: {"You": YOU},
    Role.VIEWER: {"You": YOU},
}


def _menu(html: str) -> dict[str, list[tuple[str, str]]]:
    menu: dict[str, list[tuple[str, str]]] = {}
    for section in re.findall(r"<section.*?</section>", html, re.S):
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", section, re.S)
        assert heading is not None
        menu[heading.group(1).strip()] = re.findall(r'<a href="([^"]+)"><strong>([^<]+)</strong>', section)
    return {group: [(label, url) for url, label in links] for group, links in menu.items()}


@pytest.mark.parametrize("role", list(Role))
def test_the_settings_home_lists_the_screens_of_the_agents_role(acme: Cast, role: Role) -> None:
    html = signed_in_client(acme.by_role(role)).get(reverse("settings:home")).content.decode()
    assert list(_menu(html).items()) == list(MENU_BY_ROLE[role].items())  # the groups in this order too
