"""The reads behind the deflection report (page and API): how many request sessions each arm had, how many the
articles saved against the holdout with a 95% interval, what customers searched without an answer, which articles
they read and wrote anyway, and what readers said about each article.

Only judged sessions count in a rate: ``verified_deflection`` over it plus ``submitted`` and ``returned``. Sessions
still within their window (open, left, solved) are pending and shown apart, and sessions that ended before any
suggestion (``left_before_suggestion``) are in neither arm: nothing was shown or withheld there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed
from deskloop.knowledge.models import (
    ArticleFeedback,
    ArticleTranslation,
    RequestChannel,
    RequestEvent,
    RequestEventKind,
    RequestOutcome,
    RequestSession,
)
from deskloop.knowledge.statistics import Interval, newcombe_difference, wilson

DEFAULT_DAYS = 30
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2999, 12, 31)
TOP_ROWS = 20
COMMENTS_PER_ARTICLE = 3

DEFLECTED = (RequestOutcome.VERIFIED_DEFLECTION,)
WROTE = (RequestOutcome.SUBMITTED, RequestOutcome.RETURNED)
JUDGED = DEFLECTED + WROTE
PENDING = (RequestOutcome.OPEN, RequestOutcome.LEFT_AFTER_SUGGESTION, RequestOutcome.SOLVED_BY_ARTICLE)
NOT_EXPOSED = (RequestOutcome.LEFT_BEFORE_SUGGESTION,)
# The outcome groups a drill-down link may ask for, beside single outcomes.
OUTCOME_GROUPS: dict[str, tuple[str, ...]] = {
    "judged": JUDGED,
    "deflected": DEFLECTED,
    "wrote": WROTE,
    "pending": PENDING,
    "not_exposed": NOT_EXPOSED,
}
ARMS = {"suggestions": False, "holdout": True}


@dataclass(frozen=True)
class ReportRange:
    """Sessions started from ``start`` through ``end`` (dates in the reader's time zone), of one channel or all."""

    workspace_id: int
    start: dt.date
    end: dt.date
    channel: str = ""

    @property
    def since(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def until(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def params(self) -> dict[str, str]:
        found = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return {**found, "channel": self.channel} if self.channel else found

    def query_string(self, **extra: object) -> str:
        """The URL query of this range plus ``extra`` (a drill-down's filters): what makes a page bookmarkable."""
        return urlencode({**self.params(), **{k: str(v) for k, v in extra.items() if v not in (None, "")}})

    def events(self) -> QuerySet[RequestEvent]:
        """Steps of this range's sessions. A step is never older than its session, so ``since`` bounds them too,
        which lets the (workspace, kind, created_at) index answer instead of every step ever recorded."""
        return RequestEvent.objects.filter(
            workspace_id=self.workspace_id, created_at__gte=self.since, session__in=self.sessions()
        )

    def sessions(self) -> QuerySet[RequestSession]:
        found = RequestSession.objects.filter(
            workspace_id=self.workspace_id, started_at__gte=self.since, started_at__lt=self.until
        )
        return found.filter(channel=self.channel) if self.channel else found


def _date(params: Mapping[str, str], name: str, default: dt.date) -> dt.date:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        found = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(_("Give the date as YYYY-MM-DD."), field=name) from exc
    # Far enough for any report, near enough that the day after the range is still a date.
    if not EARLIEST <= found <= LATEST:
        raise ValidationFailed(_("Give a date between 2000 and 2999."), field=name)
    return found


def parse_range(*, workspace_id: int, params: Mapping[str, str]) -> ReportRange:
    """The range a URL asks for (``from``, ``to``, ``channel``); the last 30 days of all channels by default."""
    today = timezone.localdate()
    end = _date(params, "to", today)
    start = _date(params, "from", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise ValidationFailed(_("The start date is after the end date."), field="from")
    channel = (params.get("channel") or "").strip()
    if channel and channel not in RequestChannel.values:
        raise ValidationFailed(_("Unknown channel."), field="channel")
    return ReportRange(workspace_id=workspace_id, start=start, end=end, channel=channel)


@dataclass
class ArmFigures:
    """One arm's sessions by what became of them, and its deflection rate with a Wilson interval."""

    holdout: bool
    by_outcome: dict[str, int] = field(default_factory=dict)

    def count(self, outcomes: Iterable[str]) -> int:
        return sum(self.by_outcome.get(o, 0) for o in outcomes)

    @property
    def arm(self) -> str:
        return "holdout" if self.holdout else "suggestions"

    @property
    def sessions(self) -> int:
        return sum(self.by_outcome.values())

    @property
    def judged(self) -> int:
        return self.count(JUDGED)

    @property
    def deflected(self) -> int:
        return self.count(DEFLECTED)

    @property
    def wrote(self) -> int:
        return self.count(WROTE)

    @property
    def pending(self) -> int:
        return self.count(PENDING)

    @property
    def not_exposed(self) -> int:
        return self.count(NOT_EXPOSED)

    @property
    def rate(self) -> Interval | None:
        return wilson(self.deflected, self.judged)


@dataclass
class NoAnswerRow:
    query: str
    sessions: int


@dataclass
class ArticleReadRow:
    article_id: int
    title: str
    wrote_sessions: int
    deflected_sessions: int


@dataclass
class HelpfulnessRow:
    article_id: int
    title: str
    helpful: int
    not_helpful: int
    comments: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        total = self.helpful + self.not_helpful
        return self.helpful / total if total else None


@dataclass
class DeflectionReport:
    range: ReportRange
    suggestions: ArmFigures
    holdout: ArmFigures
    no_answer: list[NoAnswerRow]
    reads_not_deflecting: list[ArticleReadRow]
    helpfulness: list[HelpfulnessRow]

    @property
    def difference(self) -> Interval | None:
        """How much more often the suggestion arm is deflected than the holdout (Newcombe's interval)."""
        s, h = self.suggestions, self.holdout
        return newcombe_difference(s.deflected, s.judged, h.deflected, h.judged)

    @property
    def requests_saved(self) -> Interval | None:
        """The difference times the suggestion arm's judged sessions: tickets those sessions did not become."""
        difference = self.difference
        return None if difference is None else difference.scaled(self.suggestions.judged)


def deflection_report(report_range: ReportRange) -> DeflectionReport:
    arms = {holdout: ArmFigures(holdout=holdout) for holdout in (False, True)}
    counted = report_range.sessions().values_list("in_holdout", "outcome").annotate(n=Count("pk")).order_by()
    for holdout, outcome, n in counted:
        arms[holdout].by_outcome[outcome] = n
    return DeflectionReport(
        range=report_range,
        suggestions=arms[False],
        holdout=arms[True],
        no_answer=no_answer_searches(report_range),
        reads_not_deflecting=reads_not_deflecting(report_range),
        helpfulness=helpfulness(report_range),
    )


def no_answer_events(report_range: ReportRange) -> QuerySet[RequestEvent]:
    """Searches and typed requests the ranker had nothing for. Holdout sessions are left out: their empty list is
    the experiment, not a missing answer."""
    return (
        report_range.events()
        .filter(
            session__in_holdout=False,
            kind__in=(RequestEventKind.SEARCHED, RequestEventKind.SUGGESTIONS_SHOWN),
            suggested_article_ids=[],
        )
        .exclude(query="")
    )


def no_answer_searches(report_range: ReportRange) -> list[NoAnswerRow]:
    rows = (
        no_answer_events(report_range)
        .annotate(lowered=Lower("query"))
        .values("lowered")
        .annotate(sessions=Count("session", distinct=True))
        .order_by("-sessions", "lowered")[:TOP_ROWS]
    )
    return [NoAnswerRow(query=row["lowered"], sessions=row["sessions"]) for row in rows]


def reads_not_deflecting(report_range: ReportRange) -> list[ArticleReadRow]:
    """Articles opened in sessions whose customer wrote anyway, most such sessions first."""
    rows = list(
        report_range.events()
        .filter(kind=RequestEventKind.ARTICLE_OPENED, article__isnull=False)
        .values("article_id")
        .annotate(
            wrote=Count("session", distinct=True, filter=Q(session__outcome__in=WROTE)),
            deflected=Count("session", distinct=True, filter=Q(session__outcome__in=DEFLECTED)),
        )
        .filter(wrote__gt=0)
        .order_by("-wrote", "deflected", "article_id")[:TOP_ROWS]
    )
    titles = article_titles(row["article_id"] for row in rows)
    return [
        ArticleReadRow(
            article_id=row["article_id"],
            title=titles.get(row["article_id"], ""),
            wrote_sessions=row["wrote"],
            deflected_sessions=row["deflected"],
        )
        for row in rows
    ]


def feedback_in(report_range: ReportRange) -> QuerySet[ArticleFeedback]:
    """Readers' votes given within the range; with a channel chosen, only votes given inside a session of it."""
    found = ArticleFeedback.objects.filter(
        workspace_id=report_range.workspace_id,
        created_at__gte=report_range.since,
        created_at__lt=report_range.until,
    )
    return found.filter(request_session__channel=report_range.channel) if report_range.channel else found


def helpfulness(report_range: ReportRange) -> list[HelpfulnessRow]:
    """Yes and no votes per article (all its languages), most votes first, with the latest comments."""
    votes = feedback_in(report_range)
    rows = list(
        votes.values("translation__article_id")
        .annotate(yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
        .order_by("-no", "-yes", "translation__article_id")[:TOP_ROWS]
    )
    ids = [row["translation__article_id"] for row in rows]
    titles = article_titles(ids)
    comments: dict[int, list[str]] = {}
    latest = (
        votes.filter(translation__article_id__in=ids)
        .exclude(comment="")
        .order_by("-created_at", "-pk")
        .values_list("translation__article_id", "comment")[: COMMENTS_PER_ARTICLE * TOP_ROWS * 4]
    )
    for article_id, comment in latest:
        kept = comments.setdefault(article_id, [])
        if len(kept) < COMMENTS_PER_ARTICLE:
            kept.append(comment)
    return [
        HelpfulnessRow(
            article_id=row["translation__article_id"],
            title=titles.get(row["translation__article_id"], ""),
            helpful=row["yes"],
            not_helpful=row["no"],
            comments=comments.get(row["translation__article_id"], []),
        )
        for row in rows
    ]


def article_titles(article_ids: Iterable[int], language: str | None = None) -> dict[int, str]:
    """Each article's title in the reader's language, else English, else whichever language it has."""
    wanted = language or (get_language() or "en")[:2]
    preference = {wanted: 0, "en": 1}
    titles: dict[int, tuple[int, str]] = {}
    for article_id, locale, title in ArticleTranslation.objects.filter(article_id__in=set(article_ids)).values_list(
        "article_id", "locale", "title"
    ):
        rank = preference.get(locale, 2)
        if article_id not in titles or rank < titles[article_id][0]:
            titles[article_id] = (rank, title)
    return {article_id: title for article_id, (_rank, title) in titles.items()}
