"""The demo's self-service funnel: a month of request sessions in the portal, the widget and the help center, so the
deflection report and the tickets' "Before writing" panel have something to show on first run.

Sessions are written as rows with their own timestamps (the recording services stamp "now", and this history is
backdated); the holdout is decided by the real stable hash, and the real sweep judges them at the end, so what the
report shows is what the product would have measured. Customers who submitted anyway are the requesters of the demo's
recent tickets, each session starting a few minutes before its ticket.
"""

from __future__ import annotations

import datetime as dt
import random

from deskloop.accounts.models import Workspace
from deskloop.customers.models import Contact
from deskloop.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleState,
    ArticleTranslation,
    ArticleVisibility,
    RequestChannel,
    RequestEvent,
    RequestEventKind,
    RequestOutcome,
    RequestSession,
)
from deskloop.knowledge.services.deflection_sweep import judge_request_sessions
from deskloop.knowledge.services.request_sessions import holdout_percent, in_holdout, visitor_hash
from deskloop.tickets.models import Ticket

DAYS = 30
SESSIONS_WITHOUT_TICKET = 220
SUBMITTED_SESSIONS = 60
QUESTIONS = (
    "reset my password",
    "invoice shows the wrong VAT number",
    "export my data to CSV",
    "add a teammate to the account",
    "cancel my subscription",
    "turn on two-factor authentication",
    "change the billing email",
    "set up single sign-on",
)
# What the help center has no article for: the report's "searches with no answer".
UNANSWERED = ("data processing agreement", "on-premise installation", "HIPAA compliance", "invoice in yen")
COMMENTS = ("Step 3 no longer matches the screen.", "Clear, thanks!", "The screenshot is outdated.")


def seed_request_sessions(*, workspace: Workspace, now: dt.datetime, seed: int = 10) -> int:
    """About 280 sessions over the last 30 days, judged by the sweep; returns how many."""
    rng = random.Random(seed)
    articles = list(
        Article.objects.filter(
            workspace=workspace,
            visibility=ArticleVisibility.PUBLIC,
            translations__state=ArticleState.PUBLISHED,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    contacts = list(Contact.objects.filter(workspace=workspace).order_by("pk")[:300])
    percent = holdout_percent(workspace)
    made = 0
    for index in range(SESSIONS_WITHOUT_TICKET):
        started = now - dt.timedelta(minutes=rng.randint(4 * 60, DAYS * 24 * 60))
        contact = rng.choice(contacts) if contacts and rng.random() < 0.5 else None
        session = _session(workspace, rng, started=started, contact=contact, visitor=f"demo-{index}", percent=percent)
        _steps(session, rng, articles, solved_share=0.45)
        made += 1
    recent = Ticket.objects.filter(workspace=workspace, created_at__gte=now - dt.timedelta(days=DAYS))
    for ticket in recent.select_related("requester").order_by("created_at", "pk")[:SUBMITTED_SESSIONS]:
        started = ticket.created_at - dt.timedelta(minutes=rng.randint(2, 15))
        session = _session(
            workspace, rng, started=started, contact=ticket.requester, visitor=f"ticket-{ticket.pk}", percent=percent
        )
        _steps(session, rng, articles, solved_share=0.0)
        _event(session, RequestEventKind.SUBMITTED, at=ticket.created_at)
        RequestSession.objects.filter(pk=session.pk).update(
            ticket=ticket, outcome=RequestOutcome.SUBMITTED, outcome_at=ticket.created_at
        )
        made += 1
    _votes(workspace, rng, now=now)
    judge_request_sessions(now=now)
    return made


def _session(
    workspace: Workspace,
    rng: random.Random,
    *,
    started: dt.datetime,
    contact: Contact | None,
    visitor: str,
    percent: int,
) -> RequestSession:
    side = f"contact:{contact.pk}" if contact is not None else f"visitor:{visitor_hash(visitor)}"
    channel = rng.choice([RequestChannel.PORTAL, RequestChannel.WIDGET, RequestChannel.HELP_CENTER])
    if contact is not None and channel == RequestChannel.HELP_CENTER:
        channel = RequestChannel.PORTAL
    return RequestSession.objects.create(
        workspace=workspace,
        channel=channel,
        locale=rng.choice(["en", "en", "en", "es", "ru"]),
        contact=contact,
        visitor_hash="" if contact is not None else visitor_hash(visitor),
        email=contact.primary_email if contact is not None else "",
        in_holdout=in_holdout(workspace=workspace, visitor=side, percent=percent),
        started_at=started,
        last_event_at=started,
    )


def _event(session: RequestSession, kind: str, *, at: dt.datetime, **values: object) -> None:
    RequestEvent.objects.create(workspace_id=session.workspace_id, session=session, kind=kind, created_at=at, **values)
    RequestSession.objects.filter(pk=session.pk).update(last_event_at=at)


def _steps(session: RequestSession, rng: random.Random, articles: list[int], *, solved_share: float) -> None:
    """What the customer typed or searched, what was shown (nothing in the holdout), what they read."""
    at = session.started_at + dt.timedelta(seconds=20)
    unanswered = rng.random() < 0.15
    query = rng.choice(UNANSWERED if unanswered else QUESTIONS)
    shown = [] if session.in_holdout or unanswered or not articles else rng.sample(articles, min(3, len(articles)))
    kind = (
        RequestEventKind.SEARCHED
        if session.channel == RequestChannel.HELP_CENTER
        else RequestEventKind.SUGGESTIONS_SHOWN
    )
    _event(session, kind, at=at, query=query, suggested_article_ids=shown)
    if not shown or rng.random() < 0.35:
        return
    opened = shown[0] if rng.random() < 0.7 else rng.choice(shown)
    at += dt.timedelta(seconds=rng.randint(10, 90))
    _event(session, RequestEventKind.ARTICLE_OPENED, at=at, article_id=opened)
    if rng.random() < solved_share:
        at += dt.timedelta(seconds=rng.randint(30, 240))
        _event(session, RequestEventKind.SOLVED, at=at, article_id=opened)
        RequestSession.objects.filter(pk=session.pk).update(outcome=RequestOutcome.SOLVED_BY_ARTICLE, outcome_at=at)


def _votes(workspace: Workspace, rng: random.Random, *, now: dt.datetime) -> None:
    """Readers' "was this helpful?" on a few articles, some with a comment."""
    translations = list(
        ArticleTranslation.objects.filter(workspace=workspace, state=ArticleState.PUBLISHED).order_by("pk")[:12]
    )
    for translation in translations:
        for _ in range(rng.randint(1, 6)):
            helpful = rng.random() < 0.7
            ArticleFeedback.objects.create(
                workspace=workspace,
                translation=translation,
                helpful=helpful,
                comment="" if rng.random() < 0.7 else rng.choice(COMMENTS),
                created_at=now - dt.timedelta(minutes=rng.randint(60, DAYS * 24 * 60)),
            )
