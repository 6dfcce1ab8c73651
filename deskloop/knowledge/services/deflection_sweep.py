"""The deflection sweep: judges request sessions that have ended, so the report counts only what is known.

Three steps, each a bounded batch of set-based statements, each safe to run twice (``judge_request_sessions``):

1. A session idle for ``DESKLOOP_REQUEST_IDLE_MINUTES`` that is still ``open`` is over. It becomes
   ``left_after_suggestion`` when it reached the point where suggestions are shown (a "suggestions shown" or a
   "searched" step, whatever the list held: the holdout's empty list counts the same, or the arms would not be
   comparable), else ``left_before_suggestion`` (nothing typed: left out of both arms).
2. A ``left_after_suggestion`` or ``solved_by_article`` session whose customer opened a ticket within the window
   (``DESKLOOP_DEFLECTION_WINDOW_HOURS`` from the session's start) becomes ``returned``, linked to that ticket:
   it saved nothing, and the agent's ticket page shows what the customer saw before writing.
3. Such a session whose window has passed with no ticket becomes ``verified_deflection``.

"The customer" is the session's contact, any contact owning the session's email address, or the same anonymous
visitor (visitor hash) submitting from another session. Every ticket counts, spam and trash included: the sweep
would rather miss a deflection than claim one that was not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from deskloop.customers.models import ContactEmail
from deskloop.knowledge.models import RequestEvent, RequestEventKind, RequestOutcome, RequestSession
from deskloop.tickets.models import Ticket

BATCH = 500
# Outcomes that wait for the window before they are final.
PENDING = (RequestOutcome.LEFT_AFTER_SUGGESTION, RequestOutcome.SOLVED_BY_ARTICLE)
# A session reaches the suggestion point when suggestions are shown (or would be, in the holdout) or it searches.
EXPOSED_KINDS = (RequestEventKind.SUGGESTIONS_SHOWN, RequestEventKind.SEARCHED)


def window() -> dt.timedelta:
    return dt.timedelta(hours=settings.DESKLOOP_DEFLECTION_WINDOW_HOURS)


def idle_after() -> dt.timedelta:
    return dt.timedelta(minutes=settings.DESKLOOP_REQUEST_IDLE_MINUTES)


def judge_request_sessions(*, now: dt.datetime | None = None) -> int:
    """Judge every session that can be judged now; returns how many changed outcome."""
    now = now or timezone.now()
    return _close_idle_sessions(now) + _judge_pending_sessions(now)


def _batches(queryset: QuerySet[RequestSession]) -> Iterator[list[int]]:
    """The candidates' ids a batch at a time (keyset over the primary key: each batch is read after the one before
    was judged, so a backlog of any size is held in memory a batch at a time)."""
    after = 0
    while True:
        ids = list(queryset.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        yield ids
        after = ids[-1]


def _close_idle_sessions(now: dt.datetime) -> int:
    idle = RequestSession.objects.filter(outcome=RequestOutcome.OPEN, last_event_at__lte=now - idle_after())
    exposed = Exists(RequestEvent.objects.filter(session=OuterRef("pk"), kind__in=EXPOSED_KINDS))
    changed = 0
    for ids in _batches(idle):
        # The conditions are repeated in the UPDATE: a step recorded meanwhile (or a submit) wins over the sweep.
        batch = idle.filter(pk__in=ids)
        changed += batch.filter(exposed).update(outcome=RequestOutcome.LEFT_AFTER_SUGGESTION, outcome_at=now)
        changed += batch.filter(~exposed).update(outcome=RequestOutcome.LEFT_BEFORE_SUGGESTION, outcome_at=now)
    return changed


def _address_owner() -> Subquery:
    """The contact who owns the session's address in its workspace (the unique (workspace, email) index)."""
    owners = ContactEmail.objects.filter(workspace_id=OuterRef("workspace_id"), email=OuterRef("email"))
    return Subquery(owners.values("contact_id")[:1])


def _later_ticket() -> Coalesce:
    """The first ticket the session's customer opened within the window, by contact, address or visitor (reads
    ``address_owner``, see ``_address_owner``). Three subqueries rather than one OR across joins, so each is
    answered from its own index: the requester's tickets by time, the visitor's sessions with a ticket."""
    start, end = OuterRef("started_at"), OuterRef("started_at") + Value(window())
    tickets = Ticket.objects.filter(workspace_id=OuterRef("workspace_id"), created_at__gte=start, created_at__lte=end)
    by_contact = tickets.filter(requester_id=OuterRef("contact_id")).order_by("created_at", "pk")
    by_address = tickets.filter(requester_id=OuterRef("address_owner")).order_by("created_at", "pk")
    by_visitor = RequestSession.objects.filter(
        workspace_id=OuterRef("workspace_id"),
        visitor_hash=OuterRef("visitor_hash"),
        ticket__isnull=False,
        ticket__created_at__gte=start,
        ticket__created_at__lte=end,
    ).exclude(visitor_hash="")
    return Coalesce(
        Subquery(by_contact.values("pk")[:1]),
        Subquery(by_address.values("pk")[:1]),
        Subquery(by_visitor.order_by("ticket__created_at").values("ticket_id")[:1]),
        output_field=BigIntegerField(),
    )


def _judge_pending_sessions(now: dt.datetime) -> int:
    pending = RequestSession.objects.filter(outcome__in=PENDING, ticket__isnull=True)
    changed = 0
    for ids in _batches(pending):
        found = dict(
            pending.filter(pk__in=ids)
            .annotate(address_owner=_address_owner())
            .annotate(later=_later_ticket())
            .filter(later__isnull=False)
            .values_list("pk", "later")
        )
        with transaction.atomic():
            if found:
                created = dict(Ticket.objects.filter(pk__in=found.values()).values_list("pk", "created_at"))
                changed += pending.filter(pk__in=found).update(
                    outcome=RequestOutcome.RETURNED,
                    ticket_id=Case(*(When(pk=pk, then=Value(ticket)) for pk, ticket in found.items())),
                    outcome_at=Case(
                        *(When(pk=pk, then=Value(created[ticket])) for pk, ticket in found.items()),
                        output_field=DateTimeField(),
                    ),
                )
            # Whatever was not found above had no ticket in its window; those whose window is over are final.
            changed += (
                pending.filter(pk__in=ids, started_at__lte=now - window())
                .exclude(pk__in=found)
                .update(outcome=RequestOutcome.VERIFIED_DEFLECTION, outcome_at=F("started_at") + Value(window()))
            )
    return changed
