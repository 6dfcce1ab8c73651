"""The widget's panel: the page inside the iframe, and the fragments its tabs load (answers, an article, live
suggestions, the request form, the identified visitor's conversations).

Every route is public: what a caller may see is decided by the widget pass it sends in the ``X-Deskloop-Widget``
header (identity.py), never by a cookie, so the POST routes are exempt from Django's cookie-based CSRF check (a
foreign page can neither read the pass nor set the header). Only the panel page may be framed, by any site.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import public_view
from deskloop.accounts.models import Workspace
from deskloop.channels.portal import queries as portal_queries
from deskloop.channels.portal.identity import ContactRequest, contact_view
from deskloop.channels.widget import confirmation, queries, services
from deskloop.channels.widget.answers import QUERY_MAX, SEARCH_RESULTS, SUGGESTIONS_SHOWN, Answer, find_answers
from deskloop.channels.widget.forms import ConfirmEmailForm, ReplyForm, RequestForm
from deskloop.channels.widget.identity import PASS_HEADER, Unauthenticated
from deskloop.channels.widget.slots import filled_tabs
from deskloop.core.errors import DomainError
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.core.refusals import refusal
from deskloop.core.security_headers import CONTENT_SECURITY_POLICY
from deskloop.knowledge.services.request_sessions import suggest_while_writing

logger = logging.getLogger(__name__)

# The project's policy, except that any site may frame the panel: it is made to sit inside customers' apps.
PANEL_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
IDENTIFY_BODY_MAX = 4096
CONVERSATIONS_SHOWN = 50


def _over_limit(request: HttpRequest, workspace: Workspace, bucket: str) -> HttpResponse | None:
    wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket=bucket)
    return too_many_requests(wait, as_json=False) if wait else None


def _problem(request: HttpRequest, error: DomainError) -> HttpResponse:
    """A refusal as a small fragment the panel shows where the answer would have gone."""
    return render(request, "widget/_problem.html", {"message": error.message}, status=error.http_status)


def _visitor(request: HttpRequest, workspace: Workspace, *, required: bool) -> services.Visitor | None:
    value = request.headers.get(PASS_HEADER, "")
    if not value and not required:
        return None
    return services.visitor_from_pass(workspace=workspace, value=value)


def with_visitor(
    request: HttpRequest,
    slug: str,
    *,
    required: bool,
    run: Callable[[Workspace, services.Visitor | None], HttpResponse],
) -> HttpResponse:
    """Resolve the workspace and the caller's pass, speak the panel's language, and show a refusal as a fragment."""
    workspace = queries.workspace_by_slug(slug)
    try:
        visitor = _visitor(request, workspace, required=required)
    except Unauthenticated as error:
        return _problem(request, error)
    locale = visitor.widget_pass.locale if visitor else services.panel_locale(request.GET.get("locale", ""))
    with translation.override(locale):
        try:
            return run(workspace, visitor)
        except DomainError as error:
            return _problem(request, error)


@public_view
@xframe_options_exempt
@require_GET
def panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The page the loader puts in its iframe: tabs, and a new request session with its pass."""
    workspace = queries.workspace_by_slug(slug)
    if limited := _over_limit(request, workspace, "search"):
        return limited
    locale = services.panel_locale(request.GET.get("locale", ""))
    widget_pass = services.open_panel(workspace=workspace, locale=locale)
    with translation.override(locale):
        response = render(
            request,
            "widget/panel.html",
            {
                "workspace": workspace,
                "widget_pass": widget_pass.dumps(),
                "locale": locale,
                "host_origin": _host_origin(request.GET.get("origin", "")),
                "form": RequestForm(),
                "extra_tabs": filled_tabs(),
            },
        )
    response["Content-Security-Policy"] = PANEL_CONTENT_SECURITY_POLICY
    return response


