"""Mailbox settings and the quarantine (admins), and the raw-MIME HTTP endpoint mail services post to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskloop.accounts.access import AgentRequest, agent_view, public_view
from deskloop.accounts.models import ADMIN_ROLES
from deskloop.core.htmx import is_htmx
from deskloop.core.refusals import refusal
from deskloop.tickets.views.ticket_attachments import content_disposition

from . import imap, pipeline, queries, services
from .forms import ImapConnectionForm, MailboxForm
from .models import InboundState, Mailbox

PAGE_SIZE = 50
# Field names raw MIME arrives in from mail services' inbound webhooks (Mailgun "mime" posts use body-mime).
MULTIPART_FIELDS = ("message", "body-mime", "mime")


def _settings_from(form: MailboxForm) -> services.MailboxSettings:
    data = form.cleaned_data
    secret: str | None = data["imap_secret"] or None
    if data["clear_imap_secret"]:
        secret = ""
    return services.MailboxSettings(
        address=data["address"],
        display_name=data["display_name"],
        default_team=data["default_team"],
        default_product_area=data["default_product_area"],
        unknown_sender_rule=data["unknown_sender_rule"],
        subject_threading_days=data["subject_threading_days"],
        trusted_authserv_id=data["trusted_authserv_id"],
        tag_bounce_address=data["tag_bounce_address"],
        max_message_bytes=data["max_message_bytes"],
        is_active=data["is_active"],
        trust_spam_headers=data["trust_spam_headers"],
        imap_host=data["imap_host"],
        imap_port=data["imap_port"],
        imap_security=data["imap_security"],
        imap_username=data["imap_username"],
        imap_secret=secret,
        imap_auth=data["imap_auth"],
        imap_folder=data["imap_folder"],
    )


def _initial(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "address": mailbox.address,
        "display_name": mailbox.display_name,
        "default_team": mailbox.default_team_id,
        "default_product_area": mailbox.default_product_area_id,
        "unknown_sender_rule": mailbox.unknown_sender_rule,
        "subject_threading_days": mailbox.subject_threading_days,
        "trusted_authserv_id": mailbox.trusted_authserv_id,
        "tag_bounce_address": mailbox.tag_bounce_address,
        "max_message_bytes": mailbox.max_message_bytes,
        "is_active": mailbox.is_active,
        "trust_spam_headers": mailbox.trust_spam_headers,
        "imap_host": mailbox.imap_host,
        "imap_port": mailbox.imap_port,
        "imap_security": mailbox.imap_security,
        "imap_username": mailbox.imap_username,
        "imap_auth": mailbox.imap_auth,
        "imap_folder": mailbox.imap_folder,
    }


@agent_view(roles=ADMIN_ROLES, description="List the workspace's mailboxes")
@require_GET
def mailbox_list(request: AgentRequest) -> HttpResponse:
    return render(request, "email_channel/mailbox_list.html", {"mailboxes": queries.mailboxes_for_agent(request.agent)})


@agent_view(roles=ADMIN_ROLES, description="Create a mailbox")
@require_http_methods(["GET", "POST"])
def mailbox_create(request: AgentRequest) -> HttpResponse:
    form = MailboxForm(
        request.POST or None,
        workspace_id=request.agent.workspace_id,
        initial={"is_active": True, "imap_port": 993, "imap_folder": "INBOX", "max_message_bytes": 40 * 1024 * 1024},
    )
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            mailbox = services.create_mailbox(actor=request.agent, values=_settings_from(form))
            messages.success(request, _("Mailbox created."))
            return redirect("email_channel:mailbox", mailbox_id=mailbox.pk)
    return render(request, "email_channel/mailbox_form.html", {"form": form}, status=400 if form.errors else 200)


@agent_view(roles=ADMIN_ROLES, description="Edit a mailbox of the workspace")
@require_http_methods(["GET", "POST"])
def mailbox_detail(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    mailbox = queries.get_mailbox_for_agent(request.agent, mailbox_id)
    form = MailboxForm(request.POST or None, workspace_id=request.agent.workspace_id, initial=_initial(mailbox))
    if request.method == "POST" and form.is_valid():
        with refusal(form):
            services.update_mailbox(actor=request.agent, mailbox=mailbox, values=_settings_from(form))
            messages.success(request, _("Mailbox saved."))
            return redirect("email_channel:mailbox", mailbox_id=mailbox.pk)
    return render(
        request,
        "email_channel/mailbox_form.html",
        {"form": form, "mailbox": mailbox},
        status=400 if form.errors else 200,
    )


def _imap_settings_from(form: ImapConnectionForm) -> tuple[imap.ImapSettings, bool]:
    """The entered IMAP settings, and whether the stored secret stands in for an empty password field."""
    data = form.cleaned_data
    settings = imap.ImapSettings(
        host=data["imap_host"].strip(),
        port=data["imap_port"],
        security=data["imap_security"],
        username=data["imap_username"].strip(),
        secret=data["imap_secret"],
        auth=data["imap_auth"],
        folder=data["imap_folder"].strip() or "INBOX",
    )
    return settings, not data["imap_secret"] and not data["clear_imap_secret"]


@agent_view(
    roles=ADMIN_ROLES, description="Test the IMAP settings entered on a mailbox form (signs in, changes nothing)"
)
@require_POST
def mailbox_imap_test(request: AgentRequest, mailbox_id: int | None = None) -> HttpResponse:
    mailbox = queries.get_mailbox_for_agent(request.agent, mailbox_id) if mailbox_id is not None else None
    entered = ImapConnectionForm(request.POST)
    if entered.is_valid():
        settings, use_stored_secret = _imap_settings_from(entered)
        check = imap.check_connection(
            actor=request.agent, mailbox=mailbox, settings=settings, use_stored_secret=use_stored_secret
        )
    else:
        problems = "; ".join(
            f"{entered.fields[name].label}: {' '.join(str(e) for e in errors)}"
            for name, errors in entered.errors.items()
        )
        check = imap.ConnectionCheck(ok=False, message=_("Correct the IMAP settings first (%s).") % problems)
    if is_htmx(request):
        return render(request, "email_channel/_imap_check.html", {"imap_check": check})
    # Without JavaScript: the whole form again, as entered (the password is never rendered back), with the result.
    form = MailboxForm(request.POST, workspace_id=request.agent.workspace_id)
    form.is_valid()
    return render(request, "email_channel/mailbox_form.html", {"form": form, "mailbox": mailbox, "imap_check": check})


@agent_view(roles=ADMIN_ROLES, description="Generate a new HTTP inbound secret for a mailbox, shown once")
@require_POST
def mailbox_inbound_secret(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    mailbox = queries.get_mailbox_for_agent(request.agent, mailbox_id)
    secret = services.regenerate_inbound_secret(actor=request.agent, mailbox=mailbox)
    endpoint = request.build_absolute_uri(f"/inbound/email/{mailbox.pk}/")
    response = render(
        request, "email_channel/mailbox_secret.html", {"mailbox": mailbox, "secret": secret, "endpoint": endpoint}
    )
    # The clear secret is on this page only; no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@agent_view(roles=ADMIN_ROLES, description="Quarantined and refused inbound emails")
@require_GET
def quarantine_list(request: AgentRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    reason = request.GET.get("reason", "")[:40]
    found = queries.quarantine_for_agent(request.agent, state=state, reason=reason)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "email_channel/quarantine_list.html", {"page": page, "state": state, "reason": reason})


@agent_view(roles=ADMIN_ROLES, description="One inbound email with its raw headers and error")
@require_GET
def inbound_detail(request: AgentRequest, inbound_id: int) -> HttpResponse:
    inbound = queries.get_inbound_for_agent(request.agent, inbound_id)
    return render(
        request,
        "email_channel/inbound_detail.html",
        {
            "inbound": inbound,
            "raw_headers": queries.raw_headers(inbound),
            "can_retry": inbound.state == InboundState.QUARANTINED,
        },
    )


@agent_view(roles=ADMIN_ROLES, description="Download an inbound email's raw bytes as .eml")
@require_GET
def inbound_raw(request: AgentRequest, inbound_id: int) -> HttpResponse:
    inbound = queries.get_inbound_for_agent(request.agent, inbound_id)
    response = HttpResponse(queries.raw_bytes(inbound), content_type="message/rfc822")
    response["Content-Disposition"] = content_disposition(f"email-{inbound.pk}.eml")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@agent_view(roles=ADMIN_ROLES, description="Process a quarantined inbound email again")
@require_POST
def inbound_retry(request: AgentRequest, inbound_id: int) -> HttpResponse:
    inbound = queries.get_inbound_for_agent(request.agent, inbound_id)
    with refusal() as refused:
        result = services.retry_inbound_email(actor=request.agent, inbound=inbound)
        if result.state == InboundState.QUARANTINED:
            messages.error(request, _("The email still cannot be processed; the error is below."))
        elif result.ticket_number is not None and result.state == InboundState.PROCESSED:
            messages.success(request, _("Processed: ticket #%(number)s.") % {"number": result.ticket_number})
        else:
            messages.success(request, _("Processed."))
        return redirect("email_channel:inbound", inbound_id=inbound.pk)
    return refused.redirect(request, "email_channel:inbound", inbound_id=inbound.pk)


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _read_raw(request: HttpRequest, limit: int) -> bytes | None:
    """The posted message: the body itself, or a multipart field. None when it is over ``limit``."""
    content_type = request.content_type or ""
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        for name in MULTIPART_FIELDS:
            upload = request.FILES.get(name)
            if upload is not None:
                if upload.size is not None and upload.size > limit:
                    return None
                content: bytes = upload.read(limit + 1)
                return content
        for name in MULTIPART_FIELDS:
            value = request.POST.get(name)
            if value is not None:
                return value.encode("utf-8", errors="surrogateescape")
        return b""
    # Read the stream, not request.body: that would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
    return request.read(limit + 1)


@public_view
@csrf_exempt
@require_POST
def inbound_http(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    """Raw RFC 822 posted by a mail service. The per-mailbox secret decides the tenant; 202 once stored."""
    mailbox = queries.mailbox_for_inbound_secret(mailbox_id, _bearer(request))
    if mailbox is None:
        return JsonResponse({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > mailbox.max_message_bytes * 2:
        # Refused before reading: the sender keeps the message and reports the failure, so nothing is lost.
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        raw = _read_raw(request, mailbox.max_message_bytes)
    except RequestDataTooBig:
        return JsonResponse({"error": "too_large"}, status=413)
    if raw is None or len(raw) > mailbox.max_message_bytes:
        return JsonResponse({"error": "too_large"}, status=413)
    if not raw.strip():
        return JsonResponse({"error": "empty"}, status=400)
    result = pipeline.ingest_raw(mailbox=mailbox, raw=raw, via="http")
    return JsonResponse(
        {
            "id": result.inbound_id,
            "state": result.state,
            "ticket_number": result.ticket_number,
            "duplicate": result.duplicate,
        },
        status=202,
    )
