"""The sessions behind each number of the deflection report: one filter per kind of figure (an arm and an outcome,
a search with no answer, an article read before writing, an article's votes), a page of them with their steps, and
the same sessions as CSV rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from deskloop.core.csv_export import spreadsheet_safe
from deskloop.core.errors import ValidationFailed
from deskloop.knowledge.deflection_report import (
    ARMS,
    OUTCOME_GROUPS,
    ReportRange,
    article_titles,
    feedback_in,
    no_answer_events,
)
from deskloop.knowledge.models import RequestEvent, RequestEventKind, RequestOutcome, RequestSession

QUERY_MAX = 300


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a drill-down link asks for, within ``range``; empty fields do not filter."""

    range: ReportRange
    arm: str = ""
    outcome: str = ""
    no_answer: str = ""
    article: int | None = None
    voted: int | None = None

    def params(self) -> dict[str, str]:
        extra = {
            "arm": self.arm,
            "outcome": self.outcome,
            "no_answer": self.no_answer,
            "article": "" if self.article is None else str(self.article),
            "voted": "" if self.voted is None else str(self.voted),
        }
        return {**self.range.params(), **{k: v for k, v in extra.items() if v}}

    def outcomes(self) -> tuple[str, ...]:
        return OUTCOME_GROUPS.get(self.outcome, (self.outcome,) if self.outcome else ())


def _article_id(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(_("Unknown article."), field=name)
    return int(raw)


def parse_session_filter(report_range: ReportRange, params: Mapping[str, str]) -> SessionFilter:
    arm = (params.get("arm") or "").strip()
    if arm and arm not in ARMS:
        raise ValidationFailed(_("Unknown arm."), field="arm")
    outcome = (params.get("outcome") or "").strip()
    if outcome and outcome not in OUTCOME_GROUPS and outcome not in RequestOutcome.values:
        raise ValidationFailed(_("Unknown outcome."), field="outcome")
    no_answer = " ".join((params.get("no_answer") or "").split())
    if len(no_answer) > QUERY_MAX:
        raise ValidationFailed(_("The search is too long."), field="no_answer")
    return SessionFilter(
        range=report_range,
        arm=arm,
        outcome=outcome,
        no_answer=no_answer.lower(),
        article=_article_id(params, "article"),
        voted=_article_id(params, "voted"),
    )


def filtered_sessions(wanted: SessionFilter) -> QuerySet[RequestSession]:
    """The sessions behind one figure of the report, newest first."""
    if wanted.voted is not None:
        # Votes are counted by when they were given, so their sessions may have started before the range.
        votes = feedback_in(wanted.range).filter(translation__article_id=wanted.voted)
        found = RequestSession.objects.filter(
            workspace_id=wanted.range.workspace_id, pk__in=votes.values("request_session_id")
        )
    else:
        found = wanted.range.sessions()
    if wanted.arm:
        found = found.filter(in_holdout=ARMS[wanted.arm])
    if wanted.outcome:
        found = found.filter(outcome__in=wanted.outcomes())
    if wanted.no_answer:
        events = no_answer_events(wanted.range).annotate(lowered=Lower("query")).filter(lowered=wanted.no_answer)
        found = found.filter(pk__in=events.values("session_id"))
    if wanted.article is not None:
        opened = RequestEvent.objects.filter(kind=RequestEventKind.ARTICLE_OPENED, article_id=wanted.article)
        found = found.filter(pk__in=opened.values("session_id"))
    return found.select_related("contact", "ticket").order_by("-started_at", "-pk")


def with_events(sessions: QuerySet[RequestSession]) -> QuerySet[RequestSession]:
    return sessions.prefetch_related(Prefetch("events", queryset=RequestEvent.objects.order_by("created_at", "pk")))


@dataclass
class SessionRow:
    """A session and its steps, with the titles of the articles those steps name."""

    session: RequestSession
    events: list[RequestEvent]
    titles: dict[int, str]

    def suggested_titles(self, event: RequestEvent) -> list[str]:
        return [self.titles.get(pk, f"#{pk}") for pk in event.suggested_article_ids]

    @property
    def steps(self) -> list[tuple[RequestEvent, list[str], str]]:
        return [
            (event, self.suggested_titles(event), self.titles.get(event.article_id or 0, "")) for event in self.events
        ]


def session_rows(sessions: list[RequestSession]) -> list[SessionRow]:
    """Rows for sessions read with ``with_events``: the article titles of all their steps in one query."""
    ids: set[int] = set()
    for session in sessions:
        for event in session.events.all():
            ids.update(pk for pk in event.suggested_article_ids if isinstance(pk, int))
            if event.article_id:
                ids.add(event.article_id)
    titles = article_titles(ids)
    return [SessionRow(session=s, events=list(s.events.all()), titles=titles) for s in sessions]


CSV_HEADER = (
    "session",
    "started_at",
    "channel",
    "locale",
    "arm",
    "outcome",
    "outcome_at",
    "contact_id",
    "ticket_number",
    "searches",
    "suggested_article_ids",
    "opened_article_ids",
    "solved_article_ids",
)


def csv_rows(sessions: QuerySet[RequestSession]) -> Iterator[list[str]]:
    """One row per session, read in chunks (with its steps) so an export of any size stays in bounded memory."""
    yield list(CSV_HEADER)
    for session in with_events(sessions).iterator(chunk_size=500):
        events = list(session.events.all())
        searches = [e.query for e in events if e.query]
        suggested: list[int] = []
        for event in events:
            suggested.extend(pk for pk in event.suggested_article_ids if pk not in suggested)

        def articles(kind: str, events: list[RequestEvent] = events) -> str:
            return " ".join(str(e.article_id) for e in events if e.kind == kind and e.article_id)

        yield [
            str(session.key),
            session.started_at.isoformat(),
            session.channel,
            session.locale,
            "holdout" if session.in_holdout else "suggestions",
            session.outcome,
            session.outcome_at.isoformat() if session.outcome_at else "",
            str(session.contact_id or ""),
            str(session.ticket.number) if session.ticket else "",
            spreadsheet_safe(" | ".join(searches)),
            " ".join(str(pk) for pk in suggested),
            articles(RequestEventKind.ARTICLE_OPENED),
            articles(RequestEventKind.SOLVED),
        ]
