"""The customer portal's pages: magic-link sign-in, the contact's requests, a request's public conversation with
reply, files and "mark as solved". The request form and its suggestions are in ``views_request``."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import public_view
from deskloop.channels.portal import queries, services
from deskloop.channels.portal.forms import ReplyForm, SignInForm
from deskloop.channels.portal.identity import ContactRequest, contact_view, sign_in_contact, sign_out_contact
from deskloop.channels.portal.uploads import incoming_files
from deskloop.core.public_limits import seconds_over_limit, too_many_requests
from deskloop.core.refusals import refusal
from deskloop.tickets.models import StatusCategory
from deskloop.tickets.views.ticket_attachments import download_headers

PAGE_SIZE = 25


def home_url(slug: str) -> str:
    return reverse("portal:home", kwargs={"slug": slug})


@public_view
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a sign-in link. The answer is the same whether or not the address is a contact's."""
    workspace = queries.portal_workspace(slug)
    form = SignInForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST":
        # Counted before the form is read: a robot's malformed posts cost it the same as good ones.
        wait = seconds_over_limit(request, workspace_id=workspace.pk, bucket="signin_link")
        if wait:
            return too_many_requests(wait, as_json=False)
        if form.is_valid():
            with refusal(form):
                services.issue_sign_in_link(
                    workspace=workspace,
                    email=form.cleaned_data["email"],
                    language=translation.get_language() or "en",
                    next_path=form.cleaned_data["next"],
                )
                return render(request, "portal/signin_sent.html", {"workspace": workspace})
    status = 400 if form.errors else 200
    return render(request, "portal/signin.html", {"workspace": workspace, "form": form}, status=status)


@public_view
@require_http_methods(["GET", "POST"])
def sign_in_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The link from the mail. GET only shows a button: mail scanners that open every link must not use it up."""
    workspace = queries.portal_workspace(slug)
    if request.method == "GET":
        return render(request, "portal/signin_confirm.html", {"workspace": workspace})
    with refusal(None) as refused:
        signed_in = services.consume_sign_in_link(workspace=workspace, token=token)
        sign_in_contact(request, signed_in.contact)
        return redirect(services.safe_next_path(signed_in.next_path) or home_url(slug))
    context = {"workspace": workspace, "error": refused.message}
    return render(request, "portal/signin_invalid.html", context, status=refused.status)


@contact_view
@require_POST
def sign_out(request: ContactRequest, slug: str) -> HttpResponse:
    sign_out_contact(request, request.portal_workspace)
    return redirect("portal:signin", slug=slug)


@contact_view
@require_GET
def home(request: ContactRequest, slug: str) -> HttpResponse:
    """The contact's requests (and their organization's, when it shares them)."""
    page = Paginator(queries.tickets_for_contact(request.contact), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"workspace": request.portal_workspace, "contact": request.contact, "page": page}
    return render(request, "portal/home.html", context)


def _ticket_page(request: ContactRequest, number: int, form: ReplyForm, status: int = 200) -> HttpResponse:
    ticket = queries.get_ticket_for_contact(request.contact, number)
    context = {
        "workspace": request.portal_workspace,
        "contact": request.contact,
        "ticket": ticket,
        "conversation": queries.public_messages(ticket),
        "form": form,
        "may_solve": ticket.status.category not in (StatusCategory.SOLVED, StatusCategory.CLOSED),
    }
    return render(request, "portal/ticket.html", context, status=status)


@contact_view
@require_GET
def ticket(request: ContactRequest, slug: str, number: int) -> HttpResponse:
    return _ticket_page(request, number, ReplyForm())


@contact_view
@require_POST
def reply(request: ContactRequest, slug: str, number: int) -> HttpResponse:
    found = queries.get_ticket_for_contact(request.contact, number)
    wait = seconds_over_limit(request, workspace_id=request.portal_workspace.pk, bucket="submit")
    if wait:
        return too_many_requests(wait, as_json=False)
    form = ReplyForm(request.POST)
    if form.is_valid():
        with refusal(form):
            services.reply_as_contact(
                ticket=found,
                contact=request.contact,
                body=form.cleaned_data["body"],
                attachments=incoming_files(request),
            )
            return redirect("portal:ticket", slug=slug, number=number)
    return _ticket_page(request, number, form, status=422)


@contact_view
@require_POST
def solve(request: ContactRequest, slug: str, number: int) -> HttpResponse:
    found = queries.get_ticket_for_contact(request.contact, number)
    form = ReplyForm()
    with refusal(form):
        services.solve_as_contact(ticket=found, contact=request.contact)
        return redirect("portal:ticket", slug=slug, number=number)
    return _ticket_page(request, number, form, status=422)


@contact_view
@require_GET
def attachment(request: ContactRequest, slug: str, attachment_id: int) -> FileResponse:
    """A file of a public message the contact may see; served as a download, like the agents' downloads."""
    found = queries.get_attachment_for_contact(request.contact, attachment_id)
    response = FileResponse(default_storage.open(found.blob.storage_name, "rb"))
    for name, value in download_headers(found).items():
        response[name] = value
    return response
