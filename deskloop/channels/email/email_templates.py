"""Wording of automatic emails: per-workspace templates (``EmailTemplate``) over built-in defaults.

The defaults are Django templates shipped in templates/email_channel/mail/ (``<kind>.subject.txt``,
``<kind>.txt``, ``<kind>.html``); a workspace without its own row for a kind uses them, translated into the
recipient's language. An admin's template is Django template text too, but it is rendered by the one sandbox
for templates people write (``core.template_sandbox``: allowed tags and filters only, ``i18n`` always on, bounded
output and loops), with a context of plain strings (never model instances, whose methods a template could call).
The HTML body is sanitized after rendering, and the subject is made one safe header line by
``outbound_mime.header_text``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from deskloop.accounts.access import require_admin
from deskloop.accounts.models import Agent
from deskloop.core.errors import ValidationFailed
from deskloop.core.html import sanitize_html
from deskloop.core.template_sandbox import TemplateRefused, render_template

from .models import EmailTemplate, OutboundKind
from .outbound_mime import SUBJECT_MAX, header_text

log = logging.getLogger(__name__)

# The kinds a workspace can edit. The agent reply's layout (reply, marker, quoted history) is fixed.
EDITABLE_KINDS: tuple[str, ...] = (
    OutboundKind.ACKNOWLEDGEMENT,
    OutboundKind.ASSIGNMENT,
    OutboundKind.CUSTOMER_REPLY,
    OutboundKind.MENTION,
    OutboundKind.IDEA_SHIPPED,
    OutboundKind.IDEA_SHIPPED_AGENT,
)
# Emails about an idea, not a ticket: their templates get ``idea_email_context``.
IDEA_KINDS: tuple[str, ...] = (OutboundKind.IDEA_SHIPPED, OutboundKind.IDEA_SHIPPED_AGENT)
DEFAULTS_DIR = Path(__file__).resolve().parent / "templates" / "email_channel" / "mail"
BODY_MAX = 50_000

NOT_EDITABLE = gettext_lazy("This kind of email has no editable template.")


@dataclass(frozen=True)
class TemplateSource:
    kind: str
    subject: str
    body_text: str
    body_html: str
    is_active: bool
    include_agent_created: bool
    is_default: bool


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str  # sanitized


def _check_kind(kind: str) -> None:
    if kind not in EDITABLE_KINDS:
        raise ValidationFailed(str(NOT_EDITABLE), field="kind")


def default_source(kind: str) -> TemplateSource:
    _check_kind(kind)
    return TemplateSource(
        kind=kind,
        subject=(DEFAULTS_DIR / f"{kind}.subject.txt").read_text(encoding="utf-8").strip(),
        body_text=(DEFAULTS_DIR / f"{kind}.txt").read_text(encoding="utf-8"),
        body_html=(DEFAULTS_DIR / f"{kind}.html").read_text(encoding="utf-8"),
        is_active=True,
        include_agent_created=False,
        is_default=True,
    )


def template_source(workspace_id: int, kind: str) -> TemplateSource:
    """The workspace's template for ``kind``, or the default."""
    row = EmailTemplate.objects.filter(workspace_id=workspace_id, kind=kind).first()
    if row is None:
        return default_source(kind)
    return TemplateSource(
        kind=kind,
        subject=row.subject,
        body_text=row.body_text,
        body_html=row.body_html,
        is_active=row.is_active,
        include_agent_created=row.include_agent_created,
        is_default=False,
    )


# The built-in wording (and so templates saved from it) starts with this line. The sandbox refuses ``load``, and
# its i18n tags are always available, so the line is dropped rather than refused.
_LOAD_I18N = re.compile(r"\{%\s*load\s+i18n\s*%\}\n?")


def _sandboxed(value: str, context: dict[str, Any], *, autoescape: bool) -> str:
    return render_template(_LOAD_I18N.sub("", value), context, autoescape=autoescape)


def _render(source: TemplateSource, context: dict[str, Any]) -> RenderedEmail:
    subject = _sandboxed(source.subject, context, autoescape=False)
    body_text = _sandboxed(source.body_text, context, autoescape=False)
    body_html = ""
    if source.body_html.strip():
        body_html = _sandboxed(source.body_html, context, autoescape=True)
    return RenderedEmail(
        subject=header_text(subject, max_length=SUBJECT_MAX),
        body_text=body_text.strip() + "\n",
        # The workspace's own images (a logo) may load; everything else nh3 allows stays, nothing executes.
        body_html=sanitize_html(body_html, block_remote_images=False),
    )


def render(source: TemplateSource, context: dict[str, Any], *, language: str) -> RenderedEmail:
    """Render in ``language``. A workspace template that fails at render time (it passed the save-time check,
    so this means a bug) falls back to the default wording rather than losing the email."""
    with translation.override(language or None):
        try:
            return _render(source, context)
        except Exception:
            if source.is_default:
                raise
            log.exception("email template %s of a workspace failed to render; using the default", source.kind)
            return _render(default_source(source.kind), context)


