"""Issue #9: "Forgot password?" on the login page -- Django's token-based reset, the email through core.emails in
the agent's language, the same answer whether or not an address has an account, and a limit on requests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from deskloop.accounts.models import User
from deskloop.accounts.services import update_profile
from deskloop.conftest import PASSWORD, Cast, api_client

Capture = Callable[..., Any]
NEW_PASSWORD = "a much longer secret 42"


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _ask(client: Client, email: str, capture: Capture, **extra: Any) -> Any:
    with capture(execute=True):
        return client.post("/password-reset/", {"email": email}, **extra)


def _page_text(response: Any, email: str) -> str:
    html = response.content.decode().replace(email, "ADDRESS")
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", html)  # each page has its own CSRF token


def test_the_login_page_offers_a_reset(db: None) -> None:
    login = Client().get("/login/").content.decode()
    assert '<a href="/password-reset/">Forgot password?</a>' in login


def test_an_agent_resets_a_forgotten_password(acme: Cast, django_capture_on_commit_callbacks: Capture) -> None:
    user = acme.agent.user
    update_profile(user=user, name=user.name or "Maria", language="es", time_zone="Europe/Madrid")
    client = Client()
    asked = _ask(client, "Maria@Acme.example", django_capture_on_commit_callbacks)
    assert asked.status_code == 200
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["maria@acme.example"]
    assert sent.subject == "Restablece tu contraseña de Deskloop"
    link = re.search(r"http://127.0.0.1:8000(/password-reset/[\w-]+/[\w-]+/)", sent.body)
    assert link is not None, sent.body

    too_short = client.post(link.group(1), {"new_password": "short", "new_password_again": "short"})
    assert too_short.status_code == 400
    differ = client.post(link.group(1), {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD + "!"})
    assert differ.status_code == 400
    # Nothing changed yet (checked without signing in: a sign-in would end the link, as it should).
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)

    done = client.post(link.group(1), {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert (done.status_code, done["Location"]) == (302, "/login/")
    assert Client().login(username="maria@acme.example", password=NEW_PASSWORD)
    assert not Client().login(username="maria@acme.example", password=PASSWORD)

    again = client.get(link.group(1))  # the link works once
    assert again.status_code == 400
    assert "invalid or has expired" in again.content.decode()


def test_the_answer_never_tells_whether_an_address_has_an_account(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    known = _ask(Client(), "maria@acme.example", django_capture_on_commit_callbacks)
    unknown = _ask(Client(), "nobody@acme.example", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 200
    assert _page_text(known, "maria@acme.example") == _page_text(unknown, "nobody@acme.example")
    assert [m.to for m in mail.outbox] == [["maria@acme.example"]]


def test_reset_requests_are_limited_per_address_and_per_client(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    client = Client()
    answers = [_ask(client, "maria@acme.example", django_capture_on_commit_callbacks).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert len(mail.outbox) == 3
    # An address without an account is counted the same way, so the limit reveals nothing either.
    unknown = [_ask(client, "nobody@acme.example", django_capture_on_commit_callbacks).status_code for _ in range(4)]
    assert unknown == [200, 200, 200, 429]
    # One client trying many addresses is stopped too.
    many = [_ask(client, f"guess{i}@acme.example", django_capture_on_commit_callbacks).status_code for i in range(10)]
    assert many.count(429) >= 6
    assert len(mail.outbox) == 3


def test_a_forged_link_is_refused(acme: Cast) -> None:
    response = Client().get("/password-reset/Mg/not-a-token/")
    assert response.status_code == 400
    assert "invalid or has expired" in response.content.decode()


def test_a_reset_password_revokes_the_api_tokens_made_under_the_old_one(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    # A reset follows a leak or a lost password as often as a change does: the old tokens end with it.
    before = api_client(acme.agent)
    assert before.get("/api/v1/tickets").status_code == 200
    _ask(Client(), "maria@acme.example", django_capture_on_commit_callbacks)
    link = re.search(r"http://127.0.0.1:8000(/password-reset/[\w-]+/[\w-]+/)", mail.outbox[0].body)
    assert link is not None
    done = Client().post(link.group(1), {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert done.status_code == 302
    assert before.get("/api/v1/tickets").status_code == 401
