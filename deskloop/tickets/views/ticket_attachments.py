"""Attachment downloads. Files come from customers, so they are always served as downloads: a browser must never
render an uploaded HTML or SVG file inside Deskloop's origin, where its scripts would run as the agent."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from deskloop.accounts.access import AgentRequest, agent_view
from deskloop.accounts.models import ALL_ROLES
from deskloop.tickets.models import Attachment
from deskloop.tickets.queries import may_see_trash_and_spam

_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# Types a browser may execute or render as a document even from a download link opened in a tab.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/x-javascript",
        "application/x-shockwave-flash",
        "application/vnd.mozilla.xul+xml",
        "text/vtt",
        "multipart/x-mixed-replace",
        "application/pdf+xml",
        "text/cache-manifest",
    }
)
SAFE_FALLBACK = "application/octet-stream"


def download_content_type(stored: str) -> str:
    """The stored type when it is inert; ``application/octet-stream`` for anything active or malformed."""
    content_type = (stored or "").split(";")[0].strip().lower()
    if not _MIME.match(content_type):
        return SAFE_FALLBACK
    if content_type in _ACTIVE_TYPES or content_type.endswith(("+xml", "/xml")) or "html" in content_type:
        return SAFE_FALLBACK
    if "script" in content_type:
        return SAFE_FALLBACK
    return content_type


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 5987 ``filename*``."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename) or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_headers(attachment: Attachment) -> dict[str, str]:
    return {
        "Content-Type": download_content_type(attachment.content_type),
        "Content-Disposition": content_disposition(attachment.filename),
        "X-Content-Type-Options": "nosniff",
        # Belt and braces: if a browser renders it anyway, no script runs and nothing is same-origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }


@agent_view(roles=ALL_ROLES, description="Download an attachment of a ticket in the agent's workspace")
@require_GET
def attachment_download(request: AgentRequest, attachment_id: int) -> FileResponse:
    attachment = (
        Attachment.objects.select_related("blob", "message__ticket")
        .filter(pk=attachment_id, workspace_id=request.agent.workspace_id)
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment")
    ticket = attachment.message.ticket
    if (ticket.deleted_at is not None or ticket.is_spam) and not may_see_trash_and_spam(request.agent):
        raise Http404("No such attachment")
    # Streamed from storage in chunks: a 25 MB log file never sits in a web worker's memory. Our own headers
    # replace FileResponse's guesses (it would trust the file name's type and could serve text/html inline).
    response = FileResponse(default_storage.open(attachment.blob.storage_name, "rb"))
    for name, value in download_headers(attachment).items():
        response[name] = value
    return response
