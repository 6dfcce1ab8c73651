"""Plain SQL for paths that run once per inbound email or ticket write: the statements the ORM would send,
without building them again for every row.

On such a path the ORM spends more CPU compiling a one-row INSERT or a ``select_related`` query than the
database spends running it (0.3-0.9 ms against ~0.1 ms on loopback). ``insert_row`` and ``JoinedRows`` send
the same SQL, built once per process, and make the same instances (each field's ``pre_save`` and
``get_db_prep_save`` going in; the database converters and ``Model.from_db`` coming out). They skip save()
overrides and save signals, which no model of this project has; use them only for such models.

Their statements, and the few others such paths build once (``prepared_cursor``), are prepared on PostgreSQL:
parsed and planned at their first run on a connection, then only executed. Nothing else is (see
``prepared_cursor`` for why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin

from deskloop.core.models import ApiRateCounter


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """``connection.cursor()`` whose statements PostgreSQL prepares: for statements whose text is built once per
    process and run for every email or ticket write (INSERTs, lookups by a key). The first run on a connection
    prepares the statement, later runs only execute it: PostgreSQL's parse and plan were a third of its CPU per
    ingested email. Elsewhere nothing is prepared: a generic plan that PostgreSQL settles on for a search or a
    report after a few executions can be far off for another workspace's or filter's values (with every statement
    prepared, filtered search at 1M tickets went from ~330 to 600-700 ms at p95, BENCHMARKS.md).

    Needs server-side binding (the default, ``config.env``); ``?prepared_statements=false`` in DATABASE_URL (a
    pooler that cannot keep them) turns it off. On SQLite it is ``connection.cursor()``."""
    with connection.cursor() as cursor:
        if not statements_are_prepared():
            yield cursor
            return
        raw = connection.connection  # open: cursor() connected
        previous = raw.prepare_threshold
        # psycopg prepares a statement run this many times before; 0 is "now", and it keeps reusing what it
        # prepared while the threshold allows it. Restored at once, so the ORM's statements are never prepared.
        raw.prepare_threshold = 0
        try:
            yield cursor
        finally:
            raw.prepare_threshold = previous


def statements_are_prepared() -> bool:
    """Whether ``prepared_cursor`` prepares: PostgreSQL, server-side binding, prepared statements not turned off."""
    settings = connection.settings_dict
    return (
        connection.vendor == "postgresql"
        and settings["OPTIONS"].get("server_side_binding") is True
        and settings.get("PREPARED_STATEMENTS", True) is not False
    )


# (model, ignore_conflicts, rows, database alias) -> (INSERT statement, its fields in order)
_INSERTS: dict[tuple[type[Model], bool, int, str], tuple[str, list[Field[Any, Any]]]] = {}


def _insert_statement(model: type[Model], ignore_conflicts: bool, rows: int) -> tuple[str, list[Field[Any, Any]]]:
    key = (model, ignore_conflicts, rows, connection.alias)
    prepared = _INSERTS.get(key)
    if prepared is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if isinstance(f, Field) and not f.primary_key]
        quote = connection.ops.quote_name
        assert meta.pk is not None  # every concrete model has one
        values = f"({', '.join(['%s'] * len(fields))})"
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([values] * rows)}"
            f"{' ON CONFLICT DO NOTHING' if ignore_conflicts else ''} RETURNING {quote(meta.pk.column)}"
        )
        prepared = _INSERTS[key] = (sql, fields)
    return prepared


def _saved(instance: Model, pk: Any) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def insert_row(
    instance: Model, *, ignore_conflicts: bool = False, along: tuple[str, Sequence[Any]] | None = None
) -> bool:
    """INSERT a new row for ``instance`` (its primary key is set from ``RETURNING``), as ``save()`` would. With
    ``ignore_conflicts``, a row that would break a unique constraint is not inserted (``ON CONFLICT DO
    NOTHING``, no error, so no savepoint is needed) and False is returned.

    ``along``: (statement, parameters) of another write that goes with this one, run by the same statement as a
    data-modifying ``WITH`` (PostgreSQL only; callers check ``connection.vendor``): one round trip, not two. It
    runs whether or not this row is inserted."""
    return insert_row_returning(instance, ignore_conflicts=ignore_conflicts, along=along)[0]


def insert_row_returning(
    instance: Model,
    *,
    ignore_conflicts: bool = False,
    along: tuple[str, Sequence[Any]] | None = None,
    returning: tuple[str, Sequence[Any]] | None = None,
) -> tuple[bool, Any]:
    """``insert_row``, and the value of the ``returning`` expression (statement, parameters: a scalar subquery)
    evaluated by the same statement; None when the row was not inserted."""
    sql, fields = _insert_statement(type(instance), ignore_conflicts, 1)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    if along is not None:
        sql = f"WITH along_write AS ({along[0]}) {sql}"
        params = [*along[1], *params]
    if returning is not None:
        sql = f"{sql}, ({returning[0]})"
        params = [*params, *returning[1]]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False, None
    _saved(instance, row[0])
    return True, row[1] if returning is not None else None


# (model, database alias) -> (upsert statement, its fields in order)
_UPSERTS: dict[tuple[type[Model], str], tuple[str, list[Field[Any, Any]]]] = {}


def upsert_row(instance: Model) -> None:
    """INSERT ``instance``'s row, or, when a row with its primary key exists, overwrite that row's other columns
    (``ON CONFLICT (pk) DO UPDATE``): what ``bulk_create([instance], update_conflicts=True, ...)`` sends for a
    model whose key is given (a one-to-one primary key), without compiling it each time."""
    model = type(instance)
    key = (model, connection.alias)
    prepared = _UPSERTS.get(key)
    if prepared is None:
        meta = model._meta
        assert meta.pk is not None  # every concrete model has one
        fields = [f for f in meta.concrete_fields if isinstance(f, Field)]
        quote = connection.ops.quote_name
        updates = ", ".join(f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in fields if not f.primary_key)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote(meta.pk.column)}) DO UPDATE SET {updates}"
        )
        prepared = _UPSERTS[key] = (sql, fields)
    sql, fields = prepared
    with prepared_cursor() as cursor:
        cursor.execute(sql, [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields])
    instance._state.adding = False
    instance._state.db = connection.alias


# Above this many rows a caller uses bulk_create, which splits them into batches the database accepts.
MAX_INSERT_ROWS = 20


def insert_rows(instances: Sequence[Model]) -> None:
    """``insert_row`` for up to ``MAX_INSERT_ROWS`` new rows of one model with an auto-increment key, in one
    statement, in the order given (their ids follow that order, as ``bulk_create``'s do)."""
    if not instances:
        return
    if len(instances) > MAX_INSERT_ROWS:
        raise ValueError(f"insert_rows takes at most {MAX_INSERT_ROWS} rows; use bulk_create")
    model = type(instances[0])
    if not isinstance(model._meta.pk, AutoFieldMixin):
        raise TypeError(f"insert_rows needs an auto-increment key; {model.__name__} has none")
    sql, fields = _insert_statement(model, False, len(instances))
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for instance in instances for f in fields]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        # Neither database promises RETURNING's order (SQLite says it is arbitrary); the keys are handed out in the
        # order of VALUES, so ascending keys are the rows in the order given.
        keys = sorted(row[0] for row in cursor.fetchall())
    for instance, pk in zip(instances, keys, strict=True):
        _saved(instance, pk)


