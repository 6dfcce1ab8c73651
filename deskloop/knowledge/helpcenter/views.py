"""The public help center's pages. Thin: resolve the help center, one query or service call, render.

Pages that are the same for every visitor (home, category, article, sitemap) are rendered once per version of the
knowledge base and kept in Django's cache for ``CACHE_SECONDS``; the key holds the version (an article's own change
time, or the workspace's latest article change), so an edit makes the old page unreachable at once. The article
page's feedback form needs the visitor's own CSRF token: the cached HTML holds a placeholder that is replaced on the
way out, so the page stays shared and the form stays protected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_GET, require_POST

from deskloop.accounts.access import public_view
from deskloop.core.errors import DomainError
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.knowledge.helpcenter import queries
from deskloop.knowledge.helpcenter.search import QUERY_MAX, search_articles
from deskloop.knowledge.helpcenter.site import HelpSite, resolve_site
from deskloop.knowledge.helpcenter.visitor import new_visitor_id, remember_visitor, visitor_id
from deskloop.knowledge.models import ARTICLE_LOCALES
from deskloop.knowledge.services.feedback import record_article_feedback
from deskloop.knowledge.services.help_center_visits import current_help_center_session, record_help_center_search

CACHE_SECONDS = 60
# Sent by helpcenter.js: answer with the part of the page it replaces instead of the whole page.
PARTIAL_HEADER = "X-Deskloop-Partial"
CSRF_PLACEHOLDER = "deskloop-csrf-token-placeholder"
# Each language named in itself, so a reader finds their own whatever the page's language.
LANGUAGE_NAMES = {"en": "English", "es": "Español", "ru": "Русский"}


def _is_partial(request: HttpRequest) -> bool:
    return request.headers.get(PARTIAL_HEADER) == "1"


def _public(response: HttpResponse) -> HttpResponse:
    """Browsers and shared caches may keep it a minute (a signed-in agent's copy still gets no-store)."""
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    return response


def _cached_page(request: HttpRequest, site: HelpSite, *, locale: str, version: str, build: Callable[[], str]) -> str:
    parts = f"{site.workspace.pk}|{locale}|{request.get_host()}|{request.path}|{version}"
    key = "helpcenter:page:" + hashlib.sha256(parts.encode()).hexdigest()
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, html, CACHE_SECONDS)
    return str(html)


def _html_response(request: HttpRequest, html: str) -> HttpResponse:
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
        patch_vary_headers(response := HttpResponse(html), ["Cookie"])
        return _public(response)
    return _public(HttpResponse(html))


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> str:
    return render_to_string(template, {**context, "csrf_token": CSRF_PLACEHOLDER}, request=request)


def _languages(site: HelpSite, locale: str, urls: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"code": code, "name": LANGUAGE_NAMES[code], "url": url, "current": code == locale}
        for code, url in urls.items()
    ]


def _base_context(site: HelpSite, locale: str, locales: list[str]) -> dict[str, Any]:
    return {
        "site": site,
        "locale": locale,
        "help_center_name": site.workspace.name,
        "home_url": site.url("locale_home", locale=locale),
        "search_url": site.url("search", locale=locale),
        "languages": _languages(site, locale, {code: site.url("locale_home", locale=code) for code in locales}),
    }


def _readable_locales(site: HelpSite, locale: str | None = None) -> list[str]:
    """The help center's languages; 404 when it has no readable article (in ``locale``)."""
    locales = queries.published_locales(site.workspace.pk)
    if not locales or (locale is not None and locale not in locales):
        raise Http404
    return locales


def _with_query(url: str, query: str) -> str:
    return f"{url}?{urlencode({'q': query})}" if query else url


def _preferred_locale(request: HttpRequest, locales: list[str], default: str) -> str:
    for code, _quality in parse_accept_lang_header(request.headers.get("accept-language", "")[:500]):
        base = code.split("-")[0].lower()
        if base in locales:
            return base
    return default if default in locales else locales[0]


@public_view
@require_GET
def home(request: HttpRequest, workspace_slug: str | None = None) -> HttpResponse:
    """/help/<slug>/: on to the visitor's language (Accept-Language) among those with articles."""
    site = resolve_site(request, workspace_slug)
    locales = _readable_locales(site)
    chosen = _preferred_locale(request, locales, site.workspace.default_language)
    response = HttpResponseRedirect(site.url("locale_home", locale=chosen))
    patch_vary_headers(response, ["Accept-Language"])
    return response


