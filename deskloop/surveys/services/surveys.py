"""Surveys as an admin sets them up: kind, question per language, gap, audience, scale, on or off."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import NotFound, ValidationFailed
from deskloop.customers.models import Segment
from deskloop.surveys.models import AnswerType, CsatScale, Survey, SurveyKind

SURVEYS_ADMINS_ONLY = gettext_noop("Only admins can change surveys.")
QUESTION_MAX = 500
LANGUAGES = ("es", "ru")
# NPS asks a contact at most every 90 days by default; CSAT asks about each solved ticket.
DEFAULT_GAP_DAYS = {SurveyKind.NPS: 90, SurveyKind.CSAT: 0, SurveyKind.MICRO: 30}


@dataclass(frozen=True)
class SurveySettings:
    kind: str
    name: str
    question: str
    question_translations: dict[str, str] = field(default_factory=dict)
    is_active: bool = True
    min_days_between: int | None = None
    segment: Segment | None = None
    csat_scale: str = CsatScale.GOOD_BAD
    answer_type: str = AnswerType.ONE_TO_FIVE


def _checked(agent: Agent, wanted: SurveySettings) -> SurveySettings:
    if wanted.kind not in SurveyKind.values:
        raise ValidationFailed(_("Unknown survey kind."), field="kind")
    name = " ".join(wanted.name.split())
    if not name or len(name) > 200:
        raise ValidationFailed(_("A survey needs a name of at most 200 characters."), field="name")
    question = " ".join(wanted.question.split())
    if not question or len(question) > QUESTION_MAX:
        raise ValidationFailed(_("A survey needs a question of at most 500 characters."), field="question")
    translations = {
        code: " ".join(text.split())[:QUESTION_MAX]
        for code, text in wanted.question_translations.items()
        if code in LANGUAGES and text.strip()
    }
    gap = DEFAULT_GAP_DAYS[SurveyKind(wanted.kind)] if wanted.min_days_between is None else wanted.min_days_between
    if not 0 <= gap <= 3650:
        raise ValidationFailed(_("The gap must be between 0 and 3650 days."), field="min_days_between")
    if wanted.csat_scale not in CsatScale.values:
        raise ValidationFailed(_("Unknown CSAT scale."), field="csat_scale")
    if wanted.answer_type not in AnswerType.values:
        raise ValidationFailed(_("Unknown answer type."), field="answer_type")
    if wanted.segment is not None and wanted.segment.workspace_id != agent.workspace_id:
        raise ValidationFailed(_("No such segment in this workspace."), field="segment")
    return SurveySettings(
        kind=wanted.kind,
        name=name,
        question=question,
        question_translations=translations,
        is_active=wanted.is_active,
        min_days_between=gap,
        segment=wanted.segment,
        csat_scale=wanted.csat_scale,
        answer_type=wanted.answer_type,
    )


def save_survey(*, agent: Agent, settings: SurveySettings, survey: Survey | None = None) -> Survey:
    """Create a survey, or change ``survey``. Its kind never changes: its answers were given to that question."""
    require_admin(agent, SURVEYS_ADMINS_ONLY)
    cleaned = _checked(agent, settings)
    target = survey or Survey(workspace_id=agent.workspace_id, kind=cleaned.kind)
    if target.workspace_id != agent.workspace_id:
        raise NotFound(_("No such survey in this workspace."))
    if survey is not None and survey.kind != cleaned.kind:
        raise ValidationFailed(_("A survey's kind cannot change."), field="kind")
    target.name = cleaned.name
    target.question = cleaned.question
    target.question_translations = cleaned.question_translations
    target.is_active = cleaned.is_active
    target.min_days_between = cleaned.min_days_between or 0
    target.segment = cleaned.segment
    target.csat_scale = cleaned.csat_scale
    target.answer_type = cleaned.answer_type
    with transaction.atomic():
        target.save()
    return target
