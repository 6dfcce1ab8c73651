"""Stories of surveys by email: a solved ticket asks CSAT, the schedule asks NPS, and the customer answers with one
click from the email; a second click changes the same answer; an unhappy answer opens a ticket for the account
owner; a link answers for its own contact and survey only."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from deskloop.channels.email.models import Mailbox, OutboundEmail
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast
from deskloop.core.models import OutboxEvent
from deskloop.customers.models import Organization
from deskloop.customers.services import find_or_create_contact
from deskloop.surveys.models import CsatScale, Survey, SurveyInvitation, SurveyKind, SurveyResponse
from deskloop.surveys.services.invitations import send_due_nps_invitations
from deskloop.surveys.services.surveys import SurveySettings, save_survey
from deskloop.tickets.models import StatusCategory, Ticket
from deskloop.tickets.queries import default_status
from deskloop.tickets.services.tickets import TicketChanges, update_ticket

Capture = Callable[..., Any]
NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
LINK = re.compile(r"https?://[^\s\"<>]+/s/([A-Za-z0-9_-]+)/(\d+)/")


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(
        actor=acme.admin,
        values=MailboxSettings(address="support@acme.example", display_name="Acme Support", default_team=acme.support),
    )


def _links(body: str) -> dict[int, str]:
    """Score -> the path of its one-click link."""
    return {int(score): f"/s/{token}/{score}/" for token, score in LINK.findall(body)}


def _read(sent: Any) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of an email as it went out."""
    message = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return (
        str(message["Subject"]),
        str(text.get_content()).replace("\r\n", "\n"),
        str(html.get_content()).replace("\r\n", "\n"),
    )


def _solve(acme: Cast, capture: Capture, ticket: Ticket | None = None) -> None:
    solved = default_status(acme.workspace.pk, StatusCategory.SOLVED)
    with capture(execute=True):
        update_ticket(ticket=ticket or acme.ticket, changes=TicketChanges(status=solved), agent=acme.agent)


@time_machine.travel(NOW, tick=False)
def test_a_solved_ticket_asks_csat_and_one_click_answers_it(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    save_survey(
        agent=acme.admin,
        settings=SurveySettings(
            kind=SurveyKind.CSAT, name="Support CSAT", question="How was our support?", csat_scale=CsatScale.ONE_TO_FIVE
        ),
    )
    update_ticket(ticket=acme.ticket, changes=TicketChanges(assignee=acme.agent), agent=acme.admin)
    mail.outbox.clear()
    _solve(acme, django_capture_on_commit_callbacks)

    surveys = [m for m in mail.outbox if m.to == ["carmen@globex-acme.example"]]
    assert len(surveys) == 1
    subject, text, html = _read(surveys[0])
    assert subject == "How did we do? Invoice shows the wrong VAT number"
    links = _links(text)
    assert sorted(links) == [1, 2, 3, 4, 5]
    assert _links(html) == links
    assert "Your request #1 (Invoice shows the wrong VAT number) was solved.\nHow was our support?" in text

    client = Client()
    page = client.get(links[4])
    assert page.status_code == 200
    assert "We recorded your answer: 4" in page.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.kind, response.score, response.satisfied, response.channel) == ("csat", 4, True, "email")
    assert (response.contact, response.ticket_id, response.agent, response.team) == (
        acme.customer,
        acme.ticket.pk,
        acme.agent,
        acme.support,
    )
    assert response.organization == acme.organization

    # A second click changes the same answer; the comment box adds to it.
    assert client.get(links[5]).status_code == 200
    thanks = client.post(links[5].rsplit("/", 2)[0] + "/comment/", {"comment": "Fast and friendly"})
    assert thanks.status_code == 302
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (5, "Fast and friendly")
    assert OutboxEvent.objects.filter(name="survey.response_created").count() == 1

    # Solving it again (reopened and solved) does not ask twice about the same ticket.
    mail.outbox.clear()
    _solve(acme, django_capture_on_commit_callbacks)
    assert SurveyInvitation.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_detractor_opens_a_follow_up_ticket_for_the_account_owner(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    Organization.objects.filter(pk=acme.organization.pk).update(owner=acme.other_team_agent)
    save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="Recommend us?"))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_nps_invitations() == 1
    (invitation_mail,) = [m for m in mail.outbox if m.to == ["carmen@globex-acme.example"]]
    links = _links(_read(invitation_mail)[1])
    assert sorted(links) == list(range(11))

    with django_capture_on_commit_callbacks(execute=True):
        Client().get(links[3])
    response = SurveyResponse.objects.get()
    follow_up = response.follow_up_ticket
    assert follow_up is not None
    assert follow_up.assignee == acme.other_team_agent
    assert follow_up.requester == acme.customer
    assert follow_up.subject == "Follow up: NPS 3 from Carmen Customer"
    assert follow_up.messages.get().body_text == "How likely are you to recommend us? 3 out of 10"
    # The comment reaches the owner on the same ticket; a changed score opens no second one.
    Client().post(links[3].rsplit("/", 2)[0] + "/comment/", {"comment": "Exports keep failing"})
    Client().get(links[2])
    assert Ticket.objects.filter(subject__startswith="Follow up").count() == 1
    assert list(follow_up.messages.order_by("id").values_list("body_text", flat=True))[-1] == "Exports keep failing"


