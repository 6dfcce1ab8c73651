"""Content-addressed attachment storage: the SHA-256 of the bytes is the file name, so a file sent twice
is stored once, and a stored file can never be overwritten with other content."""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from deskloop.core.errors import ValidationFailed
from deskloop.core.plain_sql import row_insert, run_statement
from deskloop.tickets.models import Attachment, Blob


@dataclass(frozen=True)
class IncomingFile:
    """A file as it arrives from a form, the API or an email, before it is stored."""

    filename: str
    content: bytes
    content_type: str = ""
    content_id: str = ""


def safe_filename(name: str) -> str:
    """Strip paths and control characters; what remains is shown and used in Content-Disposition."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    return name[:200] or "attachment"


def guess_content_type(filename: str, declared: str) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and "/" in declared and declared != "application/octet-stream":
        return declared
    guessed, _encoding = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


def check_upload_size(filename: str, size: int) -> None:
    """Refuse a file over DESKLOOP_ATTACHMENT_MAX_BYTES; callers with an upload check before reading it."""
    limit = settings.DESKLOOP_ATTACHMENT_MAX_BYTES
    if size > limit:
        # filesizeformat, not whole megabytes: "25.4 MB; the limit is 25.0 MB" rather than "25 MB; the limit is 25 MB".
        raise ValidationFailed(
            _("“%(name)s” is %(size)s; the limit is %(limit)s.")
            % {"name": filename, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            field="attachments",
            code="attachment_too_large",
        )


def check_size(incoming: IncomingFile) -> None:
    check_upload_size(incoming.filename, len(incoming.content))


def store_blob(content: bytes, *, sha256: str | None = None) -> Blob:
    """Store ``content`` (once per distinct SHA-256) and return its row. ``sha256``: the caller's digest of the
    same bytes, so they are not hashed twice.

    The file is written before the row, so a row never names a missing file. The row is one
    ``INSERT ... ON CONFLICT DO NOTHING`` (no SELECT first, no savepoint: a conflict is not an error); the returned
    instance carries the digest and size, not the stored row's ``created_at`` (nothing reads it back)."""
    blob = write_blob_file(content, sha256=sha256)
    run_statement(blob_row_insert(blob))
    blob._state.adding = False
    blob._state.db = connection.alias
    return blob


def write_blob_file(content: bytes, *, sha256: str | None = None) -> Blob:
    """The first half of ``store_blob``: the file only. The caller then runs ``blob_row_insert(blob)`` in its
    transaction, on its own or inside a statement of its own (the email pipeline inserts the raw message's row
    with the statement that stores the email)."""
    digest = sha256 or hashlib.sha256(content).hexdigest()
    blob = Blob(sha256=digest, size=len(content))
    name = blob.storage_name
    storage = storages["default"]
    if type(storage) is FileSystemStorage and storage.directory_permissions_mode is None:
        _write_local_file(storage, name, content)
        return blob
    # A stored file of the right size is this content (its name is its hash); a short one was left by a process
    # killed while writing it (its row was never written), and writing it again is safe.
    present = default_storage.exists(name)
    if present and default_storage.size(name) != len(content):
        default_storage.delete(name)
        present = False
    if not present:
        default_storage.save(name, ContentFile(content))
    return blob


def _write_local_file(storage: FileSystemStorage, name: str, content: bytes) -> None:
    """``write_blob_file`` on the local disk, with the same outcome as ``exists``/``size``/``save`` (a file of the
    right size is kept, a short one written again, O_EXCL, the storage's file mode) in three system calls for a
    new file instead of a dozen: Django's ``save`` also checks the name twice, looks for a free alternative name
    (a content-addressed name never needs one), locks the file and makes its directories on every call. That was
    a sixth of the CPU of ingesting an email into an empty store (a first import)."""
    path = os.path.join(storage.location, *name.split("/"))  # our own hex digest: no user input in the name
    try:
        if os.stat(path).st_size == len(content):
            return
        os.unlink(path)  # left short by a process killed while writing it (its row was never written)
    except FileNotFoundError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        try:
            descriptor = os.open(path, flags, 0o666)
        except FileNotFoundError:  # the shard's directories come with the first file in them
            os.makedirs(os.path.dirname(path), exist_ok=True)
            descriptor = os.open(path, flags, 0o666)
    except FileExistsError:
        return  # another worker is storing the same bytes under the same name
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    if storage.file_permissions_mode is not None:
        os.chmod(path, storage.file_permissions_mode)


def blob_row_insert(blob: Blob) -> tuple[str, list[Any]]:
    """The blob's row as one ``INSERT ... ON CONFLICT DO NOTHING`` (statement, parameters)."""
    return row_insert(blob, ignore_conflicts=True)


def read_blob(blob: Blob) -> bytes:
    with default_storage.open(blob.storage_name, "rb") as handle:
        content: bytes = handle.read()
    return content


# A blob is written to storage before the row that references it commits; the grace period keeps the purge from
# deleting a file whose attachment or raw email is still on its way into the database.
ORPHAN_BLOB_GRACE = dt.timedelta(days=1)


def purge_orphan_blobs(*, now: dt.datetime | None = None) -> int:
    """Delete the blobs nothing refers to any more (their tickets were purged), rows first, files after commit.

    Attachments are the only reference this app knows about; other apps keep blobs too (the email channel's raw
    messages) through PROTECT foreign keys, so a blob they still hold refuses the delete and is left alone.
    """
    cutoff = (now or timezone.now()) - ORPHAN_BLOB_GRACE
    candidates = Blob.objects.filter(created_at__lt=cutoff).exclude(sha256__in=Attachment.objects.values("blob_id"))
    purged = 0
    for blob in candidates.iterator():
        storage_name = blob.storage_name  # delete() clears the primary key it is derived from
        try:
            with transaction.atomic():
                blob.delete()
        except ProtectedError:
            continue
        # The row is gone for good; a file left behind by a crash here is only wasted space, never a dangling row.
        default_storage.delete(storage_name)
        purged += 1
    return purged
