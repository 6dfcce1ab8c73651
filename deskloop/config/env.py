"""Small typed readers for settings that come from the environment.

Every secret may also come from a file: ``SECRET_KEY_FILE=/run/secrets/key`` wins over ``SECRET_KEY``,
which is how container orchestrators hand secrets over without putting them in the process list.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def env_str(name: str, default: str = "") -> str:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name, "")
    if raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = env_str(name, "")
    return int(raw) if raw.strip() else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name, "")
    if not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Turn ``postgres://user:pass@host:port/name?sslmode=require`` or ``sqlite:///path`` into DATABASES['default']."""
    parsed = urlparse(url)
    if parsed.scheme in {"sqlite", "sqlite3"}:
        path = unquote(parsed.path)
        # sqlite:///relative.db has path "/relative.db"; sqlite:////abs.db has "//abs.db".
        name = path[1:]
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name or ":memory:"}
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        query: dict[str, str] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        host = unquote(parsed.hostname or "")
        # A socket directory may be given as ?host=/tmp/dir, as libpq allows.
        if "host" in query:
            host = query.pop("host")
        statements, prepared = _statement_options(query)
        options: dict[str, object] = {**query, **statements}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": host,
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "PREPARED_STATEMENTS": prepared,  # read by core.plain_sql.prepared_cursor
        }
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use sqlite:// or postgres://)")


def _statement_options(query: dict[str, str]) -> tuple[dict[str, object], bool]:
    """(the connection's statement OPTIONS, whether the hot paths' statements are prepared).

    Parameters are bound by the server (psycopg's server-side binding), and psycopg prepares nothing by itself
    (``prepare_threshold`` None, Django's default): only the statements ``core.plain_sql.prepared_cursor`` runs
    (built once, run for every email and ticket write) are prepared, since PostgreSQL's generic plans are wrong
    for some searches (see there). Behind a pooler that cannot keep prepared statements (PgBouncer in
    transaction mode before 1.21): ``?prepared_statements=false``; ``?server_side_binding=false`` gives Django's
    client-side binding (and so no prepared statements either)."""
    flags: dict[str, bool] = {}
    for name in ("server_side_binding", "prepared_statements"):
        value = query.pop(name, "true").strip().lower()
        if value not in {"true", "false"}:
            raise ValueError(f"DATABASE_URL: {name} must be true or false")
        flags[name] = value == "true"
    return {"server_side_binding": flags["server_side_binding"]}, flags["prepared_statements"]
