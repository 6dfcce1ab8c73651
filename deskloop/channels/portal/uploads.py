"""Files from a portal form, checked before they are read: the count and each size are refused with the
service's messages before a byte of an oversized file is held in memory."""

from __future__ import annotations

from django.http import HttpRequest

from deskloop.channels.portal.services import check_attachments
from deskloop.tickets.attachments import IncomingFile, check_upload_size


def incoming_files(request: HttpRequest, field: str = "attachments") -> list[IncomingFile]:
    uploads = [upload for upload in request.FILES.getlist(field) if upload.name]
    # The count first (with empty placeholders), then each declared size, then the bytes.
    check_attachments([IncomingFile(filename=str(upload.name), content=b"") for upload in uploads])
    for upload in uploads:
        check_upload_size(str(upload.name), upload.size or 0)
    return [
        IncomingFile(filename=str(upload.name), content=upload.read(), content_type=upload.content_type or "")
        for upload in uploads
    ]
