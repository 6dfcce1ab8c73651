"""Answers to surveys: the one write path of a ``SurveyResponse``, reached from a one-click email link, the widget
and the API; and what an answer sets off (the webhook, a follow-up ticket for an unhappy customer).

A response copies where it came from when it is written (the ticket's product area, assignee and team, the contact's
organization), so results stay as they were when the customer answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import Capability, require_role
from deskloop.accounts.models import Agent
from deskloop.core import outbox
from deskloop.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from deskloop.customers.models import Contact
from deskloop.ideas.models import Idea, Importance, VoteSource
from deskloop.ideas.services.votes import Voter, cast_vote
from deskloop.surveys.models import (
    AnswerType,
    CsatScale,
    ResponseChannel,
    Survey,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
)
from deskloop.surveys.queries import in_segment, is_due
from deskloop.surveys.services.follow_up import follow_up_negative_answer, pass_comment_to_follow_up
from deskloop.tickets.models import ProductArea, Ticket

COMMENT_MAX = 5000
# A one-click link works this long after the email was written; later answers describe another time.
INVITATION_VALID_DAYS = 60
# An NPS answer without a ticket is filed under the product area of the contact's latest ticket in this window: what
# they last needed help with is the best evidence of which part of the product the score is about.
NPS_AREA_WINDOW_DAYS = 90

ALREADY_ASKED = gettext_noop("This survey was already answered less than %(days)d days ago.")


def score_bounds(survey: Survey) -> tuple[int, int] | None:
    """The lowest and highest score ``survey`` accepts; None when it asks for text only."""
    if survey.kind == SurveyKind.NPS:
        return 0, 10
    scale = survey.csat_scale if survey.kind == SurveyKind.CSAT else survey.answer_type
    if scale in (CsatScale.GOOD_BAD, AnswerType.YES_NO):
        return 0, 1
    if scale == AnswerType.TEXT:
        return None
    return 1, 5


def satisfied_of(survey: Survey, score: int | None) -> bool | None:
    """CSAT only: good on the good/bad scale (1), or 4-5 on the 1-5 scale."""
    if survey.kind != SurveyKind.CSAT or score is None:
        return None
    return score == 1 if survey.csat_scale == CsatScale.GOOD_BAD else score >= 4


def is_negative(response: SurveyResponse) -> bool:
    """A detractor (NPS 0-6) or an unsatisfied CSAT answer: someone should talk to this customer."""
    if response.kind == SurveyKind.NPS:
        return response.score is not None and response.score <= 6
    return response.kind == SurveyKind.CSAT and response.satisfied is False


def _checked_score(survey: Survey, score: int | None, comment: str) -> tuple[int | None, str]:
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationFailed(_("The comment is too long (at most %(max)d characters).") % {"max": COMMENT_MAX})
    bounds = score_bounds(survey)
    if bounds is None:
        if not comment:
            raise ValidationFailed(_("Write an answer."), field="comment")
        return None, comment
    low, high = bounds
    if score is None or not low <= score <= high:
        raise ValidationFailed(
            _("The score must be a whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
            field="score",
        )
    return score, comment


def _area_for(contact: Contact, ticket: Ticket | None, now: dt.datetime) -> ProductArea | None:
    if ticket is not None:
        return ticket.product_area
    latest = (
        Ticket.objects.filter(
            workspace_id=contact.workspace_id,
            requester=contact,
            product_area__isnull=False,
            created_at__gte=now - dt.timedelta(days=NPS_AREA_WINDOW_DAYS),
        )
        .select_related("product_area")
        .order_by("-created_at")
        .first()
    )
    return latest.product_area if latest else None


def _new_response(
    *,
    survey: Survey,
    contact: Contact,
    ticket: Ticket | None,
    score: int | None,
    comment: str,
    channel: str,
    invitation: SurveyInvitation | None,
    now: dt.datetime,
) -> SurveyResponse:
    response = SurveyResponse.objects.create(
        workspace_id=survey.workspace_id,
        survey=survey,
        kind=survey.kind,
        invitation=invitation,
        contact=contact,
        organization_id=(ticket.organization_id if ticket and ticket.organization_id else contact.organization_id),
        ticket=ticket,
        product_area=_area_for(contact, ticket, now),
        agent_id=ticket.assignee_id if ticket else None,
        team_id=ticket.team_id if ticket else None,
        score=score,
        satisfied=satisfied_of(survey, score),
        comment=comment,
        channel=channel,
        created_at=now,
        updated_at=now,
    )
    outbox.publish(workspace_id=survey.workspace_id, name="survey.response_created", payload=response_payload(response))
    if is_negative(response):
        follow_up_negative_answer(response=response)
    return response


def response_payload(response: SurveyResponse) -> dict[str, Any]:
    """What the webhook ``survey.response_created`` carries (ids only: the receiver asks the API for more)."""
    return {
        "id": response.pk,
        "survey_id": response.survey_id,
        "kind": response.kind,
        "score": response.score,
        "comment": response.comment,
        "channel": response.channel,
        "contact_id": response.contact_id,
        "organization_id": response.organization_id,
        "ticket_id": response.ticket_id,
        "product_area_id": response.product_area_id,
        "agent_id": response.agent_id,
        "team_id": response.team_id,
        "created_at": response.created_at.isoformat(),
    }


def invitation_by_token_hash(digest: str) -> SurveyInvitation:
    invitation = (
        SurveyInvitation.objects.select_related("survey", "workspace", "contact").filter(token_hash=digest).first()
    )
    if invitation is None:
        raise NotFound(_("This survey link is not valid."))
    return invitation


def answer_invitation(*, invitation: SurveyInvitation, score: int, now: dt.datetime | None = None) -> SurveyResponse:
    """The one-click answer: ``score`` for the contact the invitation was sent to. A second click changes that same
    response (never adds one); a link older than ``INVITATION_VALID_DAYS`` is refused."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked: two clicks at once (a double click, a mail scanner and the person) must make one response.
        locked = (
            SurveyInvitation.objects.select_for_update(of=("self",))
            .select_related("survey", "contact", "ticket")
            .get(pk=invitation.pk)
        )
        if locked.created_at < now - dt.timedelta(days=INVITATION_VALID_DAYS):
            raise ValidationFailed(_("This survey link has expired."), code="expired")
        checked, _comment = _checked_score(locked.survey, score, "-")
        existing = SurveyResponse.objects.select_for_update().filter(invitation=locked).first()
        locked.answered_at = now
        locked.save(update_fields=["answered_at"])
        if existing is None:
            return _new_response(
                survey=locked.survey,
                contact=locked.contact,
                ticket=locked.ticket,
                score=checked,
                comment="",
                channel=ResponseChannel.EMAIL,
                invitation=locked,
                now=now,
            )
        was_negative = is_negative(existing)
        existing.score = checked
        existing.satisfied = satisfied_of(locked.survey, checked)
        existing.updated_at = now
        existing.save(update_fields=["score", "satisfied", "updated_at"])
        if is_negative(existing) and not was_negative:
            follow_up_negative_answer(response=existing)
        return existing


