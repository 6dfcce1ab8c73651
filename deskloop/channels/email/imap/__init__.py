"""Fetching a mailbox's IMAP folder: crash-safe and idempotent, by polling or with IDLE.

How it stays exactly-once:
- Messages are fetched in UID order from the checkpoint (``ImapCheckpoint``: folder, UIDVALIDITY, last UID) on,
  in batches. Each goes through ``ingest_raw``, whose ``on_stored`` hook advances the checkpoint in the same
  transaction that stores the message: a crash can repeat the message in flight, never skip one, and dedupe
  (Message-ID + SHA-256 of the bytes) absorbs the repeat.
- A changed UIDVALIDITY means the server renumbered the folder: the checkpoint starts over at UID 1 and dedupe
  skips what was already imported.
- Nothing is deleted or moved on the server. ``mark_seen`` only adds \\Seen, and only after the batch committed.
- A message that cannot be parsed is stored and quarantined by the pipeline; it never holds up the rest.
- Connection, TLS, sign-in and folder problems become ``ImapFailure`` with a message an admin can act on; the
  fetch is logged with the mailbox and tried again on the next run, and the mailbox records the error and since
  when it fails (``record_imap_check``), which the mailboxes page shows.

connection.py connects and signs in, fetch.py imports what is new, idle.py keeps a mailbox fetched.
"""

from .connection import (
    CHECK_TIMEOUT,
    IMAP_TIMEOUT,
    ConnectionCheck,
    ImapFailure,
    ImapSettings,
    OpenFolder,
    check_connection,
    connect,
    open_folder,
)
from .fetch import FetchReport, MessageCallback, fetch_mailbox, fetchable_mailboxes, import_new_messages, poll_mailboxes
from .idle import IDLE_SECONDS, POLL_SECONDS, run_idle

__all__ = [
    "CHECK_TIMEOUT",
    "IDLE_SECONDS",
    "IMAP_TIMEOUT",
    "POLL_SECONDS",
    "ConnectionCheck",
    "FetchReport",
    "ImapFailure",
    "ImapSettings",
    "MessageCallback",
    "OpenFolder",
    "check_connection",
    "connect",
    "fetch_mailbox",
    "fetchable_mailboxes",
    "import_new_messages",
    "open_folder",
    "poll_mailboxes",
    "run_idle",
]
