"""The ticket page's "before writing, the customer saw" panel: for a ticket that came out of a request session
(submitted anyway, or written within the window after leaving one), which articles were suggested, which the
customer opened or called a solution, and what they searched; so the agent starts from what did not help.

Registered on tickets' page panel registry from ``KnowledgeConfig.ready`` (tickets cannot name knowledge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from deskloop.accounts.models import Agent
from deskloop.knowledge.deflection_report import article_titles
from deskloop.knowledge.models import RequestEvent, RequestEventKind, RequestSession
from deskloop.tickets.models import Ticket

# A ticket comes from one session, or a few when the customer left several before writing; more is noise.
SESSIONS_SHOWN = 5
SHOWN_KINDS = (RequestEventKind.SUGGESTIONS_SHOWN, RequestEventKind.SEARCHED)


@dataclass
class SeenArticle:
    title: str
    opened: bool = False
    solved: bool = False


@dataclass
class SeenSession:
    session: RequestSession
    articles: list[SeenArticle] = field(default_factory=list)
    # Read without being suggested (browsing the help center).
    also_opened: list[SeenArticle] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    typed: str = ""


def _seen(session: RequestSession, titles: Mapping[int, str]) -> SeenSession:
    events = list(session.events.all())
    opened = {e.article_id for e in events if e.kind == RequestEventKind.ARTICLE_OPENED and e.article_id}
    solved = {e.article_id for e in events if e.kind == RequestEventKind.SOLVED and e.article_id}
    suggested: list[int] = []
    for event in events:
        if event.kind in SHOWN_KINDS:
            suggested.extend(pk for pk in event.suggested_article_ids if pk not in suggested)
    seen = SeenSession(session=session)
    for pk in suggested:
        seen.articles.append(SeenArticle(titles.get(pk, f"#{pk}"), opened=pk in opened, solved=pk in solved))
    for pk in sorted((opened | solved) - set(suggested)):
        seen.also_opened.append(SeenArticle(titles.get(pk, f"#{pk}"), opened=pk in opened, solved=pk in solved))
    for event in events:
        if event.kind == RequestEventKind.SEARCHED and event.query and event.query not in seen.searches:
            seen.searches.append(event.query)
        if event.kind == RequestEventKind.SUGGESTIONS_SHOWN and event.query:
            seen.typed = event.query  # the last thing typed before the suggestions it got
    return seen


def sessions_panel(*, ticket: Ticket, agent: Agent) -> dict[str, Any] | None:
    """The panel's context, or None (no panel) for a ticket no request session led to. One query when there is
    none; three when there is (sessions, their steps, the articles' titles)."""
    sessions = list(
        RequestSession.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket)
        .prefetch_related(Prefetch("events", queryset=RequestEvent.objects.order_by("created_at", "pk")))
        .order_by("started_at", "pk")[:SESSIONS_SHOWN]
    )
    if not sessions:
        return None
    ids: set[int] = set()
    for session in sessions:
        for event in session.events.all():
            ids.update(pk for pk in event.suggested_article_ids if isinstance(pk, int))
            if event.article_id:
                ids.add(event.article_id)
    titles = article_titles(ids) if ids else {}
    return {"seen_sessions": [_seen(session, titles) for session in sessions]}
