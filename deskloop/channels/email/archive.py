"""A mail archive (an mbox file, a maildir, a folder of message files) read in date order and imported through the
same entry point as live mail, by one process or several.

Several processes on PostgreSQL split the archive by conversation: a message, every message that refers to it
(Message-ID, In-Reply-To, References) and every message from the same sender go to one process, in date order, so
a reply still finds the ticket its original opened and a customer's contact is created once. What each message
becomes is then the same as in a one-process import; only the order of ticket numbers across conversations differs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import mailbox as stdlib_mailbox
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.message import Message as HeaderMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

from django.db import connections

from .addresses import normalize_address
from .header_text import normalize_message_id
from .models import Mailbox
from .pipeline import IngestResult, ingest_raw

Loader = Callable[[], bytes]
_LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)
_HEAD_LIMIT = 65536  # headers past this are not read for ordering or grouping (the pipeline reads them all)


@dataclass(frozen=True)
class ArchivedMessage:
    label: str  # where it is in the archive: a file's relative path, or the mbox/maildir key
    load: Loader
    date: dt.datetime  # the Date header; unreadable or missing dates sort last, in archive order
    conversation_keys: tuple[str, ...]  # Message-IDs it is or refers to, and its sender


def _head(raw: bytes) -> bytes:
    ends = [position for position in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if position != -1]
    return raw[: min([*ends, _HEAD_LIMIT])]


def _date_of(headers: HeaderMessage) -> dt.datetime:
    try:
        value = headers.get("Date")
        parsed = email.utils.parsedate_to_datetime(str(value)) if value else None
    except Exception:  # an unreadable Date: such messages go last, in archive order
        return _LATEST
    if parsed is None:
        return _LATEST
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _conversation_keys(headers: HeaderMessage) -> tuple[str, ...]:
    keys = []
    for name in ("Message-ID", "In-Reply-To", "References"):
        for value in headers.get_all(name) or ():
            keys += ["id:" + normalize_message_id(part) for part in str(value).split() if "@" in part]
    sender = normalize_address(email.utils.parseaddr(str(headers.get("From") or ""))[1])
    if sender:
        keys.append("from:" + sender)
    return tuple(keys)


def _files_in(path: Path) -> Iterator[tuple[str, Loader]]:
    """(label, loader) for every message in an mbox file, a maildir or a folder (recursive) of message files."""
    if path.is_file():
        box: stdlib_mailbox.Mailbox[Any] = stdlib_mailbox.mbox(str(path), create=False)
        for key in box.iterkeys():
            yield f"{path.name}#{key}", _box_loader(box, key)
    elif all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
        maildir = stdlib_mailbox.Maildir(str(path), factory=None, create=False)
        for key in sorted(maildir.keys()):
            yield key, _box_loader(maildir, key)
    else:
        for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            yield str(file.relative_to(path)), file.read_bytes


def _box_loader(box: stdlib_mailbox.Mailbox[Any], key: str) -> Loader:
    return lambda: box.get_bytes(key)


def read_archive(path: Path) -> list[ArchivedMessage]:
    """Every message of the archive in date order (archive order among equal dates), so a reply comes after the
    message that opened its ticket. Raises OSError or mailbox.Error when the archive cannot be read."""
    found = []
    for label, load in _files_in(path):
        headers = BytesHeaderParser(policy=compat32).parsebytes(_head(load()))
        found.append(ArchivedMessage(label, load, _date_of(headers), _conversation_keys(headers)))
    return sorted(found, key=lambda message: message.date)  # a stable sort keeps archive order among equals


def conversations(messages: Sequence[ArchivedMessage]) -> list[list[ArchivedMessage]]:
    """The messages split into groups that share no conversation key, each in the given order, the groups in the
    order of their first message."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]  # path halving keeps the trees flat
            key = parent[key]
        return key

    for position, message in enumerate(messages):
        own = root(f"#{position}")
        for key in message.conversation_keys:
            parent[root(key)] = own
    groups: dict[str, list[ArchivedMessage]] = {}
    for position, message in enumerate(messages):
        groups.setdefault(root(f"#{position}"), []).append(message)
    return list(groups.values())


def outcome_key(result: IngestResult) -> str:
    """What the import summary counts a message as: "duplicate", or its state with what became of it in that state
    ("processed:new_ticket", "refused:bounce", "quarantined"), so every state has a key and nothing drops out of the
    totals."""
    if result.duplicate:
        return "duplicate"
    if result.state == "refused":
        return f"refused:{result.refusal_reason}"
    if result.state == "processed":
        return f"processed:{result.outcome}"
    return result.state


def import_sequentially(mailbox: Mailbox, messages: Sequence[ArchivedMessage]) -> Iterator[str]:
    """Import in the given order in this process; yields each message's outcome key as it is done."""
    for message in messages:
        yield outcome_key(ingest_raw(mailbox=mailbox, raw=message.load(), via="import"))


# What the worker processes import: set before they are forked, so the loaders (closures over open archives) are
# inherited rather than pickled.
_FORKED_WORK: tuple[Mailbox, list[list[ArchivedMessage]]] | None = None


def _import_group(index: int) -> list[str]:
    assert _FORKED_WORK is not None
    mailbox, groups = _FORKED_WORK
    return list(import_sequentially(mailbox, groups[index]))


def import_in_parallel(mailbox: Mailbox, messages: Sequence[ArchivedMessage], jobs: int) -> Iterator[list[str]]:
    """Import with ``jobs`` forked processes, one conversation at a time each; yields the outcome keys of each
    conversation as it is done. Needs a database that takes concurrent writers (PostgreSQL)."""
    global _FORKED_WORK
    groups = conversations(messages)
    _FORKED_WORK = (mailbox, groups)
    # Children must open connections of their own: a connection shared across fork interleaves its protocol.
    connections.close_all()
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap_unordered(_import_group, range(len(groups)))
    finally:
        _FORKED_WORK = None
