"""Import deals from a CSV export of the CRM (columns in deskloop/revenue/imports.py).

    python manage.py import_deals --workspace acme deals.csv

One line per failed row (its line and the problem) on stderr, one per organization or product area created on
stdout, then a summary: created, updated, unchanged, failed. Rows are found again by external_id, so running the
same file twice changes nothing. Exit code 1 when any row failed (the others are imported), 2 when the file cannot
be read.
"""

from deskloop.revenue.management.commands._csv_import import CsvImportCommand


class Command(CsvImportCommand):
    help = "Import deals from a CSV file into a workspace; safe to run again."
    kind = "deals"
