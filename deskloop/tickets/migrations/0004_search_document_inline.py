"""PostgreSQL keeps each ticket's tsvector in its row (storage MAIN), not in the TOAST table.

Every search evaluates or ranks documents row by row (recheck, ranking, a filtered view's candidates), and with the
tsvector TOASTed each evaluation was a TOAST index lookup, a chunk fetch and a decompression (5-37 us); the body
text, which only the page of hits reads for snippets, goes out of line instead. Measured at 1M tickets: filtered
searches p95 about 480-600 ms -> about 300-400 ms (BENCHMARKS.md). Rows written before this migration keep their
old layout until rewritten (``manage.py reindex_search``, or ``VACUUM FULL tickets_ticketsearchdocument``).
SQLite has no such storage setting; nothing to do there.
"""

from django.db import migrations


def keep_document_inline(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tickets_ticketsearchdocument ALTER COLUMN document SET STORAGE MAIN")


def default_storage(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tickets_ticketsearchdocument ALTER COLUMN document SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_bench_indexes")]

    operations = [migrations.RunPython(keep_document_inline, default_storage)]
