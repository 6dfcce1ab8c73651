"""The HTTP load client of bench/api_write_load.py against a stub server on loopback (the full benchmark needs
gunicorn, PostgreSQL and django-helpdesk, so it is not part of the suite), and its database-log count."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.api_write_load import Target, drive_concurrent, drive_sequential, log_errors, percentile, row


class Created(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        refuse = b'"refuse"' in self.headers.get("X-Test", "").encode()
        self.send_response(429 if refuse else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Created)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def target(port: int, headers: dict[str, str] | None = None) -> Target:
    return Target(
        name="stub",
        port=port,
        path="/tickets",
        headers=headers or {},
        body=lambda index: {"subject": f"ticket {index}"},
        command=[],
        env={},
        cwd=Path(),
        log=Path("unused"),
    )


def test_rounds_add_up_and_refusals_are_counted(stub: int) -> None:
    served = target(stub)
    served.results["db_errors"] = []
    for _ in range(2):
        drive_sequential(served, 5, max_seconds=10)
        drive_concurrent(served, 12, clients=4, max_seconds=10)
    assert len(served.results["sequential"]) == 10  # type: ignore[arg-type]
    assert len(served.results["concurrent"]) == 24  # type: ignore[arg-type]
    assert float(served.results["throughput"]) > 0  # type: ignore[arg-type]
    assert row(served).startswith("10 | ")
    refused = target(stub, {"X-Test": '"refuse"'})
    drive_concurrent(refused, 3, clients=2, max_seconds=10)
    assert len(refused.results["failures"]) == 3  # type: ignore[arg-type]
    assert refused.results["concurrent"] == []


def test_only_error_lines_written_after_the_offset_are_counted(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("2026-12-06 02:24:31.130 UTC [1] ERROR:  duplicate key value\n")
    start = log.stat().st_size
    with log.open("a") as handle:
        handle.write("2026-12-06 02:24:32.000 UTC [1] LOG:  checkpoint starting\n")
        handle.write("2026-12-06 02:24:33.000 UTC [2] ERROR:  duplicate key value violates unique constraint\n")
        handle.write("2026-12-06 02:24:33.000 UTC [2] STATEMENT:  INSERT INTO x ERROR: in a literal\n")
    assert len(log_errors(log, start)) == 1
    assert log_errors(tmp_path / "missing.log", 0) == []
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
