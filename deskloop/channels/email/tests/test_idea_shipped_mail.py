"""Closing the loop through the real pipeline: an agent marks an idea shipped on its page, the outbox event reaches
the email channel, and everyone who asked gets one email (customers the customer wording in their language, agents a
notice) from the workspace's editable template; once per person per idea, whatever happens next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from deskloop.channels.email.email_templates import save_email_template
from deskloop.channels.email.idea_mail import notify_idea_shipped
from deskloop.channels.email.models import IdeaShippedNotice, Mailbox, OutboundEmail, OutboundKind, OutboundState
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.channels.email.tests.test_outbound_notifications import bodies, parsed
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.models import ContactEmail
from deskloop.customers.services import find_or_create_contact
from deskloop.ideas.models import Idea, IdeaStatus, IdeaTicket, VoteSource
from deskloop.ideas.services.ideas import change_status, create_idea, subscribe, unsubscribe
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.tickets.services.tickets import NewTicket, open_ticket

Capture = Callable[..., Any]


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )


def _asked_idea(acme: Cast) -> Idea:
    """An idea that Carmen voted for (from a ticket), Rosa (Spanish) voted for, Maria follows and Pat asked for in
    a linked ticket; Ivan voted and then stopped following it, so he is not told."""
    idea = create_idea(workspace=acme.workspace, title="Export invoices as CSV", author_agent=acme.agent)
    cast_vote(
        idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.AGENT, ticket=acme.ticket, agent=acme.agent
    )
    rosa = find_or_create_contact(workspace=acme.workspace, email="rosa@globex-acme.example", name="Rosa", locale="es")
    cast_vote(idea=idea, voter=Voter(contact=rosa), source=VoteSource.PORTAL, importance=3)
    ivan = find_or_create_contact(workspace=acme.workspace, email="ivan@globex-acme.example", name="Ivan")
    cast_vote(idea=idea, voter=Voter(contact=ivan), source=VoteSource.WIDGET)
    unsubscribe(idea=idea, contact=ivan)
    pat = find_or_create_contact(workspace=acme.workspace, email="pat@initech.example", name="Pat")
    asked = open_ticket(
        workspace=acme.workspace,
        ticket=NewTicket(requester=pat, subject="CSV?", body_text="Can I get invoices as CSV?", channel="web"),
    )[0]
    IdeaTicket.objects.create(workspace=acme.workspace, idea=idea, ticket=asked, linked_by=acme.agent)
    return idea


def test_shipping_from_the_page_emails_everyone_who_asked_once(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    idea = _asked_idea(acme)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(acme.agent).post(
            f"/ideas/{idea.pk}/status/", {"status": "shipped", "shipped_note": "Reports > Export now offers CSV."}
        )
    assert response.status_code == 302

    sent = {str(parsed(m)["To"]): parsed(m) for m in mail.outbox}
    assert sorted(sent) == [
        "Carmen Customer <carmen@globex-acme.example>",
        "Maria Agent <maria@acme.example>",
        "Pat <pat@initech.example>",
        "Rosa <rosa@globex-acme.example>",
    ]
    carmen = sent["Carmen Customer <carmen@globex-acme.example>"]
    assert (carmen["From"], carmen["Reply-To"], carmen["Subject"], carmen["Auto-Submitted"]) == (
        "Acme Support <support@acme.example>",
        "Acme Support <support@acme.example>",
        "Shipped: Export invoices as CSV",
        "auto-generated",
    )
    text, html = bodies(carmen)
    assert text == (
        "Hello Carmen Customer,\n\nYou asked Acme for “Export invoices as CSV”. It has shipped.\n\n"
        "Reports > Export now offers CSV.\n\n"
        f"{settings.SITE_URL.rstrip('/')}/board/acme/ideas/{idea.pk}/\n\n"
        "Thank you for telling us what you needed. To tell us more, reply to this email.\n\nAcme\n"
    )
    # Customers never get the agents' page (only the public board's) or how many others asked.
    assert f"{settings.SITE_URL.rstrip('/')}/ideas/" not in text + html
    rosa_text, _html = bodies(sent["Rosa <rosa@globex-acme.example>"])
    assert sent["Rosa <rosa@globex-acme.example>"]["Subject"] == "Publicado: Export invoices as CSV"
    assert rosa_text.startswith("Hola, Rosa:")
    notice = sent["Maria Agent <maria@acme.example>"]
    assert notice["Subject"] == "Idea shipped: Export invoices as CSV"
    notice_text, _html = bodies(notice)
    assert f"/ideas/{idea.pk}/" in notice_text
    assert "(3 votes from 1 organizations)" in notice_text

    # Reopened and shipped again, and the event handled twice: nobody is told a second time.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change_status(idea=idea, status=IdeaStatus.IN_PROGRESS, agent=acme.agent)
        change_status(idea=idea, status=IdeaStatus.SHIPPED, agent=acme.agent)
    assert notify_idea_shipped(workspace_id=acme.workspace.pk, idea_id=idea.pk) == []
    assert mail.outbox == []
    assert IdeaShippedNotice.objects.filter(idea=idea).count() == 4


def test_the_workspaces_own_wording_and_the_reasons_for_not_sending(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    save_email_template(
        actor=acme.admin,
        kind=OutboundKind.IDEA_SHIPPED,
        subject="{{ idea.title }} is live",
        body_text="Hi {{ recipient.name }}: {{ idea.shipped_note }}",
        body_html="",
    )
    idea = create_idea(workspace=acme.workspace, title="Dark mode")
    cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    gone = find_or_create_contact(workspace=acme.workspace, email="gone@globex-acme.example", name="Gone")
    cast_vote(idea=idea, voter=Voter(contact=gone), source=VoteSource.PORTAL)
    ContactEmail.objects.filter(contact=gone).update(bouncing_since="2026-01-01T00:00:00Z")
    subscribe(idea=idea, agent=acme.viewer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change_status(idea=idea, status=IdeaStatus.SHIPPED, agent=acme.agent, shipped_note="Settings > Theme.")

    carmen = [parsed(m) for m in mail.outbox if "carmen" in m.to[0]]
    assert [(m["Subject"], m.get_content()) for m in carmen] == [
        ("Dark mode is live", "Hi Carmen Customer: Settings > Theme.\r\n")
    ]
    skipped = OutboundEmail.objects.get(recipient="gone@globex-acme.example")
    assert (skipped.state, skipped.skip_reason, skipped.kind) == (OutboundState.SKIPPED, "bouncing", "idea_shipped")
    assert OutboundEmail.objects.get(recipient="victor@acme.example").kind == OutboundKind.IDEA_SHIPPED_AGENT


def test_without_a_mailbox_customers_emails_are_written_as_skipped(
    acme: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    idea = create_idea(workspace=acme.workspace, title="Dark mode")
    cast_vote(idea=idea, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    with django_capture_on_commit_callbacks(execute=True):
        change_status(idea=idea, status=IdeaStatus.SHIPPED, agent=acme.agent)
    row = OutboundEmail.objects.get(kind=OutboundKind.IDEA_SHIPPED)
    assert (row.state, row.skip_reason, row.recipient) == (
        OutboundState.SKIPPED,
        "no_mailbox",
        "carmen@globex-acme.example",
    )
    assert IdeaShippedNotice.objects.get().outbound_id == row.pk


def test_the_shipped_templates_are_editable_with_their_own_variables(acme: Cast) -> None:
    page = signed_in_client(acme.admin).get("/settings/email-templates/idea_shipped/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "idea.shipped_note" in html
    assert "Shipped: Export invoices as CSV" in html  # the preview, with the sample idea
    listing = signed_in_client(acme.admin).get("/settings/email-templates/").content.decode()
    assert "/settings/email-templates/idea_shipped_agent/" in listing
