"""Refused mail from the admin's side: customers writing through services that add list headers get through,
admins review refusals from the inbox, deliver one anyway (once) and allow-list senders."""

from __future__ import annotations

import pytest

from deskloop.channels.email.models import InboundEmail, InboundState, Mailbox, SenderAllowance
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Ticket


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return Mailbox.objects.create(workspace=acme.workspace, address="support@acme.example")


def mail(headers: str, *, sender: str = "Lena <lena@shop.example>", subject: str = "Order 1182 never arrived") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@acme.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash((headers, sender, subject)))}@shop.example>\r\n{headers}\r\n\r\n"
        "Hello, my order never arrived. Can you help?\r\n"
    ).encode()


def tickets_about(acme: Cast, subject: str) -> int:
    return Ticket.objects.filter(workspace=acme.workspace, subject=subject).count()


def test_a_customer_writing_through_a_crm_that_adds_list_unsubscribe_gets_a_ticket(
    acme: Cast, mailbox: Mailbox
) -> None:
    # What HubSpot-, Zendesk- or Mailchimp-Transactional-style services add to one-to-one mail.
    crm = "List-Unsubscribe: <https://crm.example/u/8c1f>, <mailto:unsub@crm.example>"
    result = ingest_raw(mailbox=mailbox, raw=mail(crm), via="smtp")
    assert (result.state, result.outcome, tickets_about(acme, "Order 1182 never arrived")) == (
        "processed",
        "new_ticket",
        1,
    )


def test_a_newsletter_is_still_refused_as_list_mail(acme: Cast, mailbox: Mailbox) -> None:
    one_click = "List-Unsubscribe: <https://news.example/u/1>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click"
    for headers in ("Precedence: bulk", "List-Id: <weekly.news.example>", one_click):
        result = ingest_raw(mailbox=mailbox, raw=mail(headers, subject=f"Weekly news {headers[:8]}"), via="smtp")
        assert (result.state, result.refusal_reason) == ("refused", "list")


def test_admins_reach_refused_mail_from_the_inbox_and_deliver_it_once(acme: Cast, mailbox: Mailbox) -> None:
    refused = ingest_raw(mailbox=mailbox, raw=mail("Precedence: bulk"), via="smtp")
    admin = signed_in_client(acme.admin)
    inbox = admin.get("/").content.decode()
    assert 'href="/inbox/refused-mail/"' in inbox
    assert 'href="/inbox/refused-mail/"' not in signed_in_client(acme.agent).get("/").content.decode()
    page = admin.get("/inbox/refused-mail/")
    body = page.content.decode()
    assert page.status_code == 200
    for shown in ("lena@shop.example", "Order 1182 never arrived", "List or bulk mail", "Precedence: bulk"):
        assert shown in body
    assert f'action="/inbox/refused-mail/{refused.inbound_id}/deliver/"' in body

    # An agent may not overrule a refusal.
    assert signed_in_client(acme.agent).post(f"/inbox/refused-mail/{refused.inbound_id}/deliver/").status_code == 403
    response = admin.post(f"/inbox/refused-mail/{refused.inbound_id}/deliver/", follow=True)
    row = InboundEmail.objects.get(pk=refused.inbound_id)
    ticket = Ticket.objects.get(workspace=acme.workspace, subject="Order 1182 never arrived")
    assert f"Delivered: ticket #{ticket.number}." in response.content.decode()
    assert (row.state, row.outcome, row.ticket_id, row.delivered_anyway_by_id) == (
        "processed",
        "new_ticket",
        ticket.pk,
        acme.admin.pk,
    )
    assert row.delivered_anyway_at is not None
    assert "delivered anyway" in row.detail
    # A second click (or a second admin) changes nothing: one ticket, one message.
    again = admin.post(f"/inbox/refused-mail/{refused.inbound_id}/deliver/", follow=True)
    assert "This email is no longer refused." in again.content.decode()
    assert (tickets_about(acme, "Order 1182 never arrived"), ticket.messages.count()) == (1, 1)
    assert "Order 1182 never arrived" not in admin.get("/inbox/refused-mail/").content.decode()


