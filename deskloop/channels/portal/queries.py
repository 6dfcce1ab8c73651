"""What a signed-in contact may read in the portal: their own tickets and, when their organization shares them,
the organization's; of each ticket only the public messages (replies), never internal notes or system notes.
Everything else is a 404, the same answer as for a ticket that does not exist."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.http import Http404

from deskloop.accounts.models import Workspace
from deskloop.customers.models import Contact
from deskloop.knowledge.models import ArticleState, ArticleTranslation, ArticleVisibility, RequestSession
from deskloop.tickets.models import Attachment, CustomField, Message, MessageKind, Ticket
from deskloop.tickets.queries import live_tickets


def portal_workspace(slug: str) -> Workspace:
    """The workspace whose portal the URL names, or 404."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise Http404("No such portal")
    return workspace


def tickets_for_contact(contact: Contact) -> QuerySet[Ticket]:
    """The contact's tickets, and their organization's when it shares them in the portal; newest activity first."""
    visible = Q(requester_id=contact.pk)
    organization = contact.organization
    if organization is not None and organization.portal_shares_tickets:
        visible |= Q(organization_id=organization.pk)
    return (
        live_tickets(contact.workspace_id)
        .filter(visible)
        .select_related("status", "requester")
        .prefetch_related("requester__emails")  # a colleague's request is shown with its requester's name
        .order_by("-updated_at", "-id")
    )


def get_ticket_for_contact(contact: Contact, number: int) -> Ticket:
    ticket = tickets_for_contact(contact).filter(number=number).first()
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def public_messages(ticket: Ticket) -> QuerySet[Message]:
    """What the customer sees of the conversation: replies (theirs and the agents'), oldest first, with files."""
    return (
        Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY)
        .select_related("author_agent__user", "author_contact")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def get_attachment_for_contact(contact: Contact, attachment_id: int) -> Attachment:
    """A file of a public message of a ticket the contact may see, or 404."""
    attachment = (
        Attachment.objects.select_related("blob", "message")
        .filter(pk=attachment_id, workspace_id=contact.workspace_id, message__kind=MessageKind.REPLY)
        .first()
    )
    if attachment is None or not tickets_for_contact(contact).filter(pk=attachment.message.ticket_id).exists():
        raise Http404("No such attachment")
    return attachment


def customer_fields(workspace: Workspace | int) -> list[CustomField]:
    """The custom fields the request form asks (marked visible to customers), in their order."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return list(CustomField.objects.filter(workspace_id=workspace_id, visible_to_customers=True))


def public_article(workspace: Workspace, article_id: int, locale: str) -> ArticleTranslation:
    """A published public article of the workspace in ``locale``, else in English, else in any language it is
    published in; 404 for an internal, unpublished or foreign article."""
    translations = {
        t.locale: t
        for t in ArticleTranslation.objects.select_related("article").filter(
            workspace=workspace,
            article_id=article_id,
            state=ArticleState.PUBLISHED,
            article__visibility=ArticleVisibility.PUBLIC,
        )
    }
    found = translations.get(locale) or translations.get("en") or next(iter(translations.values()), None)
    if found is None:
        raise Http404("No such article")
    return found


def request_session_for_contact(contact: Contact, key: str) -> RequestSession | None:
    """The contact's own request session with this key (the request form carries it), or None."""
    try:
        parsed = uuid.UUID(str(key))
    except ValueError:  # not a UUID: a forged or truncated key
        return None
    return RequestSession.objects.filter(workspace_id=contact.workspace_id, contact=contact, key=parsed).first()
