"""Run a few long-lived commands as one: start them, watch them, stop them all together.

`make run` needs the web server, the task worker and the scheduler at once, in one terminal, and Ctrl-C must
leave nothing running. Their output is shown line by line with the child's name in front ("worker | ..."), so
the three can be told apart. Each child gets its own process group, so stopping it also stops what it started (the
autoreloading runserver runs the real server in a grandchild); a child that dies takes the others down, because
half a Deskloop (a web server whose tasks never run) is worse than a clear failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 10.0


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    # Routine lines not worth a line in the terminal (the worker's "task started/succeeded" for every task).
    hide: re.Pattern[str] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()


def _signal_group(pgid: int, signum: int) -> None:
    # ProcessLookupError: the whole group is gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class Supervisor:
    def __init__(self, children: Sequence[Child], *, say: Callable[[str], None], show: Callable[[str], None]) -> None:
        """``say`` reports what the supervisor does; ``show`` prints one line of a child's output."""
        self.children = list(children)
        self.say = say
        self.show = show
        self.stop_requested = False
        self._readers: list[threading.Thread] = []
        self._show_lock = threading.Lock()

    def request_stop(self, signum: int = signal.SIGTERM, _frame: object = None) -> None:
        self.stop_requested = True

    def start(self) -> None:
        width = max(len(child.name) for child in self.children)
        for child in self.children:
            # A session of its own: Ctrl-C in the terminal reaches only us, and we stop the children in order.
            child.process = subprocess.Popen(  # noqa: S603
                list(child.argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Unbuffered, so a line shows when it is written, not when a pipe buffer fills.
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            assert child.process.stdout is not None
            reader = threading.Thread(
                target=self._relay, args=(child, child.process.stdout, child.name.ljust(width)), daemon=True
            )
            reader.start()
            self._readers.append(reader)

    def _relay(self, child: Child, stream: IO[bytes], label: str) -> None:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if child.hide is None or not child.hide.search(line):
                self.announce(f"{label} | {line}")

    def announce(self, line: str) -> None:
        """Print a line between the children's lines, never in the middle of one."""
        with self._show_lock:
            self.show(line)

    def dead_child(self) -> Child | None:
        return next((child for child in self.children if child.exit_code() is not None), None)

    def wait_for_port(self, host: str, port: int, *, timeout: float) -> bool:
        """True once something accepts connections on host:port; False if a child died or time ran out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop_requested and self.dead_child() is None:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return True
            except OSError:
                time.sleep(POLL_SECONDS)
        return False

    def watch(self) -> int:
        """Block until a stop is requested (0) or a child exits on its own (1); either way stop every child."""
        while not self.stop_requested:
            dead = self.dead_child()
            if dead is not None:
                self.say(f"{dead.name} exited with code {dead.exit_code()}; stopping the others.")
                self.stop()
                return 1
            time.sleep(POLL_SECONDS)
        self.stop()
        return 0

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        started = [child for child in self.children if child.process is not None]
        for child in started:
            _signal_group(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in started:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {grace:.0f} s; killing it.")
        for child in started:
            # Whatever is left of each group (a stuck leader, a grandchild that ignored SIGTERM) ends now.
            _signal_group(child.pid, signal.SIGKILL)
            assert child.process is not None
            child.process.wait()
        for reader in self._readers:
            reader.join(timeout=2)  # the last lines a child wrote while stopping
