"""Writes for the self-service funnel: a request session and its steps (searched, suggestions shown, article
opened, "this solved my problem", submitted anyway).

The portal, the widget and the help center call these; the deflection report and the sweep that judges sessions
read what they leave. Whether a session is in the holdout is decided once, when it starts, from a stable hash of
the visitor, so one person stays on one side however many sessions they open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from deskloop.accounts.models import Workspace
from deskloop.customers.models import Contact
from deskloop.knowledge.models import (
    Article,
    HelpCenter,
    RequestChannel,
    RequestEvent,
    RequestEventKind,
    RequestOutcome,
    RequestSession,
)
from deskloop.knowledge.suggestions import Suggestion, suggest_articles
from deskloop.tickets.models import Ticket

QUERY_KEEP = 300
DEFAULT_HOLDOUT_PERCENT = 10


def visitor_hash(value: str) -> str:
    """What is stored for an anonymous visitor id or an address: its SHA-256, never the value itself."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def holdout_percent(workspace: Workspace) -> int:
    found = HelpCenter.objects.filter(workspace=workspace).values_list("holdout_percent", flat=True).first()
    return DEFAULT_HOLDOUT_PERCENT if found is None else int(found)


def in_holdout(*, workspace: Workspace, visitor: str, percent: int) -> bool:
    """Stable: the same visitor of the same workspace always lands on the same side (salted by the workspace,
    so two workspaces' holdouts are independent)."""
    digest = hashlib.sha256(f"holdout:{workspace.pk}:{visitor}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


@transaction.atomic
def start_request_session(
    *,
    workspace: Workspace,
    channel: RequestChannel,
    locale: str,
    contact: Contact | None = None,
    visitor_id: str = "",
    email: str = "",
) -> RequestSession:
    """A session for one customer; ``visitor_id`` is the anonymous visitor's cookie value when there is no contact."""
    if contact is not None and contact.workspace_id != workspace.pk:
        raise ValueError("contact of another workspace")
    hashed = visitor_hash(visitor_id) if visitor_id else ""
    visitor = f"contact:{contact.pk}" if contact is not None else f"visitor:{hashed}"
    return RequestSession.objects.create(
        workspace=workspace,
        channel=channel,
        locale=locale[:10],
        contact=contact,
        visitor_hash=hashed,
        email=(email or (contact.primary_email if contact is not None else "")).strip().lower()[:254],
        in_holdout=in_holdout(workspace=workspace, visitor=visitor, percent=holdout_percent(workspace)),
    )


def _record(
    session: RequestSession,
    kind: RequestEventKind,
    *,
    query: str = "",
    article: Article | None = None,
    suggested: Sequence[int] = (),
) -> RequestEvent:
    now = timezone.now()
    RequestSession.objects.filter(pk=session.pk).update(last_event_at=now)
    return RequestEvent.objects.create(
        workspace_id=session.workspace_id,
        session=session,
        kind=kind,
        query=" ".join(query.split())[:QUERY_KEEP],
        article=article,
        suggested_article_ids=list(suggested),
        created_at=now,
    )


@transaction.atomic
def record_suggestions_shown(*, session: RequestSession, query: str, article_ids: Sequence[int]) -> RequestEvent:
    """The ranker's answer to what the customer typed ([] when it abstained or the session is in the holdout)."""
    return _record(session, RequestEventKind.SUGGESTIONS_SHOWN, query=query, suggested=article_ids)


def suggest_while_writing(
    *, session: RequestSession | None, workspace_id: int, query: str, locale: str, limit: int
) -> list[Suggestion]:
    """The public articles shown under a request form (portal, widget) for what the customer has typed so far, and
    that step recorded in their session. The holdout is shown nothing and its empty list is recorded at the same
    point, so its requests show what happens without suggestions."""
    in_holdout = session is not None and session.in_holdout
    shown = [] if in_holdout else suggest_articles(workspace_id=workspace_id, query=query, locale=locale, limit=limit)
    if session is not None and query.strip():
        record_suggestions_shown(session=session, query=query, article_ids=[s.article_id for s in shown])
    return shown


@transaction.atomic
def record_search(*, session: RequestSession, query: str, article_ids: Sequence[int]) -> RequestEvent:
    """A search the customer ran themselves (help center or widget search box)."""
    return _record(session, RequestEventKind.SEARCHED, query=query, suggested=article_ids)


@transaction.atomic
def record_article_opened(*, session: RequestSession, article: Article) -> RequestEvent:
    return _record(session, RequestEventKind.ARTICLE_OPENED, article=article)


@transaction.atomic
def record_solved(*, session: RequestSession, article: Article | None) -> RequestEvent:
    """The customer said "this solved my problem"; the session ends deflected unless they write anyway later."""
    event = _record(session, RequestEventKind.SOLVED, article=article)
    RequestSession.objects.filter(pk=session.pk, ticket__isnull=True).update(
        outcome=RequestOutcome.SOLVED_BY_ARTICLE, outcome_at=event.created_at
    )
    return event


@transaction.atomic
def record_submitted(*, session: RequestSession, ticket: Ticket) -> RequestEvent:
    """The customer wrote anyway: called in the transaction that stores the ticket, so both or neither exist."""
    event = _record(session, RequestEventKind.SUBMITTED)
    RequestSession.objects.filter(pk=session.pk).update(
        ticket=ticket, outcome=RequestOutcome.SUBMITTED, outcome_at=event.created_at
    )
    return event
