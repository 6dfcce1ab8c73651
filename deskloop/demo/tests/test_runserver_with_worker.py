"""`manage.py runserver_with_worker` as `make run` uses it: real processes, a real port, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

MANAGE = Path(settings.BASE_DIR) / "manage.py"
CHILD_COMMANDS = ("runserver", "run_worker", "run_periodic")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="deskloop.config.settings",
        DATABASE_URL=f"sqlite:///{var_dir / 'deskloop.sqlite3'}",
        DESKLOOP_VAR_DIR=str(var_dir),
        DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database of its own (the worker and the scheduler need their tables)."""
    path = tmp_path_factory.mktemp("run")
    subprocess.run(  # noqa: S603
        [sys.executable, str(MANAGE), "migrate", "--noinput", "-v", "0"], env=environment(path), check=True
    )
    return path


def descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid``: {pid: command line}."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = command_line(child)
                frontier.append(child)
    return found


def parent_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pids: Iterator[int] | list[int]) -> list[int]:
    result = []
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            result.append(pid)
    return result


def wait_for_healthz(port: int, supervisor: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert supervisor.poll() is None, "runserver_with_worker exited before the web server answered"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                assert response.status == 200
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("/healthz did not answer in time")


def wait_for_announcement(log: Path, port: int, timeout: float = 30) -> None:
    """The supervisor prints the URL once it has seen the web server answer (it polls; the test may be quicker)."""
    line = f"Deskloop is running at http://127.0.0.1:{port}/ (web, worker, scheduler). Press Ctrl-C to stop."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if line in log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"no announcement in: {log.read_text()}")


def wait_for_children(pid: int, timeout: float = 60) -> dict[int, str]:
    """The three commands are up (the reloading web server also has its serving grandchild)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        below = descendants(pid)
        if all(any(name in line for line in below.values()) for name in CHILD_COMMANDS):
            return below
        time.sleep(0.2)
    raise AssertionError(f"children did not all start: {descendants(pid)}")


def start(var_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, str(MANAGE), "runserver_with_worker", f"127.0.0.1:{port}"],
            env=environment(var_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture
def cleanup() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # only if a test failed half-way: nothing may outlive the test
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_stop_signal_stops_the_web_server_the_worker_and_the_scheduler(
    var_dir: Path, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]], signum: int
) -> None:
    port = free_port()
    supervisor = start(var_dir, port, tmp_path / "out.log")
    cleanup.append(supervisor)

    wait_for_healthz(port, supervisor)
    wait_for_announcement(tmp_path / "out.log", port)
    children = wait_for_children(supervisor.pid)
    # Ctrl-C in a terminal signals the foreground group, which the children (each in its own session) are not in.
    supervisor.send_signal(signum)
    code = supervisor.wait(timeout=30)

    assert code == 0
    # runserver's autoreloader serves from a grandchild: that one must be gone too.
    assert sum("runserver" in line for line in children.values()) == 2
    assert alive(list(children)) == []


def test_a_child_that_dies_takes_the_others_down_and_fails_the_command(
    var_dir: Path, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    supervisor = start(var_dir, port, tmp_path / "out.log")
    cleanup.append(supervisor)
    wait_for_healthz(port, supervisor)
    children = wait_for_children(supervisor.pid)
    # The worker's own process (its autoreloader runs the real loop in a child of its own).
    worker = next(pid for pid, line in children.items() if "run_worker" in line and parent_of(pid) == supervisor.pid)

    os.kill(worker, signal.SIGKILL)
    code = supervisor.wait(timeout=30)

    assert code == 1
    assert alive(list(children)) == []
    output = (tmp_path / "out.log").read_text()
    assert "worker exited with code -9; stopping the others." in output
    assert "CommandError: A Deskloop process stopped unexpectedly; see its output above." in output
    assert "web       | Starting development server at" in output
