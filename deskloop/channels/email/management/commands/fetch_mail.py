"""Fetch new mail of the IMAP-connected mailboxes, once (cron, or the scheduler does it every minute) or
continuously with IDLE (``--idle``: one connection per mailbox, new mail within seconds).

Safe to run at any moment and to kill at any moment: the UID checkpoint commits with each stored message, so
the next run goes on where this one stopped, and nothing is removed from the server.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from deskloop.channels.email import imap
from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import IngestResult


class Command(BaseCommand):
    help = "Fetch new mail from the IMAP mailboxes: once (default) or continuously with IDLE (--idle)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", default="", help="only the mailbox with this address")
        parser.add_argument("--workspace", default="", help="only the mailboxes of this workspace (slug)")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="fetch once and exit (the default)")
        mode.add_argument("--idle", action="store_true", help="keep fetching: IDLE where offered, else polling")
        parser.add_argument("--mark-seen", action="store_true", help="flag fetched messages \\Seen on the server")
        parser.add_argument(
            "--idle-seconds", type=float, default=imap.IDLE_SECONDS, help="re-issue IDLE after this many seconds"
        )
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=imap.POLL_SECONDS,
            help="with --idle, poll this often where the server has no IDLE",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mailboxes = imap.fetchable_mailboxes(workspace_slug=options["workspace"], address=options["mailbox"])
        if not mailboxes:
            raise CommandError("No active mailbox with an IMAP host matches.")
        self.verbosity = int(options["verbosity"])
        if options["idle"]:
            self._idle(mailboxes, options)
            return
        failed = 0
        for mailbox in mailboxes:
            report = imap.fetch_mailbox(
                mailbox, mark_seen=options["mark_seen"], on_message=self._message, on_stored=self._stored
            )
            self._report(report)
            failed += bool(report.error)
        if failed:
            raise CommandError(
                f"{failed} of {len(mailboxes)} mailboxes could not be fetched; they are tried again on the next run."
            )

    def _message(self, uid: int, result: IngestResult) -> None:
        if self.verbosity >= 2:
            what = result.outcome or result.refusal_reason or result.state
            note = " (duplicate)" if result.duplicate else ""
            self.stdout.write(f"uid {uid}: {what}{note}")
            self.stdout.flush()

    def _stored(self, uid: int) -> None:
        if self.verbosity >= 3:
            # Printed inside the storing transaction, before the commit (the crash test aims its kills with it).
            self.stdout.write(f"uid {uid}: storing")
            self.stdout.flush()

    def _report(self, report: imap.FetchReport) -> None:
        if report.error:
            self.stderr.write(f"{report.mailbox} ({report.folder}): {report.error}")
            return
        if report.new or report.duplicates or report.finished or self.verbosity >= 1:
            line = (
                f"{report.mailbox} ({report.folder}): {report.new} new, {report.duplicates} duplicates, "
                f"{report.finished} finished after an interruption; last UID {report.last_uid}"
            )
            if report.uidvalidity_changed:
                line += " (UIDVALIDITY changed: the folder was imported again)"
            self.stdout.write(line)
            self.stdout.flush()

    def _idle(self, mailboxes: list[Mailbox], options: dict[str, Any]) -> None:
        stop = threading.Event()

        def on_signal(_signum: int, _frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        lock = threading.Lock()

        def report(fetched: imap.FetchReport) -> None:
            with lock:
                self._report(fetched)

        def message(uid: int, result: IngestResult) -> None:
            with lock:
                self._message(uid, result)

        def watch(mailbox_id: int) -> None:
            try:
                imap.run_idle(
                    mailbox_id,
                    stop=stop,
                    idle_seconds=options["idle_seconds"],
                    poll_seconds=options["poll_seconds"],
                    mark_seen=options["mark_seen"],
                    on_report=report,
                    on_message=message,
                )
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=watch, args=(mailbox.pk,), name=f"imap-{mailbox.address}", daemon=True)
            for mailbox in mailboxes
        ]
        for thread in threads:
            thread.start()
        # The main thread only waits, so signals are handled promptly.
        while not stop.wait(1.0):
            if not any(thread.is_alive() for thread in threads):
                raise CommandError("Every mailbox watcher stopped unexpectedly; see the log.")
        for thread in threads:
            thread.join(timeout=imap.IMAP_TIMEOUT)
