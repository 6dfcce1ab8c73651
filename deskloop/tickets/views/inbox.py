"""Placeholder replaced by the inbox work."""

from django.http import HttpRequest, HttpResponse

from deskloop.accounts.access import agent_view


@agent_view()
def inbox(request: HttpRequest) -> HttpResponse:
    return HttpResponse("inbox")