class JoinedRows:
    """Whole rows of several models read by one join (what ``select_related`` reads), made into instances as the
    ORM makes them. ``parts``: (model, table alias) in column order; ``tail``: given the name quoting function,
    the ``FROM ... WHERE ...`` clause over those aliases, with ``%s`` parameters. A part whose primary key is
    NULL (a LEFT JOIN that found nothing) comes back as None."""

    def __init__(self, parts: Sequence[tuple[type[Model], str]], tail: Callable[[Callable[[str], str]], str]) -> None:
        self._parts = parts
        self._tail = tail
        self._prepared: dict[str, tuple[str, list[tuple[type[Model], list[str], list[Any], int]]]] = {}

    def _prepare(self) -> tuple[str, list[tuple[type[Model], list[str], list[Any], int]]]:
        quote = connection.ops.quote_name
        columns: list[str] = []
        layout: list[tuple[type[Model], list[str], list[Any], int]] = []
        for model, alias in self._parts:
            fields = [f for f in model._meta.concrete_fields if isinstance(f, Field)]
            converters = []  # (position, column, functions) of the fields that have any
            for position, f in enumerate(fields):
                column = f.get_col(alias)
                own = f.get_db_converters(connection)  # type: ignore[attr-defined]  # (missing from the stubs)
                functions = connection.ops.get_db_converters(column) + own
                if functions:
                    converters.append((position, column, functions))
            pk_index = next(i for i, f in enumerate(fields) if f.primary_key)
            layout.append((model, [f.attname for f in fields], converters, pk_index))
            columns.extend(f"{alias}.{quote(f.column)}" for f in fields)
        return f"SELECT {', '.join(columns)} {self._tail(quote)}", layout

    def fetch(self, params: Sequence[Any]) -> list[list[Any]]:
        prepared = self._prepared.get(connection.alias)
        if prepared is None:
            prepared = self._prepared[connection.alias] = self._prepare()
        sql, layout = prepared
        with prepared_cursor() as cursor:
            cursor.execute(sql, list(params))
            rows = cursor.fetchall()
        found: list[list[Any]] = []
        for row in rows:
            instances: list[Any] = []
            start = 0
            for model, attnames, converters, pk_index in layout:
                values = list(row[start : start + len(attnames)])
                start += len(attnames)
                if values[pk_index] is None:
                    instances.append(None)
                    continue
                for position, column, functions in converters:
                    for convert in functions:
                        values[position] = convert(values[position], column, connection)
                instances.append(model.from_db(connection.alias, attnames, values))
            found.append(instances)
        return found