def _host_origin(value: str) -> str:
    """The embedding page's origin, which the panel's messages are addressed to; only a bare http(s) origin."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or parts.fragment:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def _answers(request: HttpRequest, slug: str, *, suggested: bool) -> HttpResponse:
    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        if limited := _over_limit(request, workspace, "search"):
            return limited
        # The Contact tab sends what is written so far in both of its fields.
        query = (request.GET.get("q") or f"{request.GET.get('subject', '')} {request.GET.get('body', '')}")[:QUERY_MAX]
        if not query.strip() and suggested:
            # Both fields were emptied: the suggestions go away, and nothing is recorded.
            return render(request, "widget/_suggestions.html", {"answers": []})
        locale = translation.get_language() or "en"
        if suggested:
            # The Contact tab: the holdout sees nothing while writing (knowledge's suggest_while_writing).
            session = visitor.session if visitor is not None else None
            shown = suggest_while_writing(
                session=session, workspace_id=workspace.pk, query=query, locale=locale, limit=SUGGESTIONS_SHOWN
            )
            found = [Answer(article_id=s.article_id, title=s.title) for s in shown]
        else:
            # A search the visitor runs themselves is answered for everyone.
            found = find_answers(workspace_id=workspace.pk, query=query, locale=locale, limit=SEARCH_RESULTS)
            if visitor is not None:
                services.record_search(visitor=visitor, query=query, article_ids=[a.article_id for a in found])
        template = "widget/_suggestions.html" if suggested else "widget/_answers.html"
        return render(request, template, {"answers": found, "query": query, "slug": slug})

    return with_visitor(request, slug, required=False, run=run)


@public_view
@require_GET
def answers(request: HttpRequest, slug: str) -> HttpResponse:
    """The Answers tab's search."""
    return _answers(request, slug, suggested=False)


@public_view
@require_GET
def suggestions(request: HttpRequest, slug: str) -> HttpResponse:
    """The best three articles for what the visitor is writing in the Contact tab."""
    return _answers(request, slug, suggested=True)


@public_view
@require_GET
def article(request: HttpRequest, slug: str, article_id: int) -> HttpResponse:
    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        translated = portal_queries.public_article(workspace, article_id, translation.get_language() or "en")
        if visitor is not None:
            services.record_article_opened(visitor=visitor, article=translated.article)
        return render(request, "widget/_article.html", {"translation": translated, "slug": slug})

    return with_visitor(request, slug, required=False, run=run)


@public_view
@csrf_exempt
@require_POST
def solved(request: HttpRequest, slug: str) -> HttpResponse:
    """ "This solved my problem", under an article."""

    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        assert visitor is not None
        raw_id = request.POST.get("article_id", "")
        found = (
            portal_queries.public_article(workspace, int(raw_id), "en").article
            if raw_id.isdigit() and len(raw_id) < 16
            else None
        )
        services.record_solved(visitor=visitor, article=found)
        return render(request, "widget/_solved.html", {})

    return with_visitor(request, slug, required=True, run=run)


@public_view
@csrf_exempt
@require_POST
def identify(request: HttpRequest, slug: str) -> HttpResponse:
    """The host's signed statement about its user, forwarded by the panel: a pass that names the contact."""
    workspace = queries.workspace_by_slug(slug)
    if limited := _over_limit(request, workspace, "search"):
        return limited
    if len(request.body) > IDENTIFY_BODY_MAX:
        return JsonResponse({"title": _("The identity is too large.")}, status=413)
    try:
        claims = json.loads(request.body or b"{}")
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        return JsonResponse({"title": _("The identity must be a JSON object.")}, status=400)
    try:
        visitor = services.visitor_from_pass(workspace=workspace, value=request.headers.get(PASS_HEADER, ""))
        widget_pass, contact = services.identify(workspace=workspace, visitor=visitor, claims=claims)
    except DomainError as error:
        return JsonResponse({"title": error.message, "code": error.code}, status=error.http_status)
    return JsonResponse({"pass": widget_pass.dumps(), "name": contact.display_name})


