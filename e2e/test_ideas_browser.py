"""A product manager in a real browser: finds a duplicate idea on the board, merges it into the one to keep, marks
that one shipped with what shipped, and the customers who voted on either get their email."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page

from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.channels.email.tests.test_outbound_notifications import bodies, parsed
from deskloop.conftest import Cast
from deskloop.customers.services import find_or_create_contact
from deskloop.ideas.models import Idea, IdeaStatus, IdeaVote, VoteSource
from deskloop.ideas.services.ideas import create_idea
from deskloop.ideas.services.votes import Voter, cast_vote
from e2e.conftest import expect, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_product_manager_merges_two_ideas_ships_one_and_the_voters_hear_of_it(
    page: Page, live_url: str, acme: Cast
) -> None:
    create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )
    survivor = create_idea(workspace=acme.workspace, title="Single sign-on with Okta")
    duplicate = create_idea(workspace=acme.workspace, title="SSO login")
    pat = find_or_create_contact(workspace=acme.workspace, email="pat@initech.example", name="Pat")
    cast_vote(idea=survivor, voter=Voter(contact=acme.customer), source=VoteSource.PORTAL)
    cast_vote(idea=duplicate, voter=Voter(contact=pat), source=VoteSource.WIDGET, importance=3)
    cast_vote(idea=duplicate, voter=Voter(contact=acme.customer), source=VoteSource.WIDGET, importance=2)
    mail.outbox.clear()

    sign_in(page, live_url, acme.agent)
    page.goto(f"{live_url}/ideas/")
    page.get_by_role("link", name="SSO login").click()
    page.get_by_label("Find the idea to keep").fill("Okta")
    page.get_by_label("Find the idea to keep").press("Enter")
    page.get_by_role("button", name="Merge into this one").click()

    expect(page).to_have_url(f"{live_url}/ideas/{survivor.pk}/")
    expect(page.locator("[data-votes]")).to_have_text("2")
    page.get_by_role("combobox", name="Status").select_option("shipped")
    page.get_by_label("What shipped").fill("Settings > Security > Single sign-on (Okta, SAML).")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#toasts")).to_contain_text("Marked shipped")
    expect(page.locator("[data-status]")).to_contain_text("Shipped")

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert survivor.status == IdeaStatus.SHIPPED
    assert sorted(IdeaVote.objects.filter(idea=survivor).values_list("contact_id", "importance")) == sorted(
        [(acme.customer.pk, 2), (pat.pk, 3)]
    )
    sent = [parsed(m) for m in mail.outbox]
    assert sorted((str(m["To"]), str(m["Subject"])) for m in sent) == [
        ("Carmen Customer <carmen@globex-acme.example>", "Shipped: Single sign-on with Okta"),
        ("Pat <pat@initech.example>", "Shipped: Single sign-on with Okta"),
    ]
    assert all("Settings > Security > Single sign-on (Okta, SAML)." in bodies(m)[0] for m in sent)
    assert Idea.objects.filter(merged_into__isnull=True).count() == 1
