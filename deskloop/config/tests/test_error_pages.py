"""Issue #9: the 403, 404 and 500 pages are the app's own, in its layout and in the reader's language, instead of a
bare English "403 Forbidden"."""

from __future__ import annotations

from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from deskloop.accounts.models import Agent
from deskloop.accounts.services import update_profile
from deskloop.conftest import Cast, signed_in_client


def _speak(agent: Agent, language: str) -> None:
    user = agent.user
    update_profile(user=user, name=user.name or agent.name, language=language, time_zone=user.time_zone)


def test_a_refused_page_is_translated_and_inside_the_layout(acme: Cast) -> None:
    _speak(acme.light_agent, "es")
    response = signed_in_client(Agent.objects.get(pk=acme.light_agent.pk)).get("/tickets/new/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "No permitido" in html
    assert 'class="topbar"' in html  # the app's own header, with the way back
    assert 'href="/"' in html
    assert "403 Forbidden" not in html


def test_a_missing_page_is_translated_and_inside_the_layout(acme: Cast) -> None:
    _speak(acme.agent, "ru")
    response = signed_in_client(Agent.objects.get(pk=acme.agent.pk)).get("/tickets/999999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Страница не найдена" in html
    assert 'class="topbar"' in html


def test_the_server_error_page_is_translated() -> None:
    with translation.override("es"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Algo salió mal" in html
    assert 'href="/"' in html
