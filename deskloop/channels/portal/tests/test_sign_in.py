"""A customer signs in to the portal with a magic link: single use, short-lived, bound to its workspace, stored
only as a hash; the answer never tells whether an address is known; ``next`` never leaves the site."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from deskloop.channels.portal.models import SignInLink
from deskloop.channels.portal.tests.helpers import ask_for_link, last_link, signed_in
from deskloop.conftest import Cast
from deskloop.customers.models import Contact, ContactEmail


def test_a_customer_signs_in_with_the_link_from_the_mail(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    response = ask_for_link(client, acme.workspace, "Carmen@Globex-Acme.example", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["carmen@globex-acme.example"]]
    assert mail.outbox[0].subject == "Your sign-in link for Acme support"
    link = last_link("carmen@globex-acme.example")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    stored = SignInLink.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(SignInLink.objects.values_list().get())
    # Opening the link (a mail scanner does) does not use it up; the button does.
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == "/portal/acme/"
    page = client.get("/portal/acme/")
    assert page.status_code == 200
    assert "Invoice shows the wrong VAT number" in page.content.decode()
    assert ContactEmail.objects.get(email="carmen@globex-acme.example").verified_at is not None


def test_the_link_works_once(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    first = Client()
    ask_for_link(first, acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    link = last_link("carmen@globex-acme.example")
    assert first.post(link).status_code == 302
    second = Client()
    response = second.post(link)
    assert response.status_code == 422
    assert "already used" in response.content.decode()
    assert second.get("/portal/acme/").status_code == 302


def test_the_link_expires_after_fifteen_minutes(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    ask_for_link(client, acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    link = last_link("carmen@globex-acme.example")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=15, seconds=1)):
        assert client.post(link).status_code == 422
    assert client.get("/portal/acme/").status_code == 302


def test_a_link_of_another_workspace_signs_in_nowhere(
    acme: Cast, umbrella: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    ask_for_link(client, umbrella.workspace, "carmen@globex-umbrella.example", django_capture_on_commit_callbacks)
    umbrella_link = last_link("carmen@globex-umbrella.example")
    response = client.post(umbrella_link.replace("/portal/umbrella/", "/portal/acme/"))
    assert response.status_code == 422
    assert client.get("/portal/acme/").status_code == 302
    assert SignInLink.objects.get().used_at is None


def test_unknown_and_known_addresses_get_the_same_answer(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    known = ask_for_link(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    unknown = ask_for_link(Client(), acme.workspace, "nobody@new.example", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: r.content.decode().replace(r.wsgi_request.META.get("CSRF_COOKIE", ""), "")  # noqa: E731
    assert strip(known) == strip(unknown)
    # The new address becomes a contact only once its owner uses the link.
    assert not Contact.objects.filter(emails__email="nobody@new.example").exists()
    signed_in(Client(), acme.workspace, "nobody@new.example", django_capture_on_commit_callbacks)
    assert Contact.objects.filter(workspace=acme.workspace, emails__email="nobody@new.example").count() == 1


def test_a_blocked_contact_gets_no_link_and_no_hint(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    Contact.objects.filter(pk=acme.customer.pk).update(is_blocked=True)
    response = ask_for_link(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_a_malformed_address_is_refused_and_nothing_is_sent(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    response = ask_for_link(Client(), acme.workspace, "not an address", django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert SignInLink.objects.count() == 0
    assert mail.outbox == []


def test_one_address_cannot_be_flooded_with_links(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    for _ in range(5):
        ask_for_link(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 3


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"signin_link": (2, 100)})
def test_asking_too_often_from_one_address_is_429(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    answers = [
        ask_for_link(client, acme.workspace, f"person{i}@new.example", django_capture_on_commit_callbacks).status_code
        for i in range(3)
    ]
    assert answers == [200, 200, 429]
    assert len(mail.outbox) == 2


@override_settings(DESKLOOP_PUBLIC_RATE_LIMITS={"signin_link": (100, 100)})
def test_next_goes_only_to_a_path_on_this_site(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    """Each customer follows their link; only the same-site path is kept, every other ``next`` lands on home."""
    landing = {}
    for i, next_path in enumerate(
        (
            "/portal/acme/tickets/1/",
            "//evil.example/phish",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
        )
    ):
        client, address = Client(), f"customer{i}@globex-acme.example"
        ask_for_link(client, acme.workspace, address, django_capture_on_commit_callbacks, next_path)
        landing[next_path] = client.post(last_link(address))["Location"]
    assert landing == {
        "/portal/acme/tickets/1/": "/portal/acme/tickets/1/",
        "//evil.example/phish": "/portal/acme/",
        "https://evil.example/": "/portal/acme/",
        "/\\evil.example": "/portal/acme/",
        "javascript:alert(1)": "/portal/acme/",
    }


def test_after_signing_in_the_customer_lands_on_the_page_they_asked_for(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    page = client.get(f"/portal/acme/tickets/{acme.ticket.number}/")
    assert page.status_code == 302
    assert page["Location"] == f"/portal/acme/signin/?next=%2Fportal%2Facme%2Ftickets%2F{acme.ticket.number}%2F"
    form = client.get(page["Location"])
    assert f'value="/portal/acme/tickets/{acme.ticket.number}/"' in form.content.decode()
    ask_for_link(
        client,
        acme.workspace,
        "carmen@globex-acme.example",
        django_capture_on_commit_callbacks,
        f"/portal/acme/tickets/{acme.ticket.number}/",
    )
    response = client.post(last_link("carmen@globex-acme.example"))
    assert response["Location"] == f"/portal/acme/tickets/{acme.ticket.number}/"


def test_signing_in_rotates_the_session_and_signing_out_ends_it(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.get("/portal/acme/signin/")
    ask_for_link(client, acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    before = client.session.session_key
    client.post(last_link("carmen@globex-acme.example"))
    assert client.session.session_key != before
    assert client.get("/portal/acme/").status_code == 200
    assert client.post("/portal/acme/signout/").status_code == 302
    assert client.get("/portal/acme/").status_code == 302


@override_settings(DESKLOOP_PORTAL_SESSION_SECONDS=3600)
def test_a_sign_in_lasts_as_long_as_the_setting(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    client = signed_in(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3601)):
        assert client.get("/portal/acme/").status_code == 302


def test_an_agents_sign_in_is_not_a_customers(acme: Cast) -> None:
    from deskloop.conftest import signed_in_client

    response = signed_in_client(acme.agent).get("/portal/acme/")
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/acme/signin/")


def test_the_sign_in_form_has_csrf_protection(acme: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/portal/acme/signin/", {"email": "carmen@globex-acme.example"})
    assert response.status_code == 403
    assert SignInLink.objects.count() == 0


def test_the_mail_is_in_the_visitors_language_with_the_link_in_both_bodies(
    acme: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client(headers={"accept-language": "es"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/portal/acme/signin/", {"email": "nueva@cliente.example"})
    (sent,) = mail.outbox
    link = "http://127.0.0.1:8000" + last_link("nueva@cliente.example")
    assert sent.subject == "Tu enlace de acceso al soporte de Acme"
    assert sent.body.startswith("Usa este enlace para entrar al soporte de Acme y ver tus solicitudes:\n" + link)
    html, mime = sent.alternatives[0]
    assert mime == "text/html"
    assert f'href="{link}"' in html
    assert "El enlace funciona durante 15 minutos y una sola vez." in html


def test_old_links_are_purged_by_the_periodic_job(acme: Cast, django_capture_on_commit_callbacks: Any) -> None:
    from deskloop.channels.portal.services import purge_sign_in_links

    ask_for_link(Client(), acme.workspace, "carmen@globex-acme.example", django_capture_on_commit_callbacks)
    assert purge_sign_in_links() == 0
    assert purge_sign_in_links(timezone.now() + dt.timedelta(days=1, minutes=16)) == 1
    assert SignInLink.objects.count() == 0


def test_the_demo_customer_named_by_make_run_signs_in(db: None, django_capture_on_commit_callbacks: Any) -> None:
    from deskloop.demo.seed import seed_demo

    workspace = seed_demo(tickets=5).workspace
    # A customer of the demo already (with requests of their own once the demo has enough tickets).
    assert Contact.objects.filter(workspace=workspace, emails__email="dana@northwind.example").count() == 1
    client = signed_in(Client(), workspace, "dana@northwind.example", django_capture_on_commit_callbacks)
    assert client.get(f"/portal/{workspace.slug}/").status_code == 200