@public_view
@csrf_exempt
@require_POST
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    """The Contact tab's form: a ticket of the widget channel."""

    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        assert visitor is not None
        if limited := _over_limit(request, workspace, "submit"):
            return limited
        form = RequestForm(request.POST)
        if not form.is_valid():
            return render(
                request, "widget/_request_form.html", {"form": form, "visitor": visitor, "slug": slug}, status=422
            )
        if form.cleaned_data["website"]:
            # A bot filled the field people never see: it is told the same as a person and nothing is stored.
            logger.info("widget request refused by the honeypot (workspace %s)", workspace.slug)
            return render(request, "widget/_request_sent.html", {})
        try:
            services.submit_request(
                workspace=workspace,
                visitor=visitor,
                request=services.WidgetRequest(
                    email=form.cleaned_data["email"] or "",
                    name=form.cleaned_data["name"],
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                ),
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            return render(
                request,
                "widget/_request_form.html",
                {"form": form, "visitor": visitor, "slug": slug},
                status=error.http_status,
            )
        return render(request, "widget/_request_sent.html", {})

    return with_visitor(request, slug, required=True, run=run)


def _identified(visitor: services.Visitor | None) -> Any:
    if visitor is None or visitor.contact is None:
        raise Unauthenticated(_("Confirm your email to see your conversations."))
    return visitor.contact


@public_view
@require_GET
def conversations(request: HttpRequest, slug: str) -> HttpResponse:
    """My conversations: the identified visitor's own tickets."""

    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        if visitor is not None and visitor.contact is None:
            # Anonymous: nothing is shown until the visitor proves the address by the link mailed to it.
            context = {"form": ConfirmEmailForm(), "slug": slug}
            return render(request, "widget/_confirm_form.html", context, status=401)
        contact = _identified(visitor)
        return render(
            request,
            "widget/_conversations.html",
            {"tickets": portal_queries.tickets_for_contact(contact)[:CONVERSATIONS_SHOWN], "slug": slug},
        )

    return with_visitor(request, slug, required=True, run=run)


@public_view
@csrf_exempt
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """One of the visitor's conversations, public replies only; POST answers in it."""

    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        contact = _identified(visitor)
        ticket = portal_queries.get_ticket_for_contact(contact, number)
        form = ReplyForm(request.POST) if request.method == "POST" else ReplyForm()
        status = 200
        if request.method == "POST":
            if form.is_valid():
                services.reply(contact=contact, ticket=ticket, body=form.cleaned_data["body"])
                form = ReplyForm()
            else:
                status = 422
        context = {
            "ticket": ticket,
            "messages": portal_queries.public_messages(ticket),
            "form": form,
            "slug": slug,
            "back_url": reverse("widget:conversations", args=[slug]),
        }
        return render(request, "widget/_conversation.html", context, status=status)

    return with_visitor(request, slug, required=True, run=run)


@public_view
@csrf_exempt
@require_POST
def request_confirmation(request: HttpRequest, slug: str) -> HttpResponse:
    """An anonymous visitor asks to see their conversations: the magic link goes to the address they typed."""

    def run(workspace: Workspace, visitor: services.Visitor | None) -> HttpResponse:
        assert visitor is not None
        if limited := _over_limit(request, workspace, "signin_link"):
            return limited
        form = ConfirmEmailForm(request.POST)
        if not form.is_valid():
            return render(request, "widget/_confirm_form.html", {"form": form, "slug": slug}, status=422)
        secret, code = confirmation.request_confirmation(
            workspace=workspace, visitor=visitor, email=form.cleaned_data["email"]
        )
        context = {"secret": secret, "code": code, "email": form.cleaned_data["email"], "slug": slug}
        return render(request, "widget/_confirmation_sent.html", context)

    return with_visitor(request, slug, required=True, run=run)


@public_view
@csrf_exempt
@require_POST
def claim_confirmation(request: HttpRequest, slug: str) -> HttpResponse:
    """The panel's poll while the visitor confirms in their mail: 202 while waiting, then the pass (once)."""
    workspace = queries.workspace_by_slug(slug)
    if limited := _over_limit(request, workspace, "search"):
        return limited
    try:
        visitor = services.visitor_from_pass(workspace=workspace, value=request.headers.get(PASS_HEADER, ""))
        widget_pass = confirmation.claim(workspace=workspace, visitor=visitor, secret=request.POST.get("secret", ""))
    except DomainError as error:
        return JsonResponse({"title": error.message, "code": error.code}, status=error.http_status)
    if widget_pass is None:
        return JsonResponse({"pending": True}, status=202)
    return JsonResponse({"pass": widget_pass.dumps()})


@contact_view
@require_http_methods(["GET", "POST"])
def confirm_email(request: ContactRequest, slug: str, confirmation_id: uuid.UUID) -> HttpResponse:
    """Where the magic link leads, signed in as the contact: "show your conversations in the panel with this
    code?". Only a deliberate POST (with the portal's CSRF token) confirms."""
    workspace = request.portal_workspace
    with refusal(None) as refused:
        pending = confirmation.pending_confirmation(
            workspace=workspace, contact=request.contact, public_id=confirmation_id
        )
        if request.method == "POST":
            confirmation.confirm(workspace=workspace, contact=request.contact, public_id=confirmation_id)
            return render(request, "widget/confirmed.html", {"workspace": workspace, "done": True})
        return render(request, "widget/confirmed.html", {"workspace": workspace, "code": pending.code})
    context = {"workspace": workspace, "error": refused.message}
    return render(request, "widget/confirmed.html", context, status=refused.status)
