"""DATABASE_URL as an operator writes it: what Django is given for PostgreSQL and SQLite."""

from __future__ import annotations

import pytest

from deskloop.config.env import database_from_url


def test_postgres_url_binds_on_the_server_and_prepares_the_hot_paths_statements() -> None:
    settings = database_from_url("postgres://desk:s%40cret@db.internal:5433/deskloop?sslmode=require")

    assert settings == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "deskloop",
        "USER": "desk",
        "PASSWORD": "s@cret",
        "HOST": "db.internal",
        "PORT": "5433",
        "OPTIONS": {"sslmode": "require", "server_side_binding": True},
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "PREPARED_STATEMENTS": True,
    }


def test_behind_a_pooler_prepared_statements_can_be_turned_off() -> None:
    off = database_from_url("postgresql://desk@pgbouncer:6432/deskloop?prepared_statements=false")
    client_side = database_from_url("postgres://desk@/deskloop?host=/run/postgresql&server_side_binding=false")

    assert (off["OPTIONS"], off["PREPARED_STATEMENTS"]) == ({"server_side_binding": True}, False)
    assert client_side["HOST"] == "/run/postgresql"
    assert client_side["OPTIONS"] == {"server_side_binding": False}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://desk@db/deskloop?prepared_statements=often", "prepared_statements must be true or false"),
        ("postgres://desk@db/deskloop?server_side_binding=maybe", "server_side_binding must be true or false"),
        ("mysql://desk@db/deskloop", "scheme 'mysql' is not supported"),
    ],
)
def test_a_wrong_url_is_refused_with_what_to_write(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        database_from_url(url)


def test_sqlite_url_names_the_file() -> None:
    assert database_from_url("sqlite:////var/lib/deskloop/db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/var/lib/deskloop/db.sqlite3",
    }