@time_machine.travel(NOW, tick=False)
def test_nps_asks_each_contact_at_most_once_per_gap(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    save_survey(
        agent=acme.admin,
        settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="Recommend us?", min_days_between=30),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_nps_invitations() == 1
        assert send_due_nps_invitations() == 0
    with time_machine.travel(NOW + dt.timedelta(days=29), tick=False):
        assert send_due_nps_invitations() == 0
    with time_machine.travel(NOW + dt.timedelta(days=31), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_due_nps_invitations() == 1
    assert OutboundEmail.objects.filter(kind="survey_nps").count() == 2


@time_machine.travel(NOW, tick=False)
def test_a_link_answers_only_its_own_invitation(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    find_or_create_contact(workspace=acme.workspace, email="ivan@globex-acme.example", name="Ivan")
    save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="Recommend us?"))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_nps_invitations() == 2
    by_person = {m.to[0]: _links(_read(m)[1]) for m in mail.outbox}
    carmen, ivan = by_person["carmen@globex-acme.example"], by_person["ivan@globex-acme.example"]
    Client().get(carmen[10])
    Client().get(ivan[0])
    Client().get(carmen[9])
    answers = dict(SurveyResponse.objects.values_list("contact__name", "score"))
    assert answers == {"Carmen Customer": 9, "Ivan": 0}
    # A made-up or altered token, a score out of range: refused, nothing recorded.
    token = carmen[9].split("/")[2]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().get(f"/s/{altered}/9/").status_code == 404
    assert Client().get(f"/s/{token}/11/").status_code == 422
    assert Client().post(f"/s/{altered}/comment/", {"comment": "spam"}).status_code == 404
    assert SurveyResponse.objects.count() == 2
    assert SurveyResponse.objects.get(contact__name="Carmen Customer").score == 9
    # The page shows the contact's own answer, nobody else's name.
    page = Client().get(f"/s/{token}/").content.decode()
    assert "Ivan" not in page
    assert "ivan@" not in page
    assert "990" not in page


@time_machine.travel(NOW, tick=False)
def test_an_old_link_is_refused(acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture) -> None:
    save_survey(agent=acme.admin, settings=SurveySettings(kind=SurveyKind.NPS, name="NPS", question="Recommend us?"))
    with django_capture_on_commit_callbacks(execute=True):
        send_due_nps_invitations()
    links = _links(_read(mail.outbox[0])[1])
    with time_machine.travel(NOW + dt.timedelta(days=61), tick=False):
        assert Client().get(links[8]).status_code == 422
    assert SurveyResponse.objects.count() == 0
    assert Survey.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_workspaces_own_wording_and_the_contacts_language(
    acme: Cast, mailbox: Mailbox, django_capture_on_commit_callbacks: Capture
) -> None:
    from deskloop.channels.email.email_templates import save_email_template
    from deskloop.conftest import signed_in_client

    editor = signed_in_client(acme.admin).get("/settings/email-templates/survey_nps/")
    assert editor.status_code == 200
    assert "survey.links" in editor.content.decode()
    save_email_template(
        actor=acme.admin,
        kind="survey_nps",
        subject="{{ workspace.name }} asks",
        body_text="{{ survey.question }}{% for link in survey.links %} {{ link.label }}={{ link.url }}{% endfor %}",
        body_html="",
    )
    find_or_create_contact(workspace=acme.workspace, email="ines@globex-acme.example", name="Inés", locale="es")
    save_survey(
        agent=acme.admin,
        settings=SurveySettings(
            kind=SurveyKind.NPS, name="NPS", question="Recommend us?", question_translations={"es": "¿Nos recomienda?"}
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_nps_invitations() == 2
    by_person = {m.to[0]: m for m in mail.outbox}

    def plain(sent: Any) -> tuple[str, str]:
        message = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(message["Subject"]), str(body.get_content())

    subject, text = plain(by_person["ines@globex-acme.example"])
    assert subject == "Acme asks"
    assert "¿Nos recomienda? 0=http" in text
    assert "Recommend us? 0=http" in plain(by_person["carmen@globex-acme.example"])[1]
    page = Client().get(_links(text)[7]).content.decode()
    assert "¡Gracias! Registramos su respuesta: 7." in page
