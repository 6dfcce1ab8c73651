"""Outliving a database outage: the long-running processes (task worker, scheduler, IMAP watchers) pause with a
capped, jittered exponential backoff, drop their broken connections, and go on by themselves when the database
is back, logging once when the outage starts and once when it ends instead of a traceback per attempt.

Jitter matters because every process of an installation sees the outage at the same moment: without it they all
reconnect in the same second, over and over.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections

from deskloop.core.plain_sql import database_answers

# What a lost or refused database connection raises (psycopg and sqlite3 both map to these two).
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)

Sleep = Callable[[float], object]


class Backoff:
    """Pauses that double from ``first_seconds`` up to ``max_seconds``, each drawn between half and all of the
    current step; ``reset`` after a success."""

    def __init__(self, *, first_seconds: float = 1.0, max_seconds: float = 60.0) -> None:
        self.first_seconds = first_seconds
        self.max_seconds = max_seconds
        self.seconds = first_seconds

    def reset(self) -> None:
        self.seconds = self.first_seconds

    def wait(self, sleep: Sleep = time.sleep) -> None:
        sleep(random.uniform(self.seconds / 2, self.seconds))
        self.seconds = min(self.seconds * 2, self.max_seconds)


class DatabaseOutage:
    """Logs an outage once: a warning at its first failure, one line when the database answers again."""

    def __init__(self, *, process: str, log: logging.Logger) -> None:
        self.process = process
        self.log = log
        self.started_at: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.started_at is not None

    def failed(self, exc: BaseException) -> None:
        forget_broken_connections()
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.log.warning(
                "%s: the database is unavailable (%s: %s); retrying with growing pauses until it answers",
                self.process,
                type(exc).__name__,
                " ".join(str(exc).split())[:200],
            )

    def recovered(self) -> None:
        if self.started_at is not None:
            self.log.warning(
                "%s: the database answers again after %d s; going on", self.process, time.monotonic() - self.started_at
            )
            self.started_at = None


def forget_broken_connections() -> None:
    """Close this thread's database connections, so the next query opens a fresh one. Django reconnects only
    a connection it has closed; one the server dropped would fail every later query."""
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(DatabaseError):
            connection.close()


def wait_for_database(
    outage: DatabaseOutage, backoff: Backoff, *, keep_waiting: Callable[[], bool], sleep: Sleep = time.sleep
) -> bool:
    """Pause and probe until the database answers (True) or ``keep_waiting`` turns False (False)."""
    while keep_waiting():
        backoff.wait(sleep)
        try:
            database_answers()
        except DATABASE_ERRORS as exc:
            outage.failed(exc)
            continue
        outage.recovered()
        backoff.reset()
        return True
    return False
