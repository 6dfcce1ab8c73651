"""Writes of the in-app widget: opening the panel (a request session), identifying the host's user, recording what
the visitor saw and did, sending a request, and replying in one's own conversation.

The ticket itself is opened by the one write path every channel shares (tickets services), in the same transaction
as the funnel's "submitted" step, so a request is stored with its session or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db import transaction
from django.utils.translation import gettext as _

from deskloop.accounts.models import Workspace
from deskloop.channels.portal.services import submit_customer_request
from deskloop.channels.widget import queries
from deskloop.channels.widget.identity import WidgetPass, load_pass, new_visitor_id, verify_identity
from deskloop.core.errors import ValidationFailed
from deskloop.customers.models import Contact
from deskloop.customers.services import find_or_create_contact
from deskloop.knowledge.models import ARTICLE_LOCALES, Article, RequestChannel, RequestSession
from deskloop.knowledge.services import request_sessions
from deskloop.tickets.models import Channel, Message, Ticket
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message

SUBJECT_MAX = 200
BODY_MAX = 20_000
NAME_MAX = 200


def panel_locale(requested: str) -> str:
    code = (requested or "").strip().lower()[:2]
    return code if code in ARTICLE_LOCALES else "en"


def open_panel(*, workspace: Workspace, locale: str) -> WidgetPass:
    """A visitor opened the widget: a request session of the widget channel, and the pass the panel carries."""
    visitor = new_visitor_id()
    session = request_sessions.start_request_session(
        workspace=workspace, channel=RequestChannel.WIDGET, locale=locale, visitor_id=visitor
    )
    return WidgetPass(workspace_id=workspace.pk, session_key=str(session.key), locale=locale, visitor=visitor)


@dataclass(frozen=True)
class Visitor:
    """A request's caller: the pass it carried, its request session, and the contact once identified."""

    widget_pass: WidgetPass
    session: RequestSession | None
    contact: Contact | None


def visitor_from_pass(*, workspace: Workspace, value: str) -> Visitor:
    widget_pass = load_pass(value, workspace_id=workspace.pk)
    return Visitor(
        widget_pass=widget_pass,
        session=queries.request_session(workspace, widget_pass.session_key),
        contact=queries.contact_in_workspace(workspace, widget_pass.contact_id),
    )


def identify(*, workspace: Workspace, visitor: Visitor, claims: dict[str, object]) -> tuple[WidgetPass, Contact]:
    """The host application vouched for its user: the contact with that email (made if new), and a pass that
    carries it. A wrong or stale signature changes nothing."""
    host_identity = verify_identity(workspace_slug=workspace.slug, secret=queries.widget_secret(workspace), raw=claims)
    contact = find_or_create_contact(
        workspace=workspace,
        email=host_identity.email,
        name=host_identity.name[:NAME_MAX],
        locale=visitor.widget_pass.locale,
    )
    return replace(visitor.widget_pass, contact_id=contact.pk), contact


def record_search(*, visitor: Visitor, query: str, article_ids: list[int]) -> None:
    """A search in the Answers tab."""
    if visitor.session is not None and query.strip():
        request_sessions.record_search(session=visitor.session, query=query, article_ids=article_ids)


def record_article_opened(*, visitor: Visitor, article: Article) -> None:
    if visitor.session is not None:
        request_sessions.record_article_opened(session=visitor.session, article=article)


def record_solved(*, visitor: Visitor, article: Article | None) -> None:
    if visitor.session is not None:
        request_sessions.record_solved(session=visitor.session, article=article)


@dataclass(frozen=True)
class WidgetRequest:
    """What the Contact tab sends."""

    email: str
    name: str
    subject: str
    body: str


def submit_request(*, workspace: Workspace, visitor: Visitor, request: WidgetRequest) -> Ticket:
    """Open a ticket from the Contact tab, as the identified contact or as the address the visitor typed, through
    the one service the portal uses too (``submit_customer_request``: the ticket and the session's "submitted"
    step in one transaction). A refusal leaves nothing behind, not even a contact made for the typed address."""
    subject = " ".join(request.subject.split())
    if not subject:
        raise ValidationFailed(_("Tell us in a few words what it is about."), field="subject")
    with transaction.atomic():
        contact = visitor.contact or find_or_create_contact(
            workspace=workspace,
            email=request.email,
            name=request.name.strip()[:NAME_MAX],
            locale=visitor.widget_pass.locale,
        )
        return submit_customer_request(
            workspace=workspace,
            contact=contact,
            subject=subject,
            body=request.body,
            custom_fields={},
            attachments=[],
            channel=Channel.WIDGET,
            request_session=visitor.session,
        )


def reply(*, contact: Contact, ticket: Ticket, body: str) -> Message:
    """The contact answers in one of their own conversations (``ticket`` comes from ``queries.conversation_of``)."""
    text = body.strip()
    if not text:
        raise ValidationFailed(_("Write your reply first."), field="body")
    if len(text) > BODY_MAX:
        raise ValidationFailed(_("The message can be at most %(max)d characters.") % {"max": BODY_MAX}, field="body")
    return add_customer_message(
        ticket=ticket, contact=contact, message=CustomerMessage(body_text=text, channel=Channel.WIDGET), via="widget"
    )
