"""Import help-center articles from a JSON Lines file (fields in deskloop/knowledge/services/imports.py).

    python manage.py import_articles --workspace acme articles.jsonl

Prints one line per failed line (its number and the problem) on stderr and a summary on stdout: created,
updated, unchanged, failed. Running the same file again updates instead of duplicating. Exit code 1 when any
line failed (the others are imported), 2 when the file cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.accounts.models import Workspace
from deskloop.knowledge.services.imports import LineResult, import_articles


class Command(BaseCommand):
    help = "Import articles from a JSON Lines file into a workspace's knowledge base; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A JSON Lines file (UTF-8), one article version per line.")
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        parser.add_argument("--draft", action="store_true", help="Import new articles as drafts (default: published).")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        path = Path(options["file"])
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        errors: TextIO = getattr(self.stderr, "_out", sys.stderr)

        def report(result: LineResult) -> None:
            if result.outcome == "failed":
                label = f" ({result.external_id})" if result.external_id else ""
                errors.write(f"{path.name} line {result.line}{label}: {result.message}\n")

        summary = import_articles(workspace=workspace, lines=lines, publish=not options["draft"], on_result=report)
        self.stdout.write(
            f"{path.name} -> {workspace.slug}: {summary.count('created')} created, {summary.count('updated')} updated, "
            f"{summary.count('unchanged')} unchanged, {summary.count('failed')} failed."
        )
        if summary.count("failed"):
            raise CommandError(f"{summary.count('failed')} line(s) failed; see above.", returncode=1)
