"""The test database, shared with child processes (a killed fetcher, the `deskloop smtpd` console script).

On PostgreSQL the children connect to the test database itself. SQLite's test database lives in this process's
memory, so it is copied to a file the children use (``push``) and copied back (``pull``) before the test reads
what they wrote. Tests using this need ``django_db(transaction=True)``: the children see only committed rows.
"""

from __future__ import annotations

import os
import select
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[4]


class SharedDatabase:
    def __init__(self, directory: Path) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "deskloop.config.test_settings",
            "PYTHONUNBUFFERED": "1",
        }
        self.sqlite_file: Path | None = None
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            host = str(settings["HOST"] or "")
            where = f"{quote(host)}:{settings['PORT'] or 5432}" if host and not host.startswith("/") else ""
            query = f"?host={quote(host)}" if host.startswith("/") else ""
            user = quote(str(settings["USER"] or ""))
            password = quote(str(settings["PASSWORD"] or ""))
            self.env["DATABASE_URL"] = f"postgres://{user}:{password}@{where}/{settings['NAME']}{query}"
        else:
            self.sqlite_file = directory / "shared.sqlite3"
            self.env["DATABASE_URL"] = f"sqlite:///{self.sqlite_file}"

    def push(self) -> None:
        """Make what this process wrote visible to the children."""
        if self.sqlite_file is None:
            return
        connection.ensure_connection()
        target = sqlite3.connect(self.sqlite_file)
        try:
            connection.connection.backup(target)
        finally:
            target.close()

    def count(self, table: str, where: str) -> int:
        """A count in the children's database, read while they may be at work (``where`` is test-written SQL)."""
        query = f"SELECT COUNT(*) FROM {table} WHERE {where}"  # noqa: S608 (fixed strings from the tests)
        if self.sqlite_file is None:
            with connection.cursor() as cursor:
                cursor.execute(query)
                return int(cursor.fetchone()[0])
        reader = sqlite3.connect(self.sqlite_file, timeout=30)
        try:
            return int(reader.execute(query).fetchone()[0])
        finally:
            reader.close()

    def pull(self) -> None:
        """Make what the children wrote visible to this process."""
        if self.sqlite_file is None:
            return
        connection.ensure_connection()
        source = sqlite3.connect(self.sqlite_file)
        try:
            source.backup(connection.connection)
        finally:
            source.close()


class ChildOutput:
    """Lines a child prints, read without blocking past a deadline."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self.descriptor = process.stdout.fileno()
        self.pending = b""

    def line(self, deadline: float) -> bytes | None:
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.descriptor], [], [], remaining)[0]:
                return None
            chunk = os.read(self.descriptor, 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line
