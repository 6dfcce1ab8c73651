"""Statuses, teams, product areas and custom field labels named per language: an admin names them once, each
reader sees them in their language (the default name otherwise), customers' emails in the customer's language,
and the API keeps the default name beside a `names` map."""

from __future__ import annotations

import email
import email.policy
from typing import Any

from django.core import mail
from django.test import Client

from deskloop.accounts.models import User
from deskloop.accounts.services import create_api_token
from deskloop.channels.email.email_templates import save_email_template
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.models import CustomField, ProductArea, Status, Ticket
from deskloop.tickets.services.tickets import NewTicket, open_ticket

Capture = Any


def speaking(client_for: Cast, language: str) -> Client:
    User.objects.filter(pk=client_for.agent.user.pk).update(language=language)
    return signed_in_client(client_for.agent)


def name_it(acme: Cast, url: str, **names: str) -> Any:
    return signed_in_client(acme.admin).post(url, {f"name_{code}": name for code, name in names.items()})


def test_an_admin_names_vocabulary_per_language_and_each_agent_reads_their_own(acme: Cast) -> None:
    opened = Status.objects.get(workspace=acme.workspace, name="Open")
    area = ProductArea.objects.create(workspace=acme.workspace, name="Billing", path="Billing")
    field = CustomField.objects.create(workspace=acme.workspace, key="plan", label="Plan", field_type="text")
    Ticket.objects.filter(pk=acme.ticket.pk).update(status=opened, product_area=area)
    admin = signed_in_client(acme.admin)
    page = admin.get(f"/settings/statuses/{opened.pk}/")
    assert f'href="/settings/statuses/{opened.pk}/names/"' in page.content.decode()
    for url, names in (
        (f"/settings/statuses/{opened.pk}/names/", {"es": "Abierto", "ru": "Открыт"}),
        (f"/settings/teams/{acme.support.pk}/names/", {"es": "Soporte", "ru": "Поддержка"}),
        (f"/settings/product-areas/{area.pk}/names/", {"es": "Facturación", "ru": ""}),
        (f"/settings/fields/{field.pk}/names/", {"es": "Plan contratado"}),
    ):
        assert name_it(acme, url, **names).status_code == 200
    assert Status.objects.get(pk=opened.pk).name_translations == {"es": "Abierto", "ru": "Открыт"}
    # An empty name is no name: that language reads the default one.
    assert ProductArea.objects.get(pk=area.pk).name_translations == {"es": "Facturación"}

    spanish = speaking(acme, "es")
    inbox = spanish.get("/?view=all").content.decode()
    ticket_page = spanish.get(f"/tickets/{acme.ticket.number}/").content.decode()
    for shown in ("Abierto", "Soporte"):
        assert shown in inbox
    for shown in ("Abierto", "Soporte", "Facturación", "Plan contratado"):
        assert shown in ticket_page
    filtered = spanish.get(f"/?view=all&status={opened.pk}").content.decode()
    assert ">Abierto<" in filtered  # the filter's option and its chip
    russian = speaking(acme, "ru").get(f"/tickets/{acme.ticket.number}/").content.decode()
    assert "Открыт" in russian
    assert "Billing" in russian  # no Russian name: the default
    english = speaking(acme, "en").get(f"/tickets/{acme.ticket.number}/").content.decode()
    assert "Abierto" not in english
    assert "Soporte" not in english


def test_names_are_for_admins_and_too_long_names_change_nothing(acme: Cast, umbrella: Cast) -> None:
    opened = Status.objects.get(workspace=acme.workspace, name="Open")
    url = f"/settings/statuses/{opened.pk}/names/"
    assert signed_in_client(acme.agent).post(url, {"name_es": "Abierto"}).status_code == 403
    too_long = name_it(acme, url, es="x" * 61)
    assert too_long.status_code == 422
    assert "A name has at most 60 characters." in too_long.content.decode()
    foreign = Status.objects.filter(workspace=umbrella.workspace).first()
    assert foreign is not None
    assert name_it(acme, f"/settings/statuses/{foreign.pk}/names/", es="Robado").status_code == 404
    assert Status.objects.get(pk=opened.pk).name_translations == {}
    assert Status.objects.get(pk=foreign.pk).name_translations == {}


def test_the_api_keeps_the_default_name_with_a_names_map(acme: Cast) -> None:
    Status.objects.filter(workspace=acme.workspace, pk=acme.ticket.status_id).update(
        name_translations={"es": "Nuevo", "ru": "Новый"}
    )
    acme.support.name_translations = {"es": "Soporte"}
    acme.support.save()
    _token, secret = create_api_token(agent=acme.agent, name="names")
    api = Client(headers={"authorization": f"Bearer {secret}"})
    body = api.get(f"/api/v1/tickets/{acme.ticket.number}").json()
    assert body["status"]["name"] == "New"
    assert body["status"]["names"] == {"default": "New", "es": "Nuevo", "ru": "Новый"}
    assert body["team"] == {"id": acme.support.pk, "name": "Support", "names": {"default": "Support", "es": "Soporte"}}


def test_a_customer_email_names_the_status_in_the_customers_language(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))
    Status.objects.filter(workspace=acme.workspace, name="New").update(name_translations={"es": "Nuevo"})
    save_email_template(
        actor=acme.admin,
        kind="acknowledgement",
        subject="{{ ticket.subject }}",
        body_text="Status: {{ ticket.status }}.",
        body_html="",
    )
    for address, locale in (("dora@example.com", "es"), ("dave@example.com", "en")):
        contact = find_or_create_contact(workspace=acme.workspace, email=address, name="Dora")
        contact.locale = locale
        contact.save()
        with django_capture_on_commit_callbacks(execute=True):
            open_ticket(
                workspace=acme.workspace,
                ticket=NewTicket(requester=contact, subject=f"Hi from {locale}", body_text="Hi", channel="widget"),
            )
    texts = [
        email.message_from_bytes(m.message().as_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
        for m in mail.outbox
    ]
    assert [t.strip() for t in texts] == ["Status: Nuevo.", "Status: New."]
