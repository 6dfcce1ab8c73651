"""API shapes of quality reviews. Strings are plain text; clients escape them when rendering."""

import datetime as dt

from ninja import Field, Schema

from deskloop.quality.models import Review, ReviewScore


class ReviewScoreOut(Schema):
    criterion_id: int
    criterion: str = Field(..., description="The criterion's name.")
    rating: int | None = Field(..., description="0 (poor) to 4 (excellent); null: not applicable")
    weight: int = Field(..., description="The criterion's weight when the review was written.")

    @staticmethod
    def resolve_criterion(obj: ReviewScore) -> str:
        return obj.criterion.name


class ReviewOut(Schema):
    id: int
    ticket_number: int
    agent_id: int = Field(..., description="The agent whose part in the conversation was reviewed.")
    reviewer_id: int | None
    score: int = Field(..., description="0-100: the weighted mean of the applicable ratings over the best possible.")
    comment: str
    week: dt.date = Field(..., description="The Monday of the review week (its sample's week, else when written).")
    created_at: dt.datetime
    scores: list[ReviewScoreOut]

    @staticmethod
    def resolve_ticket_number(obj: Review) -> int:
        return obj.ticket.number

    @staticmethod
    def resolve_scores(obj: Review) -> list[ReviewScore]:
        return list(obj.scores.all())


class ReviewPage(Schema):
    items: list[ReviewOut]
    next_cursor: str | None


class ReviewListQuery(Schema):
    agent_id: int | None = Field(None, description="Reviews of this agent's conversations.")
    since: dt.date | None = Field(None, description="Written on or after this day (the workspace's time zone).")
    until: dt.date | None = Field(None, description="Written on or before this day (the workspace's time zone).")
