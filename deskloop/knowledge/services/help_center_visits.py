"""Writes of the public help center's funnel: a visitor's searches are steps of one request session.

A visitor is known only by the random id in their cookie (stored hashed); their searches within the idle time of
each other (``DESKLOOP_REQUEST_IDLE_MINUTES``) are one attempt to get help, so one session, and a "was this helpful?" vote is tied to that session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deskloop.accounts.models import Workspace
from deskloop.knowledge.models import RequestChannel, RequestEvent, RequestSession
from deskloop.knowledge.services.request_sessions import record_search, start_request_session, visitor_hash


def current_help_center_session(*, workspace: Workspace, visitor_id: str) -> RequestSession | None:
    """The visitor's help-center session of this workspace that is still going, if any."""
    if not visitor_id:
        return None
    return (
        RequestSession.objects.filter(
            workspace=workspace,
            channel=RequestChannel.HELP_CENTER,
            visitor_hash=visitor_hash(visitor_id),
            # Searches and votes further apart than the sweep's idle time are another attempt to get help.
            last_event_at__gte=timezone.now() - timedelta(minutes=settings.DESKLOOP_REQUEST_IDLE_MINUTES),
        )
        .order_by("-last_event_at")
        .first()
    )


@transaction.atomic
def record_help_center_search(
    *, workspace: Workspace, visitor_id: str, locale: str, query: str, article_ids: Sequence[int]
) -> RequestEvent:
    """A search the visitor ran in the help center, in their current session (a new one when none is going)."""
    session = current_help_center_session(workspace=workspace, visitor_id=visitor_id) or start_request_session(
        workspace=workspace, channel=RequestChannel.HELP_CENTER, locale=locale, visitor_id=visitor_id
    )
    return record_search(session=session, query=query, article_ids=article_ids)
