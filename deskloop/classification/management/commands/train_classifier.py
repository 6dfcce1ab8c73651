"""Train a workspace's classifier now (the background task does the same when enough labels changed).

    python manage.py train_classifier --workspace acme

Prints how many labelled tickets it learned from, how long embedding the ones without a stored vector took (apart
from the training itself), and per label set the accuracy on the part held back, the threshold and, at it, the
share answered and the precision of those answers. Exit code 1 when there was too little to train on.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.accounts.models import Workspace
from deskloop.classification.training import train_workspace


def _share(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = "Train the workspace's product area and request type classifier on its labelled tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with slug {options['workspace']!r}.")
        result = train_workspace(workspace=workspace)
        self.stdout.write(
            f"{workspace.slug}: {result.labelled_tickets} labelled tickets; embedded {result.embedded} "
            f"in {result.embedding_seconds:.1f}s; trained in {result.training_seconds:.1f}s."
        )
        for name, report in result.heads.items():
            self.stdout.write(
                f"  {name}: {report['labelled']} tickets, {report['classes']} classes, {report['held_out']} held out; "
                f"accuracy {_share(report['accuracy'])}, threshold {report['threshold']:.3f}, "
                f"answered {_share(report['answered'])}, precision {_share(report['precision'])}."
            )
        if result.classifier is None:
            raise CommandError(
                "Too few labelled tickets to train on: label at least 10 tickets with a product area or request "
                "type, in at least two different ones."
            )
        self.stdout.write(f"Model {result.classifier.pk} is in use.")
