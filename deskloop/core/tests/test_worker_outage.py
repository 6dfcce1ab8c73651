"""The task worker outlives a PostgreSQL outage: a real server is stopped and started again under a running
``run_worker``, which then runs a task enqueued after the restart.

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


def test_the_worker_survives_a_database_restart_and_runs_a_task_enqueued_after_it(
    outage_database: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    port, environment = outage_database
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert _publish_and_wait(environment) == "dispatched by the worker"

        _throwaway("pause", port)
        # The worker polls five times a second, so it meets the dead server many times during the outage.
        time.sleep(4)
        assert worker.poll() is None, log_path.read_text()
        _throwaway("resume", port)

        assert _publish_and_wait(environment) == "dispatched by the worker"
        assert worker.poll() is None, log_path.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    output = log_path.read_text()
    # One line when the outage starts and one when it ends, not a traceback per attempt.
    assert output.count("the database is unavailable") == 1, output
    assert output.count("the database answers again") == 1, output
    assert "Traceback" not in output, output
