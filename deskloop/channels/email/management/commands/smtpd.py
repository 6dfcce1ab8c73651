"""Listen for mail from an MTA over SMTP or LMTP and store it in the mailboxes it is addressed to.

`deskloop smtpd --host 127.0.0.1 --port 2525` (or `python manage.py smtpd ...`); add `--lmtp` for LMTP, which
answers per recipient. Runs until SIGTERM or SIGINT. See docs/operations.md for the MTA side.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskloop.channels.email.inbound import finish_received
from deskloop.channels.email.smtpd import DeskloopController


class Command(BaseCommand):
    help = "Receive mail from an MTA over SMTP (or LMTP with --lmtp) for the active mailboxes' addresses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on (default 2525)")
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP (per-recipient answers) instead of SMTP")

    def handle(self, *args: Any, **options: Any) -> None:
        # Messages a killed listener stored but never processed; the MTA's retry would only see duplicates.
        finished = finish_received(via="smtp")
        if finished:
            self.stdout.write(f"Processed {finished} messages an earlier run had stored but not processed.")
        controller = DeskloopController(host=options["host"], port=options["port"], lmtp=options["lmtp"])
        try:
            controller.start()
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        protocol = "LMTP" if options["lmtp"] else "SMTP"
        self.stdout.write(f"Deskloop {protocol} listener on {options['host']}:{options['port']}")
        self.stdout.flush()
        stop = threading.Event()

        def on_signal(_signum: int, _frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while not stop.wait(1.0):
            pass
        controller.stop()
        self.stdout.write("Stopped.")
