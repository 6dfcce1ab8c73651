"""What ``import_deals`` and ``import_churn`` share: read the file, import it, report like ``import_articles``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.accounts.models import Workspace
from deskloop.revenue.imports import ImportFileError, Kind, RowResult, import_rows


class CsvImportCommand(BaseCommand):
    kind: Kind

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="A CSV file (UTF-8) with a header row; columns in deskloop/revenue/imports.py."
        )
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        errors: TextIO = getattr(self.stderr, "_out", sys.stderr)

        def report(result: RowResult) -> None:
            label = f" ({result.external_id})" if result.external_id else ""
            if result.outcome == "failed":
                errors.write(f"{path.name} line {result.line}{label}: {result.message}\n")
            for note in result.notes:
                self.stdout.write(f"{path.name} line {result.line}{label}: {note}")

        try:
            summary = import_rows(workspace=workspace, kind=self.kind, text=text, on_result=report)
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc.message}", returncode=2) from exc
        self.stdout.write(
            f"{path.name} -> {workspace.slug}: {summary.count('created')} created, {summary.count('updated')} updated, "
            f"{summary.count('unchanged')} unchanged, {summary.count('failed')} failed."
        )
        if summary.count("failed"):
            raise CommandError(f"{summary.count('failed')} row(s) failed; see above.", returncode=1)
