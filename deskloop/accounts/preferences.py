"""Choices for an agent's own preferences that belong to apps above accounts (the same plug-in shape as
``settings_screens``): the inbox views an agent may start from are the tickets app's, so tickets registers them in
``AppConfig.ready()`` and accounts names nothing of it."""

from __future__ import annotations

from collections.abc import Callable

from deskloop.accounts.models import Agent

# (key, label) pairs the given agent may choose from, in menu order.
StartViewChoices = Callable[[Agent], list[tuple[str, str]]]

_start_views: list[StartViewChoices] = []


def register_start_views(provider: StartViewChoices) -> None:
    """Offer ``provider``'s views as the agent's start view. Registering again replaces it (``ready()`` may run
    twice)."""
    _start_views[:] = [provider]


def start_view_choices(agent: Agent) -> list[tuple[str, str]]:
    return [choice for provider in _start_views for choice in provider(agent)]
