"""Article images: uploaded from the editor, served to whoever may read the article (see queries.image_for_reader).

Served inline (they are shown in pages) but only as the raster type their bytes were checked to be, with nosniff
and a sandboxing CSP, so an upload can never run as a document in Deskloop's origin."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import AgentRequest, agent_view, public_view, resolve_agent
from deskloop.accounts.models import WRITER_ROLES
from deskloop.core.errors import ValidationFailed
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.knowledge import queries
from deskloop.knowledge.models import ARTICLE_LOCALES
from deskloop.knowledge.services.images import check_image_size, image_url, upload_article_image
from deskloop.tickets.attachments import IncomingFile


@agent_view(roles=WRITER_ROLES, description="Upload an image into an article")
@require_POST
def image_upload(request: AgentRequest, article_id: int) -> HttpResponse:
    article = queries.get_article_for_agent(request.agent, article_id)
    wants_json = request.headers.get("accept", "").startswith("application/json") or is_htmx(request)
    upload = request.FILES.get("image")
    locale = request.POST.get("locale", "")
    locale = locale if locale in ARTICLE_LOCALES else ARTICLE_LOCALES[0]
    with refusal() as refused:
        if upload is None:
            raise ValidationFailed(_("Choose an image to upload."), field="image")
        # Refused before reading: an oversized file never sits in memory whole.
        check_image_size(upload.name or "image", upload.size or 0)
        image = upload_article_image(
            actor=request.agent,
            article=article,
            upload=IncomingFile(filename=upload.name or "image", content=upload.read()),
        )
        if wants_json:
            return JsonResponse({"url": image_url(image), "filename": image.filename, "size": image.size}, status=201)
        messages.success(request, f'<img src="{image_url(image)}" alt="{image.filename}">')
        return redirect("knowledge:article_locale", article_id=article.pk, locale=locale)
    if wants_json:
        return JsonResponse({"error": refused.message}, status=refused.status)
    return refused.redirect(request, "knowledge:article_locale", article_id=article.pk, locale=locale)


@public_view
@require_GET
def image_show(request: HttpRequest, image_key: str) -> FileResponse:
    agent = resolve_agent(request)
    image = queries.image_for_reader(image_key, agent=agent)
    response = FileResponse(default_storage.open(image.blob.storage_name, "rb"))
    response["Content-Type"] = image.content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Public images may sit in shared caches like the pages that show them; an internal article's may not.
    response["Cache-Control"] = "private, max-age=3600" if agent is not None else "public, max-age=3600"
    return response
