"""Run Deskloop on one machine with one command: the web server, the task worker and the scheduler.

    python manage.py runserver_with_worker 127.0.0.1:8000

Starts `runserver` on the address, the task worker (`run_worker`: django-tasks' database worker, waiting out
database outages) and the periodic scheduler (`run_periodic`) as child processes. Ctrl-C or SIGTERM stops all three; if one of them dies, the others are
stopped and the command exits with status 1. For production, run the three as separate services instead
(docs/operations.md).
"""

from __future__ import annotations

import re
import signal
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.demo.supervisor import Child, Supervisor

DEFAULT_ADDRESS = "127.0.0.1:8000"
# The worker logs two lines per task (started, succeeded); a failed task's lines and traceback still show.
ROUTINE_TASK_LINE = re.compile(r"^Task id=\S+ path=\S+ state=(RUNNING|SUCCESSFUL)$")
# The web server answers within seconds; this only bounds how long we wait before printing the URL anyway.
STARTUP_TIMEOUT_SECONDS = 60


def split_address(address: str) -> tuple[str, int]:
    """ "8000", "0.0.0.0:8000", "[::1]:8000" -> (host to connect to, port)."""
    host, _sep, port = address.rpartition(":")
    if not port.isdigit():
        raise CommandError(f"{address!r} is not an address with a port, such as 127.0.0.1:8000.")
    host = host.strip("[]") or "127.0.0.1"
    # A server listening on every address is reached locally through the loopback address.
    return ("127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else host), int(port)  # noqa: S104


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class Command(BaseCommand):
    help = "Run the development web server, the task worker and the scheduler together; Ctrl-C stops all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default=DEFAULT_ADDRESS, help="Where to serve (host:port).")
        parser.add_argument("--noreload", action="store_true", help="Do not restart the web server on code changes.")
        # -v 2 also shows the worker's line for every task it runs.

    def _show(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        address = options["addrport"]
        host, port = split_address(address)
        verbose = int(options["verbosity"]) >= 2
        # `python -m django` with the settings module this process uses (manage.py put it in the environment).
        django = [sys.executable, "-m", "django"]
        web = [*django, "runserver", address, *(["--noreload"] if options["noreload"] else [])]
        supervisor = Supervisor(
            [
                Child("web", web),
                Child("worker", [*django, "run_worker"], hide=None if verbose else ROUTINE_TASK_LINE),
                Child("scheduler", [*django, "run_periodic"]),
            ],
            say=lambda line: self.stderr.write(line),
            show=self._show,
        )
        signal.signal(signal.SIGTERM, supervisor.request_stop)
        signal.signal(signal.SIGINT, supervisor.request_stop)
        supervisor.start()
        if supervisor.wait_for_port(host, port, timeout=STARTUP_TIMEOUT_SECONDS):
            supervisor.announce(
                f"Deskloop is running at {url_for(host, port)} (web, worker, scheduler). Press Ctrl-C to stop."
            )
        status = supervisor.watch()
        if status:
            raise CommandError("A Deskloop process stopped unexpectedly; see its output above.", returncode=status)
