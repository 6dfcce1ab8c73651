"""Raw SQL lives in two modules: core.plain_sql and tickets.search (and migrations).

import-linter cannot say this: ``django.db`` is one external package, and ``connection`` is imported from it beside
``transaction`` and ``models``, so this test reads the source instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import deskloop

ROOT = Path(deskloop.__file__).parent
ALLOWED = {"core/plain_sql.py", "tickets/search.py"}
RAW_SQL = re.compile(
    r"connection\.cursor|connections\[[^\]]*\]\.cursor|\.execute(?:many)?\(|\bRawSQL\b|\.raw\(|\.extra\("
)


def _offenders() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or "/tests/" in relative or relative in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if RAW_SQL.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_raw_sql_is_only_in_plain_sql_and_search() -> None:
    assert _offenders() == [], "raw SQL outside core/plain_sql.py and tickets/search.py"


def test_the_health_check_asks_the_database_through_plain_sql(client: Any, db: None) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})
