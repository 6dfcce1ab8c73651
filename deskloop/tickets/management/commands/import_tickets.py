"""Import tickets from a CSV or JSON Lines export of another helpdesk (see docs/import.md for the columns).

    python manage.py import_tickets --workspace acme tickets.csv

Rows that fail are reported with their line number and the problem; the others are imported. Running the same
file again creates nothing ("skipped (already imported)"). The exit code is 0 unless the file could not be
read at all.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from deskloop.accounts.models import Workspace
from deskloop.core.errors import DomainError
from deskloop.tickets.services.imports import RowResult, import_tickets, read_import_file


class Command(BaseCommand):
    help = "Import tickets from a CSV or JSON Lines file into a workspace; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv or .jsonl file (UTF-8).")
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        parser.add_argument(
            "--format", choices=["csv", "jsonl"], help="The file's format when its name does not end in .csv/.jsonl."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        path = Path(options["file"])
        try:
            rows = read_import_file(path, file_format=options["format"])
        except DomainError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc

        # The bar and the per-row problems go to stderr, so stdout carries only the summary.
        errors: TextIO = getattr(self.stderr, "_out", sys.stderr)
        verbosity = int(options["verbosity"])
        with tqdm(total=len(rows), unit="row", desc="import", file=errors, disable=verbosity == 0) as progress:

            def report(result: RowResult) -> None:
                progress.update(1)
                if result.outcome == "error" or (result.outcome == "skipped" and verbosity >= 2):
                    label = result.external_id or "-"
                    progress.write(f"{path.name} line {result.line} ({label}): {result.message}", file=errors)

            try:
                summary = import_tickets(workspace=workspace, rows=rows, on_result=report)
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{path.name} -> {workspace.slug}: {summary.created} created, "
            f"{summary.skipped} skipped (already imported), {summary.failed} failed."
        )
