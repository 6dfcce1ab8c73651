"""Create the demo workspace "Acme Support" (slug ``demo``) with its people, customers and 90 days of tickets.

Safe to run again: when the demo workspace exists, nothing is written. `make run` calls it every time.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from deskloop.demo.plan import DEFAULT_TICKETS
from deskloop.demo.seed import demo_workspace, seed_demo


class Command(BaseCommand):
    help = "Create the demo workspace with sample customers and tickets (does nothing if it exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="", help="The address to print (default: SITE_URL).")
        parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS, help="How many tickets (default 200).")

    def handle(self, *args: Any, **options: Any) -> None:
        errors: TextIO = getattr(self.stderr, "_out", sys.stderr)
        count = max(0, options["tickets"])
        # No bar when the demo exists: nothing will be written.
        quiet = int(options["verbosity"]) == 0 or demo_workspace() is not None
        with tqdm(total=count, desc="demo tickets", unit="ticket", file=errors, disable=quiet) as bar:
            report = seed_demo(tickets=count, progress=bar.update)
        workspace = report.workspace
        if report.created:
            self.stdout.write(
                f"Created the demo workspace “{workspace.name}” ({workspace.slug}): {report.tickets} tickets with "
                f"{report.messages} messages, {report.contacts} contacts in {report.organizations} organizations."
            )
        else:
            self.stdout.write(
                f"The demo workspace “{workspace.name}” ({workspace.slug}) exists already; nothing changed."
            )
        url = (options["url"] or settings.SITE_URL).rstrip("/") + "/"
        self.stdout.write(f"\nOpen {url} and sign in as (unless you changed these passwords):")
        width = max(len(sign_in.email) for sign_in in report.sign_ins)
        for sign_in in report.sign_ins:
            self.stdout.write(f"  {sign_in.email:<{width}}  {sign_in.password}  {sign_in.role.replace('_', ' ')}")
        # Customers sign in by a link sent by mail; the demo's mail backend is the console, so the link is printed
        # where `make run` runs, and never shown on a web page (anyone could ask for anyone's link there).
        self.stdout.write(
            f"\nCustomer portal: {url}portal/{workspace.slug}/ — sign in as a customer, e.g. dana@northwind.example;"
            " the sign-in link is printed here by the console mail backend."
        )
