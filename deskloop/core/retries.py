"""The one retry schedule for work that talks to the outside world (webhook deliveries, outgoing email).

One schedule, so an admin learns once how long Deskloop keeps trying: about 15 hours over six attempts, long
enough to outlast a receiver's bad night, short enough that a failure is reported the same day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# Wait after the n-th failed attempt; after the last one the work is given up and shown as failed.
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def retry_delay(failed_attempts: int) -> dt.timedelta:
    """How long to wait after ``failed_attempts`` failures (1 -> 1 minute, 2 -> 5 minutes, ...)."""
    return RETRY_DELAYS[min(max(failed_attempts, 1), len(RETRY_DELAYS)) - 1]


def enqueue_attempt(task: Any, object_id: int, run_after: dt.datetime | None = None) -> None:
    """Queue ``task(object_id)``, deferred to ``run_after`` when given. A backend that cannot defer (the inline test
    backend) skips a deferred attempt: the owner's periodic sweep queues it when it is due."""
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    task.enqueue(object_id)
