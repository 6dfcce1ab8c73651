"""Serving a help center on its own host name ("help.example.com").

Only host names the operator lists in ``DESKLOOP_HELP_CENTER_HOSTS`` are looked up: settings add them to
ALLOWED_HOSTS, so Django's host validation still refuses every other Host header (no wildcard), and a request to the
main site costs no query. A listed host that is some workspace's ``HelpCenter.host_name`` is answered by the help
center's URLs at /; a listed host no help center claims (yet) is answered 404.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

from deskloop.knowledge.helpcenter import queries
from deskloop.knowledge.helpcenter.site import HOST_URLCONF, REQUEST_ATTRIBUTE, served_hosts


class HelpCenterHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        hosts = served_hosts()
        if hosts:
            # get_host() validates against ALLOWED_HOSTS first (DisallowedHost -> 400), so a forged Host is refused
            # before it is compared with anything.
            domain, _port = split_domain_port(request.get_host())
            if domain in hosts:
                help_center = queries.help_center_on_host(domain)
                setattr(request, REQUEST_ATTRIBUTE, help_center)
                request.urlconf = HOST_URLCONF  # type: ignore[attr-defined]  # read by Django's handler
        return self.get_response(request)
