"""The task worker and the scheduler outlive a PostgreSQL outage: a real server is stopped and started again under
a running ``run_worker`` (which then runs a task enqueued after the restart) and ``run_periodic``.

The cluster is a throwaway of its own (scripts/pg-throwaway on a free port), never the suite's database: stopping
that one would break every other test. PostgreSQL only: SQLite is a file, it cannot go away under a worker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
THROWAWAY = str(REPO / "scripts" / "pg-throwaway")

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL: the test stops and restarts a real database server under the worker "
        "(set DATABASE_URL=$(scripts/pg-throwaway start PORT) to run it)",
    ),
]

# Publishes an event the way every service does; its dispatch is a task that only the worker can run here.
_PUBLISH_AND_WAIT = """
import time
from django.db import transaction
from deskloop.accounts.models import Workspace
from deskloop.accounts.services import create_workspace
from deskloop.core import outbox
from deskloop.core.models import OutboxEvent

workspace = Workspace.objects.filter(slug="acme").first() or create_workspace(name="Acme", slug="acme")
with transaction.atomic():
    event = outbox.publish(workspace_id=workspace.pk, name="probe.after_outage", payload={})
for _attempt in range(1200):
    if OutboxEvent.objects.filter(pk=event.pk, dispatched_at__isnull=False).exists():
        print("dispatched by the worker")
        break
    time.sleep(0.05)
else:
    print("not dispatched")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _throwaway(command: str, port: int) -> str:
    result = subprocess.run(  # noqa: S603 (our own script)
        [THROWAWAY, command, str(port)], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def outage_database(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """A PostgreSQL cluster of this test's own, migrated, and the environment of Deskloop processes using it."""
    port = _free_port()
    url = _throwaway("start", port)
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "deskloop.config.settings",  # the database task backend, as in production
        "DATABASE_URL": url,
        "DESKLOOP_VAR_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    try:
        _manage(environment, "migrate", "-v", "0")
        yield port, environment
    finally:
        _throwaway("stop", port)


def _manage(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _publish_and_wait(environment: dict[str, str]) -> str:
    return _manage(environment, "shell", "--no-imports", "-c", _PUBLISH_AND_WAIT).strip()


def _start(command: list[str], environment: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("w") as log:
        return subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", *command], cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT
        )


def _wait_for_line(log_path: Path, text: str, process: subprocess.Popen[bytes]) -> str:
    """The log once ``text`` is in it (the scheduler meets the outage only when its next job is due: 30 s)."""
    for _attempt in range(240):
        output = log_path.read_text()
        if text in output or process.poll() is not None:
            return output
        time.sleep(0.5)
    return log_path.read_text()


def test_the_worker_and_the_scheduler_survive_a_database_restart(
    outage_database: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    port, environment = outage_database
    worker_log, scheduler_log = tmp_path / "worker.log", tmp_path / "scheduler.log"
    worker = _start(["run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"], environment, worker_log)
    scheduler = _start(["run_periodic"], environment, scheduler_log)
    try:
        assert _publish_and_wait(environment) == "dispatched by the worker"

        _throwaway("pause", port)
        # The worker polls five times a second, so it meets the dead server many times during the outage.
        time.sleep(4)
        assert worker.poll() is None, worker_log.read_text()
        _throwaway("resume", port)

        # A task enqueued after the restart is run.
        assert _publish_and_wait(environment) == "dispatched by the worker"
        assert worker.poll() is None, worker_log.read_text()
        # The scheduler's connection died with the server; it notices at its next job, reconnects and goes on.
        scheduler_output = _wait_for_line(scheduler_log, "the database answers again", scheduler)
        assert scheduler.poll() is None, scheduler_output
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)
    output = worker_log.read_text()
    # One line when the outage starts and one when it ends, not a traceback per attempt.
    assert output.count("the database is unavailable") == 1, output
    assert output.count("the database answers again") == 1, output
    assert "Traceback" not in output, output
    assert scheduler_output.count("scheduler: the database is unavailable") == 1, scheduler_output
    assert scheduler_output.count("scheduler: the database answers again") == 1, scheduler_output
    assert " failed: " not in scheduler_output, scheduler_output
