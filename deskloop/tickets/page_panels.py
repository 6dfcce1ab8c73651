"""The ticket page panel registry: what apps above tickets add to the ticket page (the same plug-in shape as
``core.periodic`` and ``accounts.settings_screens``).

Tickets sits below knowledge, channels and reports, so it cannot name them; each of them registers a panel in its
``AppConfig.ready()`` instead: a template, the slot of the page it goes in, and a function that gives that
template its context for one ticket and one agent (or None to leave the panel out, e.g. for a role that may not
use it). The ticket view asks ``panels_for_page`` once per render; the context functions should be cheap (the
ticket page's query count is tested), and anything heavy is better loaded by the panel itself through htmx.

Slots:
- ``composer``: tools under the reply box (the knowledge base's article finder);
- ``sidebar``: a panel in the right-hand column (suggestions the customer saw before writing);
- ``message_actions``: links under each agent reply (the template also gets ``message``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deskloop.accounts.models import Agent
from deskloop.tickets.models import Ticket


class PanelSlot(enum.Enum):
    COMPOSER = "composer"
    SIDEBAR = "sidebar"
    MESSAGE_ACTIONS = "message_actions"


PanelContext = Callable[..., Mapping[str, Any] | None]


@dataclass(frozen=True)
class TicketPagePanel:
    # Unique among panels; registering a name again replaces the panel (``ready()`` may run twice).
    name: str
    slot: PanelSlot
    template: str
    # Called as ``context(ticket=..., agent=...)``; None leaves the panel out for this agent and ticket.
    context: PanelContext
    # Place within its slot.
    order: int = 100


@dataclass(frozen=True)
class ShownPanel:
    name: str
    template: str
    context: Mapping[str, Any]


@dataclass
class PagePanels:
    """The panels of one ticket page, by slot, ready for ``{% include panel.template with panel=panel %}``."""

    composer: list[ShownPanel] = field(default_factory=list)
    sidebar: list[ShownPanel] = field(default_factory=list)
    message_actions: list[ShownPanel] = field(default_factory=list)


_panels: dict[str, TicketPagePanel] = {}


def register_panel(panel: TicketPagePanel) -> None:
    """Show ``panel`` on every ticket page (where its context function does not return None)."""
    _panels[panel.name] = panel


def registered_panels() -> list[TicketPagePanel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.name))


def panels_for_page(*, ticket: Ticket, agent: Agent) -> PagePanels:
    shown = PagePanels()
    for panel in registered_panels():
        context = panel.context(ticket=ticket, agent=agent)
        if context is None:
            continue
        getattr(shown, panel.slot.value).append(ShownPanel(panel.name, panel.template, dict(context)))
    return shown
