"""Issue #9: one way to show a moment on every page (``|when``), in the reader's language and time zone, relative
when recent -- instead of four formats ("j M, H:i", "j M Y, H:i", DATETIME_FORMAT, "Y-m-d H:i")."""

from __future__ import annotations

import datetime as dt
import re

import time_machine

from deskloop.accounts.models import Agent
from deskloop.accounts.services import update_profile
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Message, Notification, Ticket

WRITTEN = dt.datetime(2026, 3, 5, 13, 5, tzinfo=dt.UTC)


def _shown(html: str, iso: str) -> set[str]:
    """The texts of every <time> element on the page for that moment."""
    return set(re.findall(rf'<time datetime="{re.escape(iso)}" title="[^"]+">([^<]+)</time>', html))


def _pages(agent: Agent, ticket: Ticket) -> dict[str, str]:
    client = signed_in_client(Agent.objects.get(pk=agent.pk))
    return {
        "inbox": client.get("/?view=all").content.decode(),
        "ticket": client.get(f"/tickets/{ticket.number}/").content.decode(),
        "notifications": client.get("/notifications/").content.decode(),
        "search": client.get("/search/", {"q": "VAT"}).content.decode(),
    }


def test_every_page_says_a_moment_the_same_way(acme: Cast) -> None:
    ticket = acme.ticket
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=WRITTEN)
    Message.objects.filter(ticket=ticket).update(created_at=WRITTEN)
    Notification.objects.create(
        workspace=acme.workspace, agent=acme.agent, kind="assignment", ticket=ticket, params={"number": 1}, text="x"
    )
    Notification.objects.update(created_at=WRITTEN)
    user = acme.agent.user
    update_profile(user=user, name=user.name, language="es", time_zone="Europe/Madrid")

    with time_machine.travel(WRITTEN + dt.timedelta(hours=3), tick=False):
        pages = _pages(acme.agent, ticket)
    iso = "2026-03-05T14:05:00+01:00"
    assert {name: _shown(html, iso) for name, html in pages.items()} == {key: {"hace 3\xa0horas"} for key in pages}

    with time_machine.travel(WRITTEN + dt.timedelta(days=20), tick=False):
        pages = _pages(acme.agent, ticket)
    assert {name: _shown(html, iso) for name, html in pages.items()} == {key: {"5 de marzo, 14:05"} for key in pages}

    update_profile(user=user, name=user.name, language="ru", time_zone="Europe/Madrid")
    with time_machine.travel(WRITTEN + dt.timedelta(days=400), tick=False):
        pages = _pages(acme.agent, ticket)
    assert {name: _shown(html, iso) for name, html in pages.items()} == {key: {"5 марта 2026 г."} for key in pages}
