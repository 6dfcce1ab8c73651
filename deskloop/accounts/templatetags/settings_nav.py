"""The settings menu, shown as the settings home page and as the side navigation of each screen.

It renders the screens the apps registered (``accounts.settings_screens``) that the current agent's role may open.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from deskloop.accounts.settings_screens import screens_for

register = template.Library()


@register.simple_tag(takes_context=True)
def settings_groups(context: template.Context) -> list[dict[str, Any]]:
    """The screens the current agent may open, grouped, each with its URL and whether it is the current one."""
    agent = context.get("agent")
    if agent is None:
        return []
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else ""
    groups = []
    for group, registered in screens_for(agent):
        screens = []
        for screen in registered:
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
            groups.append({"label": group.value, "screens": screens})
    return groups
