"""The periodic jobs of the one scheduler process (``run_periodic``), registered by the apps that own them.

Each app registers its jobs in ``AppConfig.ready()``, so the scheduler (in tickets) runs mail polling without
importing the channels above it, the same plug-in shape as ``core.outbox.register_consumer``. A job is an
idempotent function taking no arguments and returning how much it did (shown in the scheduler's log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

JobFunction = Callable[[], int]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    run: JobFunction


_jobs: dict[str, PeriodicJob] = {}


def register_job(name: str, every_seconds: int, fn: JobFunction) -> None:
    """Run ``fn`` every ``every_seconds``. Registering a name again replaces it (``ready()`` may run twice)."""
    if every_seconds < 1:
        raise ValueError(f"periodic job {name!r} needs an interval of at least one second")
    _jobs[name] = PeriodicJob(name=name, every_seconds=every_seconds, run=fn)


def registered_jobs() -> list[PeriodicJob]:
    """Every job, in the order the apps registered them (INSTALLED_APPS order)."""
    return list(_jobs.values())
