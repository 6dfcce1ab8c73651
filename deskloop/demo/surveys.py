"""The demo's surveys: an NPS survey, a CSAT survey after solved tickets and a micro-survey, with six months of NPS
answers and a CSAT answer for most solved tickets, so the survey results and the product manager's page show real
figures on first run.

The surveys are set up through the real service; the answers are history, so they are written as rows with their
own timestamps (the recording service stamps "now", and would open today's follow-up tickets for months-old
detractors), copying what the service copies: the contact's organization, the ticket's area, assignee and team.
"""

from __future__ import annotations

import datetime as dt
import random

from deskloop.accounts.models import Agent, Workspace
from deskloop.customers.models import Contact
from deskloop.surveys import tokens
from deskloop.surveys.models import CsatScale, ResponseChannel, Survey, SurveyInvitation, SurveyKind, SurveyResponse
from deskloop.surveys.services.surveys import SurveySettings, save_survey
from deskloop.tickets.models import Ticket

NPS_DAYS = 180
NPS_ANSWER_SHARE = 0.45
CSAT_ANSWER_SHARE = 0.6
# Within the NPS survey's 90-day gap, so nobody is due when the demo starts.
ASKED_WITHIN_DAYS = 85
# Scores 0-10 as customers give them (a few detractors, many passives and promoters), and per product area a lean
# so the breakdown has something to say: billing hurts, reports delight.
NPS_WEIGHTS = [2, 1, 1, 2, 2, 4, 5, 9, 12, 14, 11]
AREA_LEAN = {"Billing": -2, "Reports": 1}
CSAT_WEIGHTS = [2, 2, 3, 8, 14]
COMMENTS = {
    "low": ["Invoices keep showing the old VAT number.", "Exports time out on big accounts.", "Too slow to answer."],
    "mid": ["Works, but the mobile app lags behind.", "Fine overall."],
    "high": ["Support is quick and friendly.", "The reports save us hours every week.", ""],
}


def _comment(rng: random.Random, score: int, top: int) -> str:
    bucket = "low" if score <= top * 0.6 else "mid" if score < top * 0.9 else "high"
    return rng.choice(COMMENTS[bucket]) if rng.random() < 0.5 else ""


def seed_surveys(*, workspace: Workspace, admin: Agent, now: dt.datetime) -> int:
    """Set up the surveys and write their answers; returns how many answers."""
    rng = random.Random(11)
    nps = save_survey(
        agent=admin,
        settings=SurveySettings(
            kind=SurveyKind.NPS,
            name="Quarterly NPS",
            question="How likely are you to recommend Acme to a friend or colleague?",
            question_translations={
                "es": "¿Qué probabilidad hay de que recomiende Acme a un amigo o colega?",
                "ru": "Насколько вероятно, что вы порекомендуете Acme другу или коллеге?",
            },
        ),
    )
    csat = save_survey(
        agent=admin,
        settings=SurveySettings(
            kind=SurveyKind.CSAT,
            name="Support CSAT",
            question="How would you rate the support you received?",
            question_translations={
                "es": "¿Cómo valora la atención que recibió?",
                "ru": "Как вы оцениваете полученную поддержку?",
            },
            csat_scale=CsatScale.ONE_TO_FIVE,
        ),
    )
    save_survey(
        agent=admin,
        settings=SurveySettings(
            kind=SurveyKind.MICRO,
            name="Scheduled exports",
            question="Would scheduled CSV exports help your team?",
            answer_type="yes_no",
            is_active=False,
        ),
    )
    rows = _nps_answers(workspace, nps, rng, now) + _csat_answers(workspace, csat, rng, now)
    SurveyResponse.objects.bulk_create(rows)
    _asked_this_quarter(workspace=workspace, nps=nps, rng=rng, now=now)
    return len(rows)


def _nps_answers(workspace: Workspace, nps: Survey, rng: random.Random, now: dt.datetime) -> list[SurveyResponse]:
    """A share of the contacts answered NPS over the last months, leaning by the area of their latest ticket."""
    rows: list[SurveyResponse] = []
    latest_ticket: dict[int, Ticket] = {}
    for opened in Ticket.objects.filter(workspace=workspace).select_related("product_area").order_by("created_at"):
        latest_ticket[opened.requester_id] = opened
    for contact in Contact.objects.filter(workspace=workspace).order_by("id"):
        if rng.random() > NPS_ANSWER_SHARE:
            continue
        last = latest_ticket.get(contact.pk)
        area = last.product_area if last is not None else None
        root = area.path.split(" > ")[0] if area is not None else ""
        score = min(10, max(0, rng.choices(range(11), weights=NPS_WEIGHTS)[0] + AREA_LEAN.get(root, 0)))
        at = now - dt.timedelta(days=rng.randint(1, NPS_DAYS), hours=rng.randint(0, 23))
        rows.append(
            SurveyResponse(
                workspace=workspace,
                survey=nps,
                kind=SurveyKind.NPS,
                contact=contact,
                organization_id=contact.organization_id,
                product_area=area,
                score=score,
                comment=_comment(rng, score, 10),
                channel=rng.choice([ResponseChannel.EMAIL, ResponseChannel.WIDGET]),
                created_at=at,
                updated_at=at,
            )
        )
    return rows


def _csat_answers(workspace: Workspace, csat: Survey, rng: random.Random, now: dt.datetime) -> list[SurveyResponse]:
    """A share of the solved tickets' requesters rated the support, a day or so after the ticket was solved."""
    rows: list[SurveyResponse] = []
    solved = Ticket.objects.filter(workspace=workspace, solved_at__isnull=False).order_by("id")
    for ticket in solved:
        if rng.random() > CSAT_ANSWER_SHARE or ticket.solved_at is None:
            continue
        score = rng.choices(range(1, 6), weights=CSAT_WEIGHTS)[0]
        at = min(now, ticket.solved_at + dt.timedelta(hours=rng.randint(1, 30)))
        rows.append(
            SurveyResponse(
                workspace=workspace,
                survey=csat,
                kind=SurveyKind.CSAT,
                contact_id=ticket.requester_id,
                organization_id=ticket.organization_id,
                ticket=ticket,
                product_area_id=ticket.product_area_id,
                agent_id=ticket.assignee_id,
                team_id=ticket.team_id,
                score=score,
                satisfied=score >= 4,
                comment=_comment(rng, score, 5),
                channel=ResponseChannel.EMAIL,
                created_at=at,
                updated_at=at,
            )
        )
    return rows


def _asked_this_quarter(*, workspace: Workspace, nps: Survey, rng: random.Random, now: dt.datetime) -> None:
    """Everyone not answering lately was emailed during the last quarter (and did not answer), so the schedule finds
    nobody due on first run: the demo does not email its fictional customers."""
    recent = now - dt.timedelta(days=ASKED_WITHIN_DAYS)
    answered = set(
        SurveyResponse.objects.filter(survey=nps, created_at__gte=recent).values_list("contact_id", flat=True)
    )
    invitations = []
    for contact_id in Contact.objects.filter(workspace=workspace).order_by("id").values_list("id", flat=True):
        if contact_id in answered:
            continue
        nonce = tokens.new_nonce()
        at = now - dt.timedelta(days=rng.randint(1, ASKED_WITHIN_DAYS), hours=rng.randint(0, 23))
        invitations.append(
            SurveyInvitation(
                workspace=workspace,
                survey=nps,
                contact_id=contact_id,
                nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for_nonce(nonce)),
                created_at=at,
                sent_at=at,
            )
        )
    SurveyInvitation.objects.bulk_create(invitations)