def comment_on_invitation(*, invitation: SurveyInvitation, comment: str) -> SurveyResponse:
    """The comment after a one-click score; it replaces an earlier one. A follow-up ticket gets it as the
    customer's message, so the owner reads what they said."""
    with transaction.atomic():
        response = (
            SurveyResponse.objects.select_for_update(of=("self",))
            .select_related("survey", "contact")
            .filter(invitation=invitation)
        ).first()
        if response is None:
            raise ValidationFailed(_("Choose a score first."), field="score")
        _score, cleaned = _checked_score(response.survey, response.score, comment)
        if not cleaned:
            raise ValidationFailed(_("Write a comment."), field="comment")
        response.comment = cleaned
        response.updated_at = timezone.now()
        response.save(update_fields=["comment", "updated_at"])
        pass_comment_to_follow_up(response=response)
    return response


def record_response(
    *,
    survey: Survey,
    contact: Contact,
    score: int | None,
    comment: str = "",
    channel: str,
    ticket: Ticket | None = None,
    now: dt.datetime | None = None,
) -> SurveyResponse:
    """An answer given in the widget or through the API. Refused when the contact answered or was asked this survey
    less than ``min_days_between`` days ago (the widget shows the survey only when it is due)."""
    now = now or timezone.now()
    if contact.workspace_id != survey.workspace_id or (
        ticket is not None and ticket.workspace_id != survey.workspace_id
    ):
        raise NotFound(_("No such survey in this workspace."))
    if not survey.is_active:
        raise Conflict(_("This survey is switched off."), code="survey_inactive")
    if channel not in ResponseChannel.values:
        raise ValidationFailed(_("Unknown channel."), field="channel")
    if not in_segment(contact, survey.segment):
        raise PermissionDenied(_("This survey is for other customers."), code="not_in_segment")
    checked, cleaned = _checked_score(survey, score, comment)
    if ticket is not None:
        # As stored now: the response copies its area, assignee and team, which the caller's copy may predate.
        ticket = Ticket.objects.get(pk=ticket.pk)
    with transaction.atomic():
        # The contact row is the lock: two answers at once cannot both pass the gap check.
        Contact.objects.select_for_update().filter(pk=contact.pk).first()
        if not is_due(survey, contact, now):
            raise Conflict(_(ALREADY_ASKED) % {"days": survey.min_days_between}, code="not_due")
        return _new_response(
            survey=survey,
            contact=contact,
            ticket=ticket,
            score=checked,
            comment=cleaned,
            channel=channel,
            invitation=None,
            now=now,
        )


VOTE_WRITERS_ONLY = gettext_noop("Your role cannot turn an answer into a vote.")


def vote_from_comment(
    *, response: SurveyResponse, idea: Idea, agent: Agent, importance: int = Importance.NICE_TO_HAVE
) -> SurveyResponse:
    """An agent reads the comment as a request for ``idea``: the customer (or, without a contact, their organization)
    votes for it through the one vote write path, and the response remembers the vote."""
    require_role(agent, Capability.WRITE, VOTE_WRITERS_ONLY)
    if response.workspace_id != agent.workspace_id or idea.workspace_id != agent.workspace_id:
        raise NotFound(_("No such survey response in this workspace."))
    if response.contact is None and response.organization is None:
        raise ValidationFailed(_("This answer has no customer to vote for."), field="idea")
    with transaction.atomic():
        cast = cast_vote(
            idea=idea,
            voter=Voter(contact=response.contact) if response.contact else Voter(organization=response.organization),
            source=VoteSource.SURVEY,
            importance=importance,
            ticket=response.ticket,
            agent=agent,
        )
        SurveyResponse.objects.filter(pk=response.pk).update(idea_vote=cast.vote)
    response.idea_vote = cast.vote
    return response
