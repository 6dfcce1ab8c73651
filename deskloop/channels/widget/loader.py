"""``/widget.js``, the one script a host application adds.

The loader is a static file served from a view so that it answers at the root (the documented tag is
``<script src="https://<host>/widget.js" ...>``) with its labels in every language the panel speaks; it changes
only with a deploy, so browsers and proxies may keep it for an hour.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from deskloop.accounts.access import public_view
from deskloop.knowledge.models import ARTICLE_LOCALES

LOADER_FILE = Path(__file__).parent / "static" / "widget" / "loader.js"
LOADER_MAX_AGE = 3600


def _labels() -> dict[str, dict[str, str]]:
    labels = {}
    for locale in ARTICLE_LOCALES:
        with translation.override(locale):
            labels[locale] = {"open": _("Help"), "close": _("Close help"), "panel": _("Help and support")}
    return labels


@cache
def _loader_source() -> str:
    # Read once per process: the file changes only with a deploy.
    return LOADER_FILE.read_text(encoding="utf-8").replace("__LABELS__", json.dumps(_labels(), ensure_ascii=False))


@public_view
@require_GET
def loader(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_loader_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    return response
