"""Plain SQL for paths that run once per inbound email or ticket write: the statements the ORM would send,
without building them again for every row.

On such a path the ORM spends more CPU compiling a one-row INSERT or a ``select_related`` query than the
database spends running it (figures in BENCHMARKS.md, "Design history"). ``insert_row`` and ``JoinedRows`` send
the same SQL, built once per process, and make the same instances (each field's ``pre_save`` and
``get_db_prep_save`` going in; the database converters and ``Model.from_db`` coming out). They skip save()
overrides and save signals, which no model of this project has; use them only for such models.
``increment_returning`` bumps a counter and reads another table's row in one statement (ticket numbers), and
``row_insert`` builds a row's INSERT to run alone or along another write (blobs). ``insert_selected`` is the other
end: an INSERT ... SELECT that the database fills from a queryset, for a job writing thousands of rows at once. The
tickets app's raw SQL lives here (full-text search's excepted, in ``tickets.search``): written, reviewed and prepared
in one place.

Their statements, and the few others such paths build once (``prepared_cursor``), are prepared on PostgreSQL:
parsed and planned at their first run on a connection, then only executed. Nothing else is (see
``prepared_cursor`` for why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import BooleanField, CharField, Field, Func, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import AutoFieldMixin

from deskloop.core.models import ApiRateCounter


def database_answers() -> None:
    """Run ``SELECT 1``: raises when the database does not answer (the health check)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """``connection.cursor()`` whose statements PostgreSQL prepares: for statements whose text is built once per
    process and run for every email or ticket write (INSERTs, lookups by a key). The first run on a connection
    prepares the statement, later runs only execute it: PostgreSQL's parse and plan were a third of its CPU per
    ingested email. Elsewhere nothing is prepared: a generic plan that PostgreSQL settles on for a search or a
    report after a few executions can be far off for another workspace's or filter's values (measured on filtered
    search; BENCHMARKS.md, "Design history").

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


# (model, fields, database alias) -> UPDATE statement
_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], str] = {}


def update_row(instance: Model, fields: Sequence[str]) -> None:
    """UPDATE ``fields`` (attribute names, e.g. "ticket_id") of ``instance``'s row by its primary key, as
    ``save(update_fields=...)`` would, without compiling the statement each time."""
    model = type(instance)
    key = (model, tuple(fields), connection.alias)
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields if isinstance(f, Field)}
    columns = [by_attname[name] for name in fields]
    sql = _UPDATES.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        assert meta.pk is not None  # every concrete model has one
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
        sql = _UPDATES[key] = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    params = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in columns]
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*params, instance.pk])


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


def insert_missing(instances: Sequence[Model], *, returning: str) -> set[Any]:
    """INSERT the rows of ``instances`` (one model) that break no unique constraint, ``ON CONFLICT DO NOTHING``, in
    statements of up to ``MAX_INSERT_ROWS`` rows; returns ``returning`` (a column) of the rows inserted. The
    instances' keys are not set: for link rows (a many-to-many table) whose only use is being there."""
    inserted: set[Any] = set()
    for start in range(0, len(instances), MAX_INSERT_ROWS):
        batch = instances[start : start + MAX_INSERT_ROWS]
        model = type(batch[0])
        sql, fields = _insert_statement(model, True, len(batch))
        assert model._meta.pk is not None  # every concrete model has one
        quote = connection.ops.quote_name
        sql = sql.removesuffix(f"RETURNING {quote(model._meta.pk.column)}") + f"RETURNING {quote(returning)}"
        params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for instance in batch for f in fields]
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted


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


# (model, ignore_conflicts, database alias) -> (INSERT statement, its fields in order)
_KEYED_INSERTS: dict[tuple[type[Model], bool, str], tuple[str, list[Field[Any, Any]]]] = {}


