"""Search by word stems: a ``stems`` column on the search document, indexed beside the exact words.

SQLite: adding the column rebuilds the document table (dropping the FTS5 triggers), so the FTS5 table is recreated
with a fourth column, its triggers too, and filled from the documents (through the same "ё" folding as the
triggers: FTS5's own 'rebuild' would skip it and later deletes would not find the entries).
PostgreSQL: the generated tsvector is recreated with the stems at weight D (kept inline, as 0004 set), and its GIN
index rebuilt.

Existing documents get their stems from ``manage.py reindex_search`` (keyset batches of 1,000 tickets, one short
transaction each, so it runs beside the live service); until then search finds them by their exact words, as before.
"""

from django.db import migrations, models


def _folded(row, columns):
    return ", ".join(f"replace(replace({row}.{column}, 'ё', 'е'), 'Ё', 'Е')" for column in columns)


COLUMNS = ("subject", "people", "body", "stems")
_NEW, _OLD = _folded("new", COLUMNS), _folded("old", COLUMNS)
_ROW = _folded("d", COLUMNS)
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS tickets_search_fts_au",
    "DROP TRIGGER IF EXISTS tickets_search_fts_ad",
    "DROP TRIGGER IF EXISTS tickets_search_fts_ai",
    "DROP TABLE IF EXISTS tickets_search_fts",
    """
    CREATE VIRTUAL TABLE tickets_search_fts USING fts5(
        subject, people, body, stems,
        content='tickets_ticketsearchdocument', content_rowid='ticket_id',
        tokenize="unicode61 remove_diacritics 2",
        prefix='2 3'
    )
    """,
    f"""
    CREATE TRIGGER tickets_search_fts_ai AFTER INSERT ON tickets_ticketsearchdocument BEGIN
        INSERT INTO tickets_search_fts(rowid, subject, people, body, stems) VALUES (new.ticket_id, {_NEW});
    END
    """,
    f"""
    CREATE TRIGGER tickets_search_fts_ad AFTER DELETE ON tickets_ticketsearchdocument BEGIN
        INSERT INTO tickets_search_fts(tickets_search_fts, rowid, subject, people, body, stems)
        VALUES ('delete', old.ticket_id, {_OLD});
    END
    """,
    f"""
    CREATE TRIGGER tickets_search_fts_au AFTER UPDATE ON tickets_ticketsearchdocument BEGIN
        INSERT INTO tickets_search_fts(tickets_search_fts, rowid, subject, people, body, stems)
        VALUES ('delete', old.ticket_id, {_OLD});
        INSERT INTO tickets_search_fts(rowid, subject, people, body, stems) VALUES (new.ticket_id, {_NEW});
    END
    """,
    f"""
    INSERT INTO tickets_search_fts(rowid, subject, people, body, stems)
    SELECT d.ticket_id, {_ROW} FROM tickets_ticketsearchdocument AS d
    """,
]
_OLD3 = _folded("old", COLUMNS[:3])
_NEW3 = _folded("new", COLUMNS[:3])
_ROW3 = _folded("d", COLUMNS[:3])
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_search_fts_au",
    "DROP TRIGGER IF EXISTS tickets_search_fts_ad",
    "DROP TRIGGER IF EXISTS tickets_search_fts_ai",
    "DROP TABLE IF EXISTS tickets_search_fts",
    """
    CREATE VIRTUAL TABLE tickets_search_fts USING fts5(
        subject, people, body,
        content='tickets_ticketsearchdocument', content_rowid='ticket_id',
        tokenize="unicode61 remove_diacritics 2",
        prefix='2 3'
    )
    """,
    f"""
    CREATE TRIGGER tickets_search_fts_ai AFTER INSERT ON tickets_ticketsearchdocument BEGIN
        INSERT INTO tickets_search_fts(rowid, subject, people, body) VALUES (new.ticket_id, {_NEW3});
    END
    """,
    f"""
    CREATE TRIGGER tickets_search_fts_ad AFTER DELETE ON tickets_ticketsearchdocument BEGIN
        INSERT INTO tickets_search_fts(tickets_search_fts, rowid, subject, people, body)
        VALUES ('delete', old.ticket_id, {_OLD3});
    END
    """,
    f"""
    CREATE TRIGGER tickets_search_fts_au AFTER UPDATE ON tickets_ticketsearchdocument BEGIN
        INSERT INTO tickets_search_fts(tickets_search_fts, rowid, subject, people, body)
        VALUES ('delete', old.ticket_id, {_OLD3});
        INSERT INTO tickets_search_fts(rowid, subject, people, body) VALUES (new.ticket_id, {_NEW3});
    END
    """,
    f"""
    INSERT INTO tickets_search_fts(rowid, subject, people, body)
    SELECT d.ticket_id, {_ROW3} FROM tickets_ticketsearchdocument AS d
    """,
]


def _postgres_document(with_stems):
    stems = " || setweight(to_tsvector('deskloop_search'::regconfig, stems), 'D')" if with_stems else ""
    return [
        "DROP INDEX IF EXISTS tickets_search_document_gin",
        "ALTER TABLE tickets_ticketsearchdocument DROP COLUMN IF EXISTS document",
        f"""
        ALTER TABLE tickets_ticketsearchdocument ADD COLUMN document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('deskloop_search'::regconfig, subject), 'A')
            || setweight(to_tsvector('deskloop_search'::regconfig, people), 'B')
            || setweight(to_tsvector('deskloop_search'::regconfig, body), 'D'){stems}
        ) STORED
        """,
        "ALTER TABLE tickets_ticketsearchdocument ALTER COLUMN document SET STORAGE MAIN",
        "CREATE INDEX tickets_search_document_gin ON tickets_ticketsearchdocument USING gin (document)",
    ]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [('tickets', '0009_agent_ui')]

    # Backwards, the 3-column FTS5 table is recreated last: removing the column rebuilds the table on SQLite,
    # dropping whatever triggers were on it.
    operations = [
        migrations.RunPython(migrations.RunPython.noop, _run({"sqlite": SQLITE_BACKWARD})),
        migrations.AddField(
            model_name="ticketsearchdocument",
            name="stems",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": _postgres_document(True)}),
            _run({"sqlite": SQLITE_BACKWARD[:4], "postgresql": _postgres_document(False)}),
        ),
    ]
