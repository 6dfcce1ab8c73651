"""The content-addressed blob store on the local disk: where a file lands, that it is written once, and that a file
left short by a killed writer is written again."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from django.conf import LazySettings

from deskloop.tickets.attachments import read_blob, store_blob
from deskloop.tickets.models import Blob

INVOICE = b"%PDF-1.4 invoice 2026-0042\n" * 40
DIGEST = hashlib.sha256(INVOICE).hexdigest()


@pytest.fixture
def media(settings: LazySettings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.django_db
def test_a_file_is_stored_once_under_its_digest(media: Path) -> None:
    first = store_blob(INVOICE)
    second = store_blob(INVOICE, sha256=DIGEST)

    assert (first.sha256, first.size, second.sha256) == (DIGEST, len(INVOICE), DIGEST)
    assert stored_files(media) == [f"blobs/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"]
    assert read_blob(Blob.objects.get(sha256=DIGEST)) == INVOICE
    assert Blob.objects.filter(sha256=DIGEST).count() == 1


@pytest.mark.django_db
def test_a_file_left_short_by_a_killed_writer_is_written_again(media: Path) -> None:
    path = media / "blobs" / DIGEST[:2] / DIGEST[2:4] / DIGEST
    path.parent.mkdir(parents=True)
    path.write_bytes(INVOICE[:100])  # the process died here; its row was never written

    store_blob(INVOICE)

    assert path.read_bytes() == INVOICE
    assert stored_files(media) == [f"blobs/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"]


@pytest.mark.django_db
def test_the_configured_file_mode_is_applied(settings: LazySettings, media: Path) -> None:
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    previous = os.umask(0o022)
    try:
        store_blob(INVOICE)
    finally:
        os.umask(previous)

    mode = stat.S_IMODE((media / "blobs" / DIGEST[:2] / DIGEST[2:4] / DIGEST).stat().st_mode)
    assert mode == 0o640