def row_insert(instance: Model, *, ignore_conflicts: bool = False) -> tuple[str, list[Any]]:
    """(statement, parameters) that INSERT ``instance``'s row with the primary key it carries (a natural key, such as
    a content hash), returning nothing; with ``ignore_conflicts``, ``ON CONFLICT DO NOTHING``. Run it with
    ``run_statement`` or let it ride along another write (``insert_row(along=...)``)."""
    model = type(instance)
    key = (model, ignore_conflicts, connection.alias)
    prepared = _KEYED_INSERTS.get(key)
    if prepared is None:
        fields = [f for f in model._meta.concrete_fields if isinstance(f, Field)]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}){' ON CONFLICT DO NOTHING' if ignore_conflicts else ''}"
        )
        prepared = _KEYED_INSERTS[key] = (sql, fields)
    sql, fields = prepared
    return sql, [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def run_statement(statement: tuple[str, Sequence[Any]]) -> None:
    """Run a (statement, parameters) pair built by this module, prepared."""
    with prepared_cursor() as cursor:
        cursor.execute(statement[0], list(statement[1]))


@dataclass(frozen=True)
class FirstRow:
    """Some columns of the first row of ``model`` whose ``where`` fields equal the given parameters, in
    ``order_by`` order (a leading "-" is descending): read by scalar subqueries inside another statement."""

    model: type[Model]
    where: tuple[str, ...]
    order_by: tuple[str, ...]
    columns: tuple[str, ...]

    def subqueries(self, quote: Callable[[str], str]) -> list[str]:
        where = " AND ".join(f"f.{quote(_column(self.model, name))} = %s" for name in self.where)
        order = ", ".join(
            f"f.{quote(_column(self.model, name.lstrip('-')))}{' DESC' if name.startswith('-') else ''}"
            for name in self.order_by
        )
        table = quote(self.model._meta.db_table)
        return [
            f"(SELECT f.{quote(_column(self.model, name))} FROM {table} f WHERE {where} ORDER BY {order} LIMIT 1)"  # noqa: S608
            for name in self.columns
        ]


def _column(model: type[Model], field_name: str) -> str:
    field = model._meta.get_field(field_name)
    assert isinstance(field, Field)  # a concrete field
    assert field.column is not None
    return field.column


# (model, counter field, first row read along, database alias) -> statement
_INCREMENTS: dict[tuple[type[Model], str, FirstRow | None, str], str] = {}


def increment_returning(
    model: type[Model], pk: Any, field_name: str, *, first: tuple[FirstRow, Sequence[Any]] | None = None
) -> tuple[int, tuple[Any, ...] | None]:
    """Add one to the integer column ``field_name`` of row ``pk`` and return the new value; the UPDATE takes the
    row lock (PostgreSQL) or the write lock (SQLite), so concurrent callers queue. ``first``: (row, its ``where``
    parameters): that row's columns come back too (None each when no row matches; None when not asked for).

    One statement: the subqueries run in its ``RETURNING`` (PostgreSQL, SQLite 3.35+, which every INSERT of this
    module needs too). Raises ``model.DoesNotExist``."""
    row_asked = first[0] if first is not None else None
    key = (model, field_name, row_asked, connection.alias)
    sql = _INCREMENTS.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        column = quote(_column(model, field_name))
        assert model._meta.pk is not None  # every concrete model has one
        returning = [column, *(row_asked.subqueries(quote) if row_asked is not None else [])]
        sql = _INCREMENTS[key] = (
            f"UPDATE {quote(model._meta.db_table)} SET {column} = {column} + 1 "  # noqa: S608
            f"WHERE {quote(model._meta.pk.column)} = %s RETURNING {', '.join(returning)}"
        )
    params = [pk, *(list(first[1]) * len(first[0].columns) if first is not None else [])]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} {pk} does not exist")  # type: ignore[attr-defined]
    return int(row[0]), (tuple(row[1:]) if first is not None else None)


def related_rows(
    model: type[Model], *, related: Sequence[str], where: Sequence[str], order_by: str = "id"
) -> JoinedRows:
    """``model.objects.filter(<each of where> = %s).select_related(*related).order_by(order_by)`` as a
    ``JoinedRows``, built from the model's forward foreign keys (one level; a nullable one is a LEFT JOIN)."""
    parts: list[tuple[type[Model], str]] = [(model, "r0")]
    joins: list[tuple[str, str, str, bool]] = []  # (table, alias, foreign key column, nullable)
    for position, name in enumerate(related, start=1):
        field = model._meta.get_field(name)
        target = field.related_model
        assert isinstance(field, Field)
        assert isinstance(target, type)
        assert issubclass(target, Model)
        alias = f"r{position}"
        parts.append((target, alias))
        joins.append((target._meta.db_table, alias, field.column, field.null))

    def tail(quote: Callable[[str], str]) -> str:
        sql = f"FROM {quote(model._meta.db_table)} r0"
        for table, alias, column, nullable in joins:
            kind = "LEFT" if nullable else "INNER"
            sql += f" {kind} JOIN {quote(table)} {alias} ON {alias}.{quote('id')} = r0.{quote(column)}"
        conditions = " AND ".join(f"r0.{quote(column)} = %s" for column in where)
        return f"{sql} WHERE {conditions} ORDER BY r0.{quote(order_by)}"

    return JoinedRows(parts, tail)


# Filters of the two statements below: (column, values); one value compares with "=", several with "IN".
Filters = Sequence[tuple[str, Sequence[Any]]]
_STATEMENTS: dict[tuple[Any, ...], str] = {}