def sample_context(kind: str, *, workspace_name: str, prefix: str) -> dict[str, Any]:
    """What the preview renders with: the same keys a real email has, with made-up values."""
    if kind in IDEA_KINDS:
        return idea_email_context(
            idea={
                "title": _("Export invoices as CSV"),
                "status": _("Shipped"),
                "shipped_note": _("Reports > Export now offers CSV next to PDF."),
                "url": "https://support.example/ideas/42/",
                "board_url": "https://support.example/board/acme/",
                "votes": 12,
                "organizations": 7,
            },
            recipient={"name": "Carmen Customer", "email": "carmen@example.com"},
            workspace_name=workspace_name,
        )
    return email_context(
        ticket={
            "number": 1042,
            "subject": _("The invoice shows the wrong VAT number"),
            "url": "https://support.example/tickets/1042/",
            "token": f"[{prefix} #1042]",
            "status": _("Open"),
            "priority": _("Normal"),
        },
        requester={"name": "Carmen Customer", "email": "carmen@example.com"},
        recipient={"name": "Maria Agent", "email": "maria@example.com"},
        actor={"name": "Adam Admin"},
        message_text=_("Hello, our invoice for March shows our old VAT number. Can you fix it?"),
        message_html=SafeString(
            "<p>" + _("Hello, our invoice for March shows our old VAT number. Can you fix it?") + "</p>"
        ),
        workspace_name=workspace_name,
    )


def email_context(
    *,
    ticket: dict[str, Any],
    requester: dict[str, str],
    recipient: dict[str, str],
    actor: dict[str, str],
    message_text: str,
    message_html: SafeString,
    workspace_name: str,
) -> dict[str, Any]:
    """The restricted context every template gets. Only strings and numbers; ``message.html`` is sanitized
    HTML (it comes from a stored message, which holds only sanitize_html output)."""
    return {
        "ticket": ticket,
        "requester": requester,
        "recipient": recipient,
        "actor": actor,
        "message": {"text": message_text, "html": message_html},
        "workspace": {"name": workspace_name},
    }


def idea_email_context(*, idea: dict[str, Any], recipient: dict[str, str], workspace_name: str) -> dict[str, Any]:
    """The restricted context of emails about an idea (plain strings and numbers, like ``email_context``)."""
    return {"idea": idea, "recipient": recipient, "workspace": {"name": workspace_name}}


IDEA_CONTEXT_HELP = (
    "idea.title",
    "idea.status",
    "idea.shipped_note",
    "idea.url",
    "idea.board_url",
    "idea.votes",
    "idea.organizations",
    "recipient.name",
    "workspace.name",
)


def context_help(kind: str) -> tuple[str, ...]:
    """The variables a template of ``kind`` may use (shown beside the editor)."""
    return IDEA_CONTEXT_HELP if kind in IDEA_KINDS else CONTEXT_HELP


CONTEXT_HELP = (
    "ticket.number",
    "ticket.subject",
    "ticket.url",
    "ticket.token",
    "ticket.status",
    "ticket.priority",
    "requester.name",
    "requester.email",
    "recipient.name",
    "actor.name",
    "message.text",
    "message.html",
    "workspace.name",
)


# ---------------------------------------------------------------------------------------------------- writes


TEMPLATES_ADMINS_ONLY = gettext_noop("Only admins can edit email templates.")


def check_source(source: TemplateSource, *, workspace_name: str, prefix: str) -> RenderedEmail:
    """Compile and render ``source`` with the sample context; a template error becomes a ValidationFailed on
    the field it is in. Returns the preview."""
    if not source.subject.strip():
        raise ValidationFailed(_("The subject cannot be empty."), field="subject")
    if not source.body_text.strip():
        raise ValidationFailed(_("The text body cannot be empty."), field="body_text")
    for name, value, limit in (
        ("subject", source.subject, 500),
        ("body_text", source.body_text, BODY_MAX),
        ("body_html", source.body_html, BODY_MAX),
    ):
        if len(value) > limit:
            raise ValidationFailed(_("This is too long (at most %(max)d characters).") % {"max": limit}, field=name)
    context = sample_context(source.kind, workspace_name=workspace_name, prefix=prefix)
    for name, value, autoescape in (
        ("subject", source.subject, False),
        ("body_text", source.body_text, False),
        ("body_html", source.body_html, True),
    ):
        try:
            _sandboxed(value, context, autoescape=autoescape)
        except TemplateRefused as exc:
            raise ValidationFailed(exc.message, field=name, code=exc.code) from exc
    return _render(source, context)


def save_email_template(
    *,
    actor: Agent,
    kind: str,
    subject: str,
    body_text: str,
    body_html: str,
    is_active: bool = True,
    include_agent_created: bool = False,
) -> EmailTemplate:
    """Store the workspace's wording for ``kind`` after checking that it renders."""
    require_admin(actor, TEMPLATES_ADMINS_ONLY)
    _check_kind(kind)
    source = TemplateSource(
        kind=kind,
        subject=subject.strip(),
        body_text=body_text,
        body_html=body_html,
        is_active=is_active,
        include_agent_created=include_agent_created and kind == OutboundKind.ACKNOWLEDGEMENT,
        is_default=False,
    )
    workspace = actor.workspace
    check_source(source, workspace_name=workspace.name, prefix=workspace.ticket_prefix)
    with transaction.atomic():
        template, _created = EmailTemplate.objects.update_or_create(
            workspace_id=actor.workspace_id,
            kind=kind,
            defaults={
                "subject": source.subject,
                "body_text": source.body_text,
                "body_html": source.body_html,
                "is_active": source.is_active,
                "include_agent_created": source.include_agent_created,
                "updated_at": timezone.now(),
            },
        )
    return template


def reset_email_template(*, actor: Agent, kind: str) -> None:
    """Go back to the built-in wording (and switches) for ``kind``."""
    require_admin(actor, TEMPLATES_ADMINS_ONLY)
    _check_kind(kind)
    EmailTemplate.objects.filter(workspace_id=actor.workspace_id, kind=kind).delete()
