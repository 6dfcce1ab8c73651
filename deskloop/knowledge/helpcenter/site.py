"""Which help center a request is for, and the URLs of its pages.

A help center answers at /help/<workspace-slug>/ and, when the workspace set a host name that the operator lets this
installation serve (``DESKLOOP_HELP_CENTER_HOSTS``, which also extends ALLOWED_HOSTS), at / of that host: the
``HelpCenterHostMiddleware`` then switches the request to ``urls_host``, which has the same URL names without the
slug. Views reverse "helpcenter:<name>" through ``HelpSite`` and get the right form either way; canonical URLs,
hreflang links and the sitemap use the own host name whenever it is served.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse

from deskloop.accounts.models import Workspace
from deskloop.knowledge.helpcenter import queries
from deskloop.knowledge.models import HelpCenter

HOST_URLCONF = "deskloop.knowledge.helpcenter.urls_host"
# Set by the middleware on a request that arrived on a help center's own host name.
REQUEST_ATTRIBUTE = "help_center_on_host"


def served_hosts() -> frozenset[str]:
    return frozenset(h.strip().lower() for h in settings.DESKLOOP_HELP_CENTER_HOSTS if h.strip())


def own_host(help_center: HelpCenter | None) -> str:
    """The help center's own host name when this installation serves it, else ""."""
    if help_center is None or not help_center.host_name:
        return ""
    host = help_center.host_name.strip().lower()
    return host if host in served_hosts() else ""


class HelpSite:
    def __init__(self, workspace: Workspace, *, on_own_host: bool, help_center: HelpCenter | None = None) -> None:
        self.workspace = workspace
        # True when the request came in on the help center's own host name (URLs have no /help/<slug>/ prefix).
        self.on_own_host = on_own_host
        if help_center is not None:
            self.help_center = help_center

    @cached_property
    def help_center(self) -> HelpCenter | None:
        # Read only when a page is built (canonical URLs): a page served from the cache does not need it.
        return queries.help_center_of(self.workspace.pk)

    def url(self, name: str, **kwargs: Any) -> str:
        if not self.on_own_host:
            kwargs = {"workspace_slug": self.workspace.slug, **kwargs}
        return reverse(f"helpcenter:{name}", kwargs=kwargs)

    def absolute_url(self, request: HttpRequest, name: str, **kwargs: Any) -> str:
        """For canonical and hreflang links and the sitemap: on the own host name when there is one."""
        host = own_host(self.help_center)
        if host:
            scheme = "https" if settings.DESKLOOP_HTTPS else request.scheme
            return f"{scheme}://{host}{reverse(f'helpcenter:{name}', kwargs=kwargs, urlconf=HOST_URLCONF)}"
        path = reverse(
            f"helpcenter:{name}",
            kwargs={"workspace_slug": self.workspace.slug, **kwargs},
            urlconf=settings.ROOT_URLCONF,
        )
        return request.build_absolute_uri(path)


def resolve_site(request: HttpRequest, workspace_slug: str | None) -> HelpSite:
    """The help center of the URL's workspace slug or of the request's host; 404 for an unknown one."""
    if workspace_slug is None:
        on_host: HelpCenter | None = getattr(request, REQUEST_ATTRIBUTE, None)
        if on_host is None:
            raise Http404
        return HelpSite(on_host.workspace, help_center=on_host, on_own_host=True)
    workspace = queries.workspace_by_slug(workspace_slug)
    if workspace is None:
        raise Http404
    return HelpSite(workspace, on_own_host=False)