# database alias -> the rate counter's upsert
_RATE_COUNTS: dict[str, str] = {}


def count_api_request(rate_key: str, window: int) -> int:
    """Count one request of ``rate_key`` in the one-minute ``window`` and return its count there, by one statement.

    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (PostgreSQL; SQLite 3.35+): the first request makes the
    row, later ones add one to it, the first of a new window starts it again at 1. The database serializes
    concurrent bumps of one row (PostgreSQL's row lock, SQLite's single writer), so N concurrent requests get
    the counts 1..N and a limit holds exactly. Nothing fails on the way, so nothing is logged as an error, and
    no savepoint is needed. Run it outside a transaction (autocommit): inside one, the row stays locked until
    commit and the token's other requests wait for it. A request whose window is older than the row's (a
    worker's clock a little behind) is counted in the row's window."""
    sql = _RATE_COUNTS.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        table = quote(ApiRateCounter._meta.db_table)
        key, window_start, hits = (quote(name) for name in ("rate_key", "window_start", "hits"))
        newer = f"EXCLUDED.{window_start} > {table}.{window_start}"
        sql = _RATE_COUNTS[connection.alias] = (
            f"INSERT INTO {table} ({key}, {window_start}, {hits}) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET "
            f"{hits} = CASE WHEN {newer} THEN 1 ELSE {table}.{hits} + 1 END, "
            f"{window_start} = CASE WHEN {newer} THEN EXCLUDED.{window_start} ELSE {table}.{window_start} END "
            f"RETURNING {hits}"
        )
    with prepared_cursor() as cursor:
        cursor.execute(sql, [rate_key, window])
        row = cursor.fetchone()
    return int(row[0])
