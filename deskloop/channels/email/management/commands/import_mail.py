"""One-off import of a mail archive into a mailbox: an mbox file, a maildir, or a folder of .eml files.

Every message goes through the same pipeline as live mail (stored raw, deduped, threaded or refused), in date
order when the Date headers allow, so replies find the tickets their originals opened. Running it twice
imports nothing new: the second run reports everything as duplicates.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import mailbox as stdlib_mailbox
from collections import Counter
from collections.abc import Callable, Iterator
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from deskloop.accounts.models import Workspace
from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import IngestResult, Outcome, ingest_raw

Loader = Callable[[], bytes]
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def _date_of(raw_headers: bytes) -> dt.datetime:
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw_headers).get("Date")
        parsed = email.utils.parsedate_to_datetime(str(value)) if value else None
    except Exception:  # an unreadable Date: such messages go last, in file order
        return _LATEST
    if parsed is None:
        return _LATEST
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _head(raw: bytes) -> bytes:
    end = raw.find(b"\n\n")
    crlf = raw.find(b"\r\n\r\n")
    cut = min(x for x in (end, crlf, 65536) if x != -1)
    return raw[:cut]


def _read_file(path: Path) -> Loader:
    return path.read_bytes


def _read_key(box: stdlib_mailbox.Mailbox[Any], key: str) -> Loader:
    return lambda: box.get_bytes(key)


def messages_in(path: Path) -> Iterator[tuple[str, Loader]]:
    """(label, loader) for every message in an mbox file, a maildir or a folder (recursive) of message files."""
    if path.is_file():
        box: stdlib_mailbox.Mailbox[Any] = stdlib_mailbox.mbox(str(path), create=False)
        for key in box.iterkeys():
            yield f"{path.name}#{key}", _read_key(box, key)
    elif all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        maildir = stdlib_mailbox.Maildir(str(path), factory=None, create=False)
        for key in sorted(maildir.keys()):
            yield key, _read_key(maildir, key)
    else:
        for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            yield str(file.relative_to(path)), _read_file(file)


class Command(BaseCommand):
    help = "Import an mbox file, a maildir or a folder of .eml files into a mailbox, with a summary at the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--mailbox", required=True, help="mailbox address")
        parser.add_argument("path", help="mbox file, maildir or folder of .eml files")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        target = Mailbox.objects.filter(workspace=workspace, address__iexact=options["mailbox"].strip()).first()
        if target is None:
            raise CommandError(f"Workspace {workspace.slug!r} has no mailbox {options['mailbox']!r}.")
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            found = list(messages_in(path))
        except (OSError, stdlib_mailbox.Error) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        # Date order, so a reply is imported after the message that opened its ticket.
        dated = sorted(
            ((_date_of(_head(loader())), index, label, loader) for index, (label, loader) in enumerate(found)),
            key=lambda item: (item[0], item[1]),
        )
        counts: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for _date, _index, _label, loader in tqdm(dated, desc="import", unit="msg", file=self.stderr):
            result = ingest_raw(mailbox=target, raw=loader(), via="import")
            self._count(result, counts, refused)
        self._summary(len(dated), counts, refused)

    @staticmethod
    def _count(result: IngestResult, counts: Counter[str], refused: Counter[str]) -> None:
        if result.duplicate:
            counts["duplicates"] += 1
        elif result.state == "refused":
            refused[result.refusal_reason] += 1
        elif result.state == "quarantined":
            counts["quarantined"] += 1
        elif result.outcome in (Outcome.NEW_TICKET, Outcome.FOLLOW_UP):
            counts["tickets"] += 1
        elif result.outcome == Outcome.THREADED:
            counts["threaded"] += 1

    def _summary(self, read: int, counts: Counter[str], refused: Counter[str]) -> None:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(refused.items()))
        lines = [
            f"Messages read: {read}",
            f"Tickets created: {counts['tickets']}",
            f"Replies threaded: {counts['threaded']}",
            f"Duplicates: {counts['duplicates']}",
            f"Refused: {sum(refused.values())}" + (f" ({reasons})" if reasons else ""),
            f"Quarantined: {counts['quarantined']}",
        ]
        self.stdout.write("\n".join(lines))