@public_view
@require_GET
def locale_home(request: HttpRequest, locale: str, workspace_slug: str | None = None) -> HttpResponse:
    site = resolve_site(request, workspace_slug)
    translation.activate(locale)

    def build() -> str:
        locales = _readable_locales(site, locale)
        categories, uncategorized = queries.category_tree(site.workspace.pk, locale)
        return _page(
            request,
            "helpcenter/home.html",
            {
                **_base_context(site, locale, locales),
                "categories": categories,
                "uncategorized": queries.uncategorized(site.workspace.pk, locale) if uncategorized else [],
                "canonical": site.absolute_url(request, "locale_home", locale=locale),
                "alternates": {code: site.absolute_url(request, "locale_home", locale=code) for code in locales},
            },
        )

    version = queries.knowledge_version(site.workspace.pk)
    return _html_response(request, _cached_page(request, site, locale=locale, version=version, build=build))


@public_view
@require_GET
def category(request: HttpRequest, locale: str, category_slug: str, workspace_slug: str | None = None) -> HttpResponse:
    site = resolve_site(request, workspace_slug)
    translation.activate(locale)

    def build() -> str:
        locales = _readable_locales(site, locale)
        node = queries.category_page(site.workspace.pk, locale, category_slug)
        if node is None:
            raise Http404
        parent = node.category.parent
        return _page(
            request,
            "helpcenter/category.html",
            {
                **_base_context(site, locale, locales),
                "node": node,
                "parent": queries.CategoryNode(parent, parent.localized_name(locale), "") if parent else None,
                "canonical": site.absolute_url(request, "category", locale=locale, category_slug=category_slug),
            },
        )

    version = queries.knowledge_version(site.workspace.pk)
    return _html_response(request, _cached_page(request, site, locale=locale, version=version, build=build))


def _article_context(
    request: HttpRequest, site: HelpSite, locale: str, article_id: int, feedback: dict[str, Any]
) -> dict[str, Any]:
    found = queries.article_translation(site.workspace.pk, locale, article_id)
    if found is None:
        raise Http404
    slugs = queries.other_languages(found)
    in_languages = {code: slugs[code] for code in ARTICLE_LOCALES if code in slugs}
    category_node = found.article.category
    return {
        **_base_context(site, locale, queries.published_locales(site.workspace.pk)),
        "languages": _languages(
            site,
            locale,
            {
                code: site.url("article", locale=code, article_id=article_id, article_slug=slug)
                for code, slug in in_languages.items()
            },
        ),
        "article": found,
        "body_html": mark_safe(found.body_html),
        "section": category_node,
        "section_name": category_node.localized_name(locale) if category_node else "",
        "category_parent": category_node.parent if category_node else None,
        "category_parent_name": category_node.parent.localized_name(locale)
        if category_node and category_node.parent
        else "",
        "related": queries.related_articles(found),
        "canonical": site.absolute_url(
            request, "article", locale=locale, article_id=article_id, article_slug=found.slug
        ),
        "alternates": {
            code: site.absolute_url(request, "article", locale=code, article_id=article_id, article_slug=slug)
            for code, slug in in_languages.items()
        },
        "feedback_url": site.url("feedback", locale=locale, article_id=article_id),
        **feedback,
    }


@public_view
@require_GET
def article(
    request: HttpRequest, locale: str, article_id: int, article_slug: str, workspace_slug: str | None = None
) -> HttpResponse:
    """Only a published translation of a public article; a wrong slug (an old title) moves to the right one."""
    site = resolve_site(request, workspace_slug)
    stamp = queries.article_stamp(site.workspace.pk, locale, article_id)
    if stamp is None:
        raise Http404
    slug, version = stamp
    if slug != article_slug:
        return HttpResponsePermanentRedirect(
            site.url("article", locale=locale, article_id=article_id, article_slug=slug)
        )
    translation.activate(locale)
    if request.GET.get("feedback") == "thanks":
        # The answer to a vote sent without JavaScript: this visitor's own page, not the shared one.
        context = _article_context(request, site, locale, article_id, {"feedback_sent": True})
        return render(request, "helpcenter/article.html", context)

    def build() -> str:
        return _page(request, "helpcenter/article.html", _article_context(request, site, locale, article_id, {}))

    return _html_response(request, _cached_page(request, site, locale=locale, version=version, build=build))