def _where(quote: Callable[[str], str], filters: Filters) -> str:
    return " AND ".join(
        f"{quote(column)} = %s" if len(values) == 1 else f"{quote(column)} IN ({', '.join(['%s'] * len(values))})"
        for column, values in filters
    )


def values(model: type[Model], columns: Sequence[str], filters: Filters) -> list[tuple[Any, ...]]:
    """``model.objects.filter(...).order_by("pk").values_list(*columns)`` as plain tuples (no converters: for
    integer and text columns), built once per shape of ``filters``."""
    key = ("values", model, tuple(columns), tuple((n, len(v)) for n, v in filters), connection.alias)
    sql = _STATEMENTS.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        assert model._meta.pk is not None  # every concrete model has one
        sql = _STATEMENTS[key] = (
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE {_where(quote, filters)} ORDER BY {quote(model._meta.pk.column)}"
        )
    with prepared_cursor() as cursor:
        cursor.execute(sql, [value for _name, values in filters for value in values])
        return [tuple(row) for row in cursor.fetchall()]


def fill_null_returning(model: type[Model], column: str, value: Any, filters: Filters, returning: str) -> list[Any]:
    """Set ``column`` to ``value`` on the matching rows where it is NULL (the others keep theirs) and return
    ``returning`` of every matching row: one ``UPDATE ... SET c = COALESCE(c, %s) ... RETURNING``."""
    key = ("fill", model, column, returning, tuple((name, len(values)) for name, values in filters), connection.alias)
    sql = _STATEMENTS.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        sql = _STATEMENTS[key] = (
            f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = COALESCE({quote(column)}, %s) "  # noqa: S608
            f"WHERE {_where(quote, filters)} RETURNING {quote(returning)}"
        )
    prepared = model._meta.get_field(column).get_db_prep_save(value, connection)  # type: ignore[union-attr]
    with prepared_cursor() as cursor:
        cursor.execute(sql, [prepared, *(v for _name, values in filters for v in values)])
        return [row[0] for row in cursor.fetchall()]


# (counter model, database alias, rows) -> the counter's upsert
_COUNTS: dict[tuple[type[Model], str, int], str] = {}


def count_api_request(rate_key: str, window: int) -> int:
    """Count one request of ``rate_key`` in the one-minute ``window`` and return its count there, by one statement
    (``count_in_window`` on ``ApiRateCounter``)."""
    return count_in_window(ApiRateCounter, [rate_key], window)[rate_key]


def count_in_window(model: type[Model], keys: Sequence[str], window: int) -> dict[str, int]:
    """Count one hit for each of ``keys`` in ``window`` and return each key's count there, by one statement.

    ``model`` is a counter table: primary key (the key), ``window_start``, ``hits`` (``ApiRateCounter``,
    ``SignInCounter``). ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (PostgreSQL; SQLite 3.35+): the first
    hit makes the row, later ones add one to it, the first of a new window starts it again at 1. The database
    serializes concurrent bumps of one row (PostgreSQL's row lock, SQLite's single writer), so N concurrent hits
    get the counts 1..N and a limit holds exactly. Keys are locked in sorted order, so two statements sharing
    some keys cannot deadlock. Nothing fails on the way, so nothing is logged as an error, and no savepoint is
    needed. Run it outside a transaction (autocommit): inside one, the rows stay locked until commit. A hit whose
    window is older than the row's (a worker's clock a little behind) is counted in the row's window."""
    ordered = sorted(set(keys))
    cache_key = (model, connection.alias, len(ordered))
    sql = _COUNTS.get(cache_key)
    if sql is None:
        quote = connection.ops.quote_name
        assert model._meta.pk is not None  # every concrete model has one
        table = quote(model._meta.db_table)
        key, window_start, hits = (quote(name) for name in (model._meta.pk.column, "window_start", "hits"))
        newer = f"EXCLUDED.{window_start} > {table}.{window_start}"
        sql = _COUNTS[cache_key] = (
            f"INSERT INTO {table} ({key}, {window_start}, {hits}) "  # noqa: S608
            f"VALUES {', '.join(['(%s, %s, 1)'] * len(ordered))} "
            f"ON CONFLICT ({key}) DO UPDATE SET "
            f"{hits} = CASE WHEN {newer} THEN 1 ELSE {table}.{hits} + 1 END, "
            f"{window_start} = CASE WHEN {newer} THEN EXCLUDED.{window_start} ELSE {table}.{window_start} END "
            f"RETURNING {key}, {hits}"
        )
    params: list[Any] = []
    for name in ordered:
        params += [name, window]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {str(name): int(count) for name, count in rows}


