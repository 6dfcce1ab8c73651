"""An NPS answer by one click from the email: the customer opens the survey email, clicks a score, adds a comment,
then changes their mind with another click; one response holds the last score and the comment."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page

from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.surveys.services.invitations import send_due_nps_invitations
from deskloop.surveys.services.surveys import SurveySettings, save_survey

from .conftest import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _html_body(sent: Any) -> str:
    message = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    return str(html.get_content())


def test_a_customer_answers_nps_with_one_click_from_the_email(
    page: Page, live_url: str, acme: Cast, settings: Any
) -> None:
    # The links in the email point at this server, as they point at the installation's SITE_URL in production.
    settings.SITE_URL = live_url
    create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )
    save_survey(
        agent=acme.admin,
        settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="How likely are you to recommend Acme?"),
    )
    mail.outbox.clear()
    assert send_due_nps_invitations() == 1
    (sent,) = [message for message in mail.outbox if message.to == ["carmen@globex-acme.example"]]

    # The email as the customer's mail client shows it: a row of scores, each a link.
    page.set_content(_html_body(sent))
    expect(page.get_by_text("How likely are you to recommend Acme?")).to_be_visible()
    page.get_by_role("link", name="9", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("We recorded your answer: 9.")
    page.get_by_label("Anything you would like to add?").fill("The reports save us hours")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    # A second click on another score in the same email changes that answer; it never adds one.
    page.set_content(_html_body(sent))
    page.get_by_role("link", name="10", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("We recorded your answer: 10.")

    response = SurveyResponse.objects.get()
    assert (response.contact, response.score, response.comment, response.channel) == (
        acme.customer,
        10,
        "The reports save us hours",
        "email",
    )
