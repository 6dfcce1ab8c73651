"""Compute the sentence vectors that suggestions use, for article translations that have none yet or one of an
older model version. New and edited articles are embedded by a background task; this catches up after an import
into a database without a worker, or after a model upgrade (EMBEDDING_VERSION).

    python manage.py embed_articles [--workspace acme]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.accounts.models import Workspace
from deskloop.knowledge.services.embeddings import embed_outdated


class Command(BaseCommand):
    help = "Embed article translations that have no current vector (all workspaces, or one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Only this workspace (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        stored = embed_outdated(workspace=workspace)
        self.stdout.write(f"{stored} article translation(s) embedded.")
