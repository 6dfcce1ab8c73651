"""Images in articles: uploaded from the editor, stored once as a tickets ``Blob``, linked from the article's HTML
by ``image_url``; the sanitizer keeps exactly that path (``IMAGE_PATH``) as an image source."""

from __future__ import annotations

from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.knowledge.models import Article, ArticleImage
from deskloop.knowledge.services.articles import IMAGE_PATH, require_writer
from deskloop.tickets.attachments import IncomingFile, safe_filename, store_blob

# A screenshot is well under this; a bigger file is a photo that should be resized before it slows every reader.
IMAGE_MAX_BYTES = 5 * 1024 * 1024
# The formats browsers show, told by their first bytes rather than by the name or the declared type (SVG is left
# out: it is a document that can run scripts).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)


def image_type(content: bytes) -> str:
    for signature, offset, content_type in _SIGNATURES:
        if content[offset : offset + len(signature)] == signature:
            if content_type == "image/webp" and not content.startswith(b"RIFF"):
                continue
            return content_type
    return ""


def image_url(image: ArticleImage) -> str:
    return f"{IMAGE_PATH}{image.key}/"


def check_image_size(filename: str, size: int) -> None:
    """Refuse an image over IMAGE_MAX_BYTES; a view with an upload checks before reading it."""
    if size > IMAGE_MAX_BYTES:
        raise ValidationFailed(
            _("“%(name)s” is %(size)s; an image can be at most %(limit)s.")
            % {"name": safe_filename(filename), "size": filesizeformat(size), "limit": filesizeformat(IMAGE_MAX_BYTES)},
            field="image",
        )


@transaction.atomic
def upload_article_image(*, actor: Agent, article: Article, upload: IncomingFile) -> ArticleImage:
    require_writer(actor, article.workspace)
    check_image_size(upload.filename, len(upload.content))
    content_type = image_type(upload.content)
    if not content_type:
        raise ValidationFailed(_("Upload a PNG, JPEG, GIF or WebP image."), field="image")
    blob = store_blob(upload.content)
    return ArticleImage.objects.create(
        workspace_id=article.workspace_id,
        article=article,
        blob=blob,
        filename=safe_filename(upload.filename),
        content_type=content_type,
        size=len(upload.content),
        uploaded_by=actor,
    )
