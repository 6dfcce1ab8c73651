"""One-off import of a mail archive into a mailbox: an mbox file, a maildir, or a folder of .eml files.

Every message goes through the same pipeline as live mail (stored raw, deduped, threaded or refused), in date
order, so replies find the tickets their originals opened (``archive.py``). Running it twice imports nothing new:
the second run reports everything as duplicates. ``--jobs N`` imports with N processes on PostgreSQL.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
import os
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from deskloop.accounts.models import Workspace
from deskloop.channels.email.archive import import_in_parallel, import_sequentially, read_archive
from deskloop.channels.email.deliver import Outcome
from deskloop.channels.email.models import InboundState, Mailbox


class Command(BaseCommand):
    help = "Import an mbox file, a maildir or a folder of .eml files into a mailbox, with a summary at the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--mailbox", required=True, help="mailbox address")
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="processes importing at once (PostgreSQL only; default: the machine's cores there, 1 on SQLite)",
        )
        parser.add_argument("path", help="mbox file, maildir or folder of .eml files")

    def handle(self, *args: Any, **options: Any) -> None:
        target = self._mailbox(options["workspace"], options["mailbox"])
        jobs = self._jobs(options["jobs"])
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            messages = read_archive(path)
        except (OSError, stdlib_mailbox.Error) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        counts: Counter[str] = Counter()
        with tqdm(total=len(messages), desc="import", unit="msg", file=self.stderr) as progress:
            if jobs == 1:
                for key in import_sequentially(target, messages):
                    counts[key] += 1
                    progress.update()
            else:
                for keys in import_in_parallel(target, messages, jobs):
                    counts.update(keys)
                    progress.update(len(keys))
        self.stdout.write(summary(len(messages), counts))

    @staticmethod
    def _mailbox(slug: str, address: str) -> Mailbox:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {slug!r}.")
        target = Mailbox.objects.filter(workspace=workspace, address__iexact=address.strip()).first()
        if target is None:
            raise CommandError(f"Workspace {workspace.slug!r} has no mailbox {address!r}.")
        return target

    @staticmethod
    def _jobs(asked: int | None) -> int:
        # Other processes see only committed rows: called inside a transaction (from code), the mailbox and
        # workspace may not exist for them yet.
        concurrent_writers = connection.vendor == "postgresql" and not connection.in_atomic_block
        if asked is None:
            return (os.cpu_count() or 1) if concurrent_writers else 1
        if asked < 1:
            raise CommandError("--jobs must be 1 or more.")
        if asked > 1 and not concurrent_writers:
            raise CommandError(
                "--jobs above 1 needs PostgreSQL (SQLite takes one writer at a time) and no open transaction."
            )
        return asked


# What the summary calls each delivered outcome (deliver.Outcome): a follow-up is a new ticket opened because the
# customer wrote to a closed one, so it is counted apart from the conversations that are new.
_OUTCOME_LINES = {
    Outcome.NEW_TICKET: "New tickets",
    Outcome.FOLLOW_UP: "Follow-up tickets",
    Outcome.THREADED: "Replies threaded",
}
_STATE_LINES: dict[str, str] = {InboundState.QUARANTINED: "Quarantined", InboundState.RECEIVED: "Left unprocessed"}


def summary(read: int, counts: Counter[str]) -> str:
    """One line per outcome of every state of ``InboundState`` (read from its choices, so a state added later gets
    a line of its own): the lines other than "Messages read" always add up to it."""
    by_state: dict[str, Counter[str]] = {}
    for key, n in counts.items():
        state, _sep, detail = key.partition(":")
        by_state.setdefault(state, Counter())[detail] += n
    processed = by_state.pop(InboundState.PROCESSED, Counter())
    lines = [f"Messages read: {read}"]
    lines += [f"{label}: {processed.pop(outcome, 0)}" for outcome, label in _OUTCOME_LINES.items()]
    lines += [f"Processed otherwise ({outcome or 'no outcome'}): {n}" for outcome, n in sorted(processed.items())]
    lines.append(f"Duplicates: {sum(by_state.pop('duplicate', Counter()).values())}")
    refused = by_state.pop(InboundState.REFUSED, Counter())
    reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(refused.items()))
    lines.append(f"Refused: {sum(refused.values())}" + (f" ({reasons})" if reasons else ""))
    for state, label in InboundState.choices:
        if state in (InboundState.PROCESSED, InboundState.REFUSED):
            continue
        lines.append(f"{_STATE_LINES.get(state, str(label))}: {sum(by_state.pop(state, Counter()).values())}")
    # A key no state names (it cannot happen today) is still shown, so the lines add up whatever comes.
    lines += [f"Other ({state}): {sum(n.values())}" for state, n in sorted(by_state.items())]
    return "\n".join(lines)
