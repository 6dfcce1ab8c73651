"""Tabs that later work adds to the widget's panel ("Survey", "Ideas"): an app registers one from its
``AppConfig.ready()``, the panel shows it between the built-in tabs in slot order. A slot nobody filled shows
nothing at all: no tab, no empty panel."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise

# The places a later tab may take, in the order the panel shows them.
SLOTS = ("survey", "ideas")


@dataclass(frozen=True)
class WidgetTab:
    slot: str
    label: str | Promise
    # A URL name taking ``slug``: the tab's content, fetched with the widget pass like the built-in tabs.
    url_name: str


_tabs: dict[str, WidgetTab] = {}


def register_tab(tab: WidgetTab) -> None:
    if tab.slot not in SLOTS:
        raise ValueError(f"unknown widget slot {tab.slot!r}; one of {SLOTS}")
    _tabs[tab.slot] = tab


def filled_tabs() -> list[WidgetTab]:
    return [_tabs[slot] for slot in SLOTS if slot in _tabs]