def test_a_bounce_cannot_be_delivered_anyway(acme: Cast, mailbox: Mailbox) -> None:
    bounce = ingest_raw(
        mailbox=mailbox,
        raw=mail("", sender="MAILER-DAEMON <mailer-daemon@mx.shop.example>", subject="Undelivered Mail"),
        via="smtp",
    )
    admin = signed_in_client(acme.admin)
    assert f"/inbox/refused-mail/{bounce.inbound_id}/deliver/" not in admin.get("/inbox/refused-mail/").content.decode()
    response = admin.post(f"/inbox/refused-mail/{bounce.inbound_id}/deliver/", follow=True)
    assert "this one was refused as bounce" in response.content.decode()
    row = InboundEmail.objects.get(pk=bounce.inbound_id)
    assert (row.state, row.delivered_anyway_by_id, tickets_about(acme, "Undelivered Mail")) == ("refused", None, 0)


def test_an_automatic_reply_refused_by_its_subject_can_be_delivered(acme: Cast, mailbox: Mailbox) -> None:
    # "Ausente" (absent) starts an out-of-office subject in Spanish, and also a customer's complaint.
    refused = ingest_raw(mailbox=mailbox, raw=mail("", subject="Ausente el paquete 1182"), via="smtp")
    assert refused.refusal_reason == "auto_reply"
    signed_in_client(acme.admin).post(f"/inbox/refused-mail/{refused.inbound_id}/deliver/")
    assert tickets_about(acme, "Ausente el paquete 1182") == 1


def test_an_allow_listed_domain_is_never_refused_as_list_mail(acme: Cast, mailbox: Mailbox) -> None:
    admin = signed_in_client(acme.admin)
    settings_home = admin.get("/settings/mail-allow-list/")
    assert settings_home.status_code == 200
    assert "Mail allow list" in settings_home.content.decode()  # in the settings menu
    assert signed_in_client(acme.agent).get("/settings/mail-allow-list/").status_code == 403
    response = admin.post("/settings/mail-allow-list/", {"pattern": "  @Shop.Example "}, follow=True)
    assert "shop.example is on the allow list." in response.content.decode()
    entry = SenderAllowance.objects.get(workspace=acme.workspace)
    assert (entry.pattern, entry.created_by_id) == ("shop.example", acme.admin.pk)

    # A subdomain's sender, with every list header: a ticket. Another domain is still refused.
    bulk = "Precedence: bulk\r\nList-Id: <orders.shop.example>"
    allowed = ingest_raw(mailbox=mailbox, raw=mail(bulk, sender="orders@mail.shop.example"), via="smtp")
    other = ingest_raw(mailbox=mailbox, raw=mail(bulk, sender="news@shopping.example"), via="smtp")
    assert (allowed.state, allowed.outcome) == ("processed", "new_ticket")
    assert (other.state, other.refusal_reason) == ("refused", "list")
    assert InboundEmail.objects.filter(workspace=acme.workspace, state=InboundState.PROCESSED).count() == 1


def test_the_allow_list_refuses_bad_and_duplicate_entries_and_removes_them(
    acme: Cast, umbrella: Cast, mailbox: Mailbox
) -> None:
    admin = signed_in_client(acme.admin)
    for bad in ("", "not a domain", "localhost", "ana@", "exa mple.com"):
        response = admin.post("/settings/mail-allow-list/", {"pattern": bad})
        assert response.status_code == 422, bad
    assert "Enter an email address (ana@customer.example) or a domain (customer.example)." in response.content.decode()
    assert admin.post("/settings/mail-allow-list/", {"pattern": "Ana@Shop.example"}).status_code == 302
    duplicate = admin.post("/settings/mail-allow-list/", {"pattern": "ana@shop.example"})
    assert duplicate.status_code == 422
    assert "ana@shop.example is already on the allow list." in duplicate.content.decode()
    entry = SenderAllowance.objects.get(workspace=acme.workspace)
    foreign = SenderAllowance.objects.create(workspace=umbrella.workspace, pattern="umbrella.example")
    assert admin.post(f"/settings/mail-allow-list/{foreign.pk}/remove/").status_code == 404
    admin.post(f"/settings/mail-allow-list/{entry.pk}/remove/")
    assert list(SenderAllowance.objects.values_list("pattern", flat=True)) == ["umbrella.example"]
