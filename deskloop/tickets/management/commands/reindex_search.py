"""Rebuild the full-text search documents: after an import, an upgrade, or a change of indexing rules."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from deskloop.accounts.models import Workspace
from deskloop.tickets.models import Ticket
from deskloop.tickets.search import index_tickets, optimize_index


class Command(BaseCommand):
    help = "Rebuild the search index of every ticket (or of one workspace's tickets), in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Only this workspace (its slug).")
        parser.add_argument("--batch-size", type=int, default=1000, help="Tickets per transaction (default 1000).")

    def handle(self, *args: Any, **options: Any) -> None:
        tickets = Ticket.objects.all()
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace with slug {options['workspace']!r}.")
            tickets = tickets.filter(workspace=workspace)
        batch_size = max(1, options["batch_size"])
        total = tickets.count()
        started = time.monotonic()
        done = 0
        last_id = 0
        show_progress = options["verbosity"] > 0
        with tqdm(total=total, unit="ticket", disable=not show_progress) as progress:
            # Keyset over ids: each batch is one short transaction, so the web process keeps writing meanwhile.
            while True:
                ids = list(tickets.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size])
                if not ids:
                    break
                with transaction.atomic():
                    done += index_tickets(ids)
                last_id = ids[-1]
                progress.update(len(ids))
        optimize_index()
        if show_progress:
            self.stdout.write(f"Indexed {done} tickets in {time.monotonic() - started:.1f} s.")
