"""Write the API's OpenAPI 3.1 schema to a file (``make openapi`` refreshes docs/openapi.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from deskloop.core.api_support import openapi_document


class Command(BaseCommand):
    help = "Write the OpenAPI schema of /api/v1/ as JSON (stable key order, trailing newline)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", default="docs/openapi.json", help="Where to write (- for stdout).")

    def handle(self, *args: Any, **options: Any) -> None:
        document = openapi_document()
        target = options["path"]
        if target == "-":
            self.stdout.write(document, ending="")
            return
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
        self.stdout.write(f"Wrote {path}")
