"""API shapes of surveys and their responses. Strings are plain text; clients escape them when rendering."""

import datetime as dt

from ninja import Field, Schema

from deskloop.customers.schemas import ContactRef, OrganizationRef
from deskloop.surveys.models import SurveyResponse


class SurveyOut(Schema):
    id: int
    kind: str
    name: str
    question: str
    question_translations: dict[str, str]
    is_active: bool
    min_days_between: int
    segment_id: int | None
    csat_scale: str
    answer_type: str


class SurveyResponseOut(Schema):
    id: int
    survey_id: int
    kind: str = Field(..., description="nps, csat or micro")
    score: int | None = Field(..., description="NPS 0-10; CSAT 1-5, or 0 bad / 1 good; micro 1-5 or 0/1; null: text")
    satisfied: bool | None = Field(..., description="CSAT only: good, or 4-5")
    comment: str
    channel: str = Field(..., description="email, widget or api")
    contact: ContactRef | None
    organization: OrganizationRef | None
    ticket_number: int | None
    product_area_id: int | None
    agent_id: int | None
    team_id: int | None
    idea_vote_id: int | None
    follow_up_ticket_number: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_ticket_number(obj: SurveyResponse) -> int | None:
        return obj.ticket.number if obj.ticket is not None else None

    @staticmethod
    def resolve_follow_up_ticket_number(obj: SurveyResponse) -> int | None:
        return obj.follow_up_ticket.number if obj.follow_up_ticket is not None else None


class SurveyResponsePage(Schema):
    items: list[SurveyResponseOut]
    next_cursor: str | None


class SurveyPage(Schema):
    items: list[SurveyOut]
    next_cursor: str | None


class SurveyResponseListQuery(Schema):
    kind: str | None = Field(None, description="nps, csat or micro")
    survey_id: int | None = None
    product_area_id: int | None = Field(None, description="Includes its sub-areas.")
    segment_id: int | None = Field(None, description="A saved segment: its organizations' answers only.")
    score_min: int | None = None
    score_max: int | None = None
    agent_id: int | None = None
    team_id: int | None = None
    since: dt.date | None = Field(None, description="Answered on or after this day.")
    until: dt.date | None = Field(None, description="Answered on or before this day.")


class SurveyResponseIn(Schema):
    survey_id: int
    contact_id: int | None = Field(None, description="The customer who answered; or give their email.")
    email: str | None = Field(None, max_length=254, description="Found or created as a contact.")
    score: int | None = None
    comment: str = Field("", max_length=5000)
    ticket_number: int | None = Field(None, description="The ticket the answer is about (CSAT).")