def subquery_sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The SELECT of ``queryset`` with its parameters, to embed in a larger statement; None when it can match
    nothing. Django compiles a filter that cannot match (``__in`` an empty list: an agent in no team, an unknown
    product area) to no SQL at all and raises ``EmptyResultSet``, which it turns into an empty result only for a
    queryset it runs itself; a caller that embeds the SQL must answer "no rows" instead of a server error."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def insert_selected(model: type[Model], columns: dict[str, Any], source: QuerySet[Any]) -> list[int]:
    """INSERT into ``model``'s table one row per row of ``source``, each column (a field name of ``model``) computed by
    the database from the source row (``columns``: expressions over ``source``'s model, or ``Value``): one
    ``INSERT ... SELECT ... RETURNING id``. For set-based writes of thousands of rows at once (the SLA sweep after an
    outage), where building, serializing and sending a model instance per row cost several times the write itself
    (BENCHMARKS.md, "SLA sweep"). Columns left out get NULL: name every one that is not nullable. Returns the new
    keys ascending, which is the order of ``source``'s ORDER BY."""
    aliases = {f"_column_{index}": expression for index, expression in enumerate(columns.values())}
    selected = source.annotate(**aliases).values_list(*aliases)
    compiler = selected.query.get_compiler(connection=connection)
    compiler.setup_query()
    # The statement pairs columns with the SELECT list by position: make sure Django kept the order asked for.
    assert [alias for _expression, _sql, alias in compiler.select] == list(aliases), "SELECT list out of order"
    compiled = subquery_sql(selected)
    if compiled is None:
        return []
    select_sql, params = compiled
    quote = connection.ops.quote_name
    assert model._meta.pk is not None  # every concrete model has one
    names = ", ".join(quote(_column(model, name)) for name in columns)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) {select_sql} RETURNING {quote(model._meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(row[0] for row in cursor.fetchall())


class JsonTimestamp(Func):
    """A timestamp column as text the way Python's ``datetime.isoformat()`` writes a UTC time
    (``2026-03-27T09:00:00+00:00``, or ``...:00.120000+00:00`` with six digits when it has microseconds), for a
    ``JSONObject`` the database builds that must read as the ones Python builds. PostgreSQL's own JSON form of a
    timestamp drops trailing zeros (``.12``); SQLite keeps ``2026-03-27 09:00:00.120000`` as text. The column is
    named three times in PostgreSQL's form, so it takes a column, not an expression with parameters."""

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = (
            "(TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            "CASE WHEN %(expressions)s = DATE_TRUNC('second', %(expressions)s) THEN '' "
            "ELSE TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', '.US') END || '+00:00')"
        )
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="(REPLACE(%(expressions)s, ' ', 'T') || '+00:00')")


def pk_among(ids: QuerySet[Any]) -> RawSQL:
    """A filter: the row's primary key is one of the ``ids`` (a ``values("pk")`` queryset, sliced), written
    ``pk = ANY(ARRAY(<ids>))`` so PostgreSQL runs the sub-select on its own (see tickets.inbox._first_rows)."""
    model = ids.model
    assert model._meta.pk is not None  # every concrete model has one
    compiled = subquery_sql(ids)
    if compiled is None:
        return RawSQL("1 = 0", [], output_field=BooleanField())
    ids_sql, ids_params = compiled
    quote = connection.ops.quote_name
    pk_column = f"{quote(model._meta.db_table)}.{quote(model._meta.pk.column)}"
    # Interpolated: Django's own compiled SQL (placeholders only) and quoted names; the values stay parameters.
    return RawSQL(f"{pk_column} = ANY(ARRAY({ids_sql}))", ids_params, output_field=BooleanField())  # noqa: S611


def add_to_counters(
    model: type[Model], *, keys: Sequence[str], counters: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Add each row's counter values to the row with its key (created with them when missing), in one statement
    per 500 rows: ``INSERT ... ON CONFLICT (keys) DO UPDATE SET c = c + EXCLUDED.c`` (PostgreSQL; SQLite 3.24+).
    ``rows`` hold the key values then the counter values; keys must be unique among them (one statement may not
    touch a row twice). A bump of a row another transaction holds waits for it, so counts never lose an update."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [_column(model, name) for name in (*keys, *counters)]
    updates = ", ".join(f"{quote(c)} = {table}.{quote(c)} + EXCLUDED.{quote(c)}" for c in columns[len(keys) :])
    one_row = f"({', '.join(['%s'] * len(columns))})"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        sql = (
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES {', '.join([one_row] * len(chunk))} "
            f"ON CONFLICT ({', '.join(quote(c) for c in columns[: len(keys)])}) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in chunk for value in row])
