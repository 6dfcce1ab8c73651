"""What the revenue pages share: the list's page of rows and the query string that keeps its filters."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import QueryDict

PAGE_SIZE = 50


def paged(rows: Any, request_get: QueryDict) -> tuple[Page[Any], str]:
    """The requested page and the filters as a query string (without ``page``) for the pager's links."""
    page = Paginator(rows, PAGE_SIZE).get_page(request_get.get("page"))
    kept = request_get.copy()
    kept.pop("page", None)
    return page, kept.urlencode()
