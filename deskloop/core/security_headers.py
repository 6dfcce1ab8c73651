"""Response headers every page needs and Django does not send by itself: a Content-Security-Policy, and
``Cache-Control: no-store`` on whatever was answered to a signed-in agent or an API token.

The policy allows scripts and styles only from our own static files: the templates carry no inline ``<script>``,
``on*=`` handlers or ``style=`` attributes (htmx is told not to add its own ``<style>`` nor to evaluate code, see
base.html), so a script smuggled into a ticket by an email or a custom field cannot run even if the sanitizer
missed it. Images may come from anywhere over http(s) because an agent may choose to load an email's remote
images (``data-remote-src``); everything else stays on this origin.

HSTS, the SSL redirect and secure cookies come from Django's SecurityMiddleware and are switched on by
``DESKLOOP_HTTPS`` in settings.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https: http:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _answers_someone_known(request: HttpRequest) -> bool:
    """Whether the response was made for a signed-in user (session) or an API token: it may hold personal data
    (tickets, customers' addresses) that no shared or browser cache should keep."""
    if getattr(request, "auth", None) is not None:  # django-ninja sets it for an authenticated API call
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy to every response and ``no-store`` to personal ones. Sits after the
    authentication middleware so ``request.user`` is known."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if _answers_someone_known(request) and "no-store" not in response.get("Cache-Control", ""):
            # add_never_cache_headers adds ``private`` and an Expires in the past for older caches as well; a view
            # that already said no-store (a secret shown once) is left as it is.
            add_never_cache_headers(response)
        return response
