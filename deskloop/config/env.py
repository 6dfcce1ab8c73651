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
        options: dict[str, object] = dict(query)
        options.update(_statement_options(query))
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
        }
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use sqlite:// or postgres://)")


def _statement_options(query: dict[str, str]) -> dict[str, object]:
    """How statements reach PostgreSQL. By default the parameters are bound by the server and a statement run
    ``prepare_threshold`` times on a connection (2 unless the URL says otherwise) is prepared: PostgreSQL then
    stops parsing and planning the same INSERTs and lookups for every email and request (its CPU per ingested
    message fell by a third, BENCHMARKS.md "Email ingest"). Behind a pooler that cannot keep prepared statements
    (PgBouncer in transaction mode before 1.21): ``?prepare_threshold=off``; ``?server_side_binding=false``
    gives Django's default (the client binds parameters into the SQL text)."""
    binding = query.get("server_side_binding", "true").strip().lower()
    if binding not in {"true", "false"}:
        raise ValueError("DATABASE_URL: server_side_binding must be true or false")
    threshold = query.get("prepare_threshold", "2").strip().lower()
    if threshold in {"off", "none"}:
        prepare: int | None = None
    elif threshold.isdigit():
        prepare = int(threshold)
    else:
        raise ValueError("DATABASE_URL: prepare_threshold must be a number or off")
    return {"server_side_binding": binding == "true", "prepare_threshold": prepare}