@public_view
@require_POST
def feedback(request: HttpRequest, locale: str, article_id: int, workspace_slug: str | None = None) -> HttpResponse:
    """ "Was this helpful?": stored as one ArticleFeedback, tied to the visitor's help-center session if any."""
    site = resolve_site(request, workspace_slug)
    translation.activate(locale)
    found = queries.article_translation(site.workspace.pk, locale, article_id)
    if found is None:
        raise Http404
    wait = seconds_over_limit(request, workspace_id=site.workspace.pk, bucket="feedback")
    if wait:
        return too_many_requests(wait, as_json=False)
    answer = request.POST.get("helpful", "")
    error, status = "", 200
    if answer not in ("yes", "no"):
        error, status = _("Choose “Yes” or “No”."), 400
    else:
        session = current_help_center_session(workspace=site.workspace, visitor_id=visitor_id(request))
        try:
            record_article_feedback(
                translation=found,
                helpful=answer == "yes",
                comment=request.POST.get("comment", ""),
                request_session=session,
            )
        except DomainError as refused:
            error, status = refused.message, refused.http_status
    state = {"feedback_sent": not error, "feedback_error": error, "feedback_comment": request.POST.get("comment", "")}
    if _is_partial(request):
        context = {"feedback_url": site.url("feedback", locale=locale, article_id=article_id), **state}
        return render(request, "helpcenter/_feedback.html", context, status=status)
    if not error:
        url = site.url("article", locale=locale, article_id=article_id, article_slug=found.slug)
        return HttpResponseRedirect(f"{url}?feedback=thanks#feedback", status=303)
    return render(
        request, "helpcenter/article.html", _article_context(request, site, locale, article_id, state), status=status
    )


@public_view
@require_GET
def search(request: HttpRequest, locale: str, workspace_slug: str | None = None) -> HttpResponse:
    """A GET form, so it works without JavaScript; each search is a "searched" step of the visitor's session."""
    site = resolve_site(request, workspace_slug)
    locales = _readable_locales(site, locale)
    translation.activate(locale)
    query = " ".join(request.GET.get("q", "").split())
    results: list[queries.ArticleLink] = []
    error, status, visitor, new_visitor = "", 200, visitor_id(request), False
    if len(query) > QUERY_MAX:
        error, status = _("A search can be at most %(max)d characters.") % {"max": QUERY_MAX}, 400
    elif query:
        wait = seconds_over_limit(request, workspace_id=site.workspace.pk, bucket="search")
        if wait:
            return too_many_requests(wait, as_json=False)
        results = search_articles(workspace_id=site.workspace.pk, query=query, locale=locale)
        if not visitor:
            visitor, new_visitor = new_visitor_id(), True
        record_help_center_search(
            workspace=site.workspace,
            visitor_id=visitor,
            locale=locale,
            query=query,
            article_ids=[found.article_id for found in results],
        )
    context = {
        **_base_context(site, locale, locales),
        "languages": _languages(
            site, locale, {code: _with_query(site.url("search", locale=code), query) for code in locales}
        ),
        "query": query,
        "results": results,
        "search_error": error,
    }
    template = "helpcenter/_search_results.html" if _is_partial(request) else "helpcenter/search.html"
    response = render(request, template, context, status=status)
    if new_visitor:
        remember_visitor(response, visitor)
    return response


@public_view
@require_GET
def sitemap(request: HttpRequest, workspace_slug: str | None = None) -> HttpResponse:
    """Every readable article in every language, each with its other languages as hreflang alternates."""
    site = resolve_site(request, workspace_slug)

    def build() -> str:
        locales = _readable_locales(site)
        articles: list[dict[str, Any]] = []
        for article_id, slugs, changed in queries.sitemap_entries(site.workspace.pk):
            alternates = {
                code: site.absolute_url(request, "article", locale=code, article_id=article_id, article_slug=slug)
                for code, slug in slugs.items()
            }
            articles.extend({"loc": url, "lastmod": changed, "alternates": alternates} for url in alternates.values())
        homes = [site.absolute_url(request, "locale_home", locale=code) for code in locales]
        return render_to_string("helpcenter/sitemap.xml", {"articles": articles, "homes": homes})

    version = queries.knowledge_version(site.workspace.pk)
    html = _cached_page(request, site, locale="", version=version, build=build)
    return _public(HttpResponse(html, content_type="application/xml; charset=utf-8"))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 page on a help center's own host name."""
    return render(request, "helpcenter/not_found.html", status=404)
