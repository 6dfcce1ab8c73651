"""An unhappy answer (an NPS detractor, a bad CSAT) opens a ticket for the account's owner, so someone talks to the
customer while it still matters.

The ticket's requester is the customer and its first message is their own answer (it is what they said, and the
owner replies to them in it); it is assigned to the organization's owner, or left in the inbox for the team when the
organization has none. It is opened on the "other" channel, so no "we received your request" email goes out for a
request the customer never wrote as one.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from deskloop.surveys.models import SurveyKind, SurveyResponse
from deskloop.tickets.models import Channel
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message
from deskloop.tickets.services.tickets import NewTicket, open_ticket


def _answer_text(response: SurveyResponse) -> str:
    if response.kind == SurveyKind.NPS:
        line = _("How likely are you to recommend us? %(score)s out of 10") % {"score": response.score}
    elif response.satisfied is False and response.survey.csat_scale == "good_bad":
        line = _("How was our support? Bad")
    else:
        line = _("How was our support? %(score)s out of 5") % {"score": response.score}
    if response.ticket is not None:
        line += "\n" + _("About ticket #%(number)s: %(subject)s") % {
            "number": response.ticket.number,
            "subject": response.ticket.subject,
        }
    if response.comment:
        line += "\n\n" + response.comment
    return line


def follow_up_negative_answer(*, response: SurveyResponse) -> None:
    """Open the follow-up ticket once per response (a changed score does not open a second)."""
    if response.follow_up_ticket_id is not None or response.contact is None:
        return
    contact = response.contact
    organization = response.organization
    owner = organization.owner if organization is not None and organization.owner_id else None
    if owner is not None and not owner.is_active:
        owner = None
    with translation.override(owner.user.language if owner is not None else None):
        subject = (
            _("Follow up: NPS %(score)s from %(name)s")
            if response.kind == SurveyKind.NPS
            else _("Follow up: unhappy with support, %(name)s")
        ) % {"score": response.score, "name": contact.display_name}
        body = _answer_text(response)
    ticket, _message = open_ticket(
        workspace=response.workspace,
        ticket=NewTicket(
            requester=contact,
            subject=subject,
            body_text=body,
            channel=Channel.OTHER,
            assignee=owner,
            product_area=response.product_area,
        ),
        via="survey",
    )
    SurveyResponse.objects.filter(pk=response.pk).update(follow_up_ticket=ticket)
    response.follow_up_ticket = ticket


def pass_comment_to_follow_up(*, response: SurveyResponse) -> None:
    """A comment written after the score reaches the owner as the customer's message on the follow-up ticket."""
    if response.follow_up_ticket is None or response.contact is None or not response.comment:
        return
    add_customer_message(
        ticket=response.follow_up_ticket,
        contact=response.contact,
        message=CustomerMessage(body_text=response.comment, channel=Channel.OTHER),
        via="survey",
    )
