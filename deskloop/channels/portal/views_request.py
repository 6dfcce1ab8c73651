"""The portal's request form and the self-service funnel around it.

Opening the form starts a request session (channel portal). As the customer types, the suggestions fragment shows
the best three public articles and records each set shown (the holdout sees none, and that is recorded too);
opening one records it; "This solved my problem" records the session as solved; submitting records it as
submitted in the ticket's own transaction (``submit_customer_request``). Without JavaScript the form still works,
only without suggestions.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.channels.portal import queries, services
from deskloop.channels.portal.forms import HONEYPOT_FIELD, RequestForm
from deskloop.channels.portal.identity import ContactRequest, contact_view
from deskloop.channels.portal.suggestions import SHOWN, reading_locale
from deskloop.channels.portal.uploads import incoming_files
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.core.refusals import refusal
from deskloop.knowledge.models import RequestChannel, RequestSession
from deskloop.knowledge.services.request_sessions import (
    record_article_opened,
    record_solved,
    start_request_session,
    suggest_while_writing,
)
from deskloop.tickets.models import Channel

logger = logging.getLogger(__name__)

QUERY_MAX = 1000


def _session(request: ContactRequest, key: str) -> RequestSession | None:
    return queries.request_session_for_contact(request.contact, key)


@contact_view
@require_http_methods(["GET", "POST"])
def new_request(request: ContactRequest, slug: str) -> HttpResponse:
    workspace = request.portal_workspace
    form = RequestForm(request.POST or None, fields=queries.customer_fields(workspace))
    if request.method == "GET":
        session = start_request_session(
            workspace=workspace, channel=RequestChannel.PORTAL, locale=reading_locale(), contact=request.contact
        )
        form = RequestForm(initial={"session": str(session.key)}, fields=queries.customer_fields(workspace))
        return render(request, "portal/new_request.html", {"workspace": workspace, "form": form})
    wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="submit")
    if wait:
        return too_many_requests(wait, as_json=False)
    if request.POST.get(HONEYPOT_FIELD):
        # A robot filled the field people cannot see: nothing is stored, and it is told the same as a person.
        logger.warning("portal request refused by the honeypot (workspace %s, contact %s)", slug, request.contact.pk)
        return redirect("portal:request_received", slug=slug)
    if form.is_valid():
        with refusal(form):
            services.submit_customer_request(
                workspace=workspace,
                contact=request.contact,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                custom_fields=form.custom_values(),
                attachments=incoming_files(request),
                channel=Channel.WEB,
                request_session=_session(request, form.cleaned_data["session"]),
            )
            return redirect("portal:request_received", slug=slug)
    return render(request, "portal/new_request.html", {"workspace": workspace, "form": form}, status=422)


@contact_view
@require_GET
def request_received(request: ContactRequest, slug: str) -> HttpResponse:
    return render(request, "portal/request_received.html", {"workspace": request.portal_workspace})


@contact_view
@require_GET
def suggestions(request: ContactRequest, slug: str) -> HttpResponse:
    """The fragment the form shows under the description: up to three articles for what was typed so far."""
    workspace = request.portal_workspace
    wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="search")
    if wait:
        return too_many_requests(wait, as_json=False)
    query = " ".join(f"{request.GET.get('subject', '')} {request.GET.get('body', '')}".split())[:QUERY_MAX]
    session = _session(request, request.GET.get("session", ""))
    shown = (
        []
        if session is None
        else suggest_while_writing(
            session=session, workspace_id=workspace.pk, query=query, locale=reading_locale(), limit=SHOWN
        )
    )
    context = {"workspace": workspace, "suggestions": shown, "session": session}
    return render(request, "portal/_suggestions.html", context)


@contact_view
@require_GET
def article(request: ContactRequest, slug: str, article_id: int) -> HttpResponse:
    """A suggested article, read inside the portal so the customer can say it solved their problem."""
    translation_row = queries.public_article(request.portal_workspace, article_id, reading_locale())
    session = _session(request, request.GET.get("session", ""))
    if session is not None:
        record_article_opened(session=session, article=translation_row.article)
    context = {"workspace": request.portal_workspace, "article": translation_row, "session": session}
    return render(request, "portal/article.html", context)


@contact_view
@require_POST
def article_solved(request: ContactRequest, slug: str, article_id: int) -> HttpResponse:
    """ "This solved my problem": the session ends deflected (unless the customer writes anyway later)."""
    translation_row = queries.public_article(request.portal_workspace, article_id, reading_locale())
    session = _session(request, request.POST.get("session", ""))
    if session is not None:
        record_solved(session=session, article=translation_row.article)
    return render(request, "portal/solved_thanks.html", {"workspace": request.portal_workspace})
