"""API shapes for tickets, messages and the workspace's ticket vocabulary (statuses, tags, product areas).

Fields ending in ``_html`` hold HTML sanitized by deskloop.core.html before it was stored; every other string
is plain text, returned as it was written, and must be escaped by whoever renders it.
"""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from deskloop.accounts.schemas import AgentRef, TeamRef
from deskloop.customers.schemas import ContactRef, OrganizationRef
from deskloop.tickets.inbox import MAX_PAGE_SIZE
from deskloop.tickets.models import Channel, Message, MessageKind, Priority, RequestType, StatusCategory, Ticket

TicketSort = Literal["-updated_at", "updated_at", "-created_at", "created_at", "-number", "number"]
ViewName = Literal["mine", "unassigned", "my_teams", "unsolved", "all", "pending", "solved", "trash", "spam"]


class StatusRef(Schema):
    id: int
    name: str
    names: dict[str, str] = Field(
        default_factory=dict, description='The name per language: "default" (as `name`) and each translated language.'
    )
    category: StatusCategory


class StatusOut(StatusRef):
    position: int
    is_default: bool


class StatusPage(Schema):
    items: list[StatusOut]
    next_cursor: str | None


class TagOut(Schema):
    id: int
    name: str


class TagPage(Schema):
    items: list[TagOut]
    next_cursor: str | None


class ProductAreaRef(Schema):
    id: int
    name: str
    names: dict[str, str] = Field(
        default_factory=dict, description='The name per language: "default" (as `name`) and each translated language.'
    )
    path: str


class ProductAreaOut(ProductAreaRef):
    parent_id: int | None


class ProductAreaPage(Schema):
    items: list[ProductAreaOut]
    next_cursor: str | None


class TicketOut(Schema):
    id: int
    number: int
    subject: str
    status: StatusRef
    priority: Priority
    channel: Channel
    requester: ContactRef
    organization: OrganizationRef | None
    assignee: AgentRef | None
    team: TeamRef | None
    product_area: ProductAreaRef | None
    request_type: RequestType | Literal[""] = Field(description="Blank until an agent sets it.")
    tags: list[str]
    custom_fields: dict[str, Any]
    message_count: int
    version: int
    etag: str = Field(description="Send it back in If-Match when you PATCH the ticket.")
    merged_into_number: int | None
    is_spam: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    last_customer_message_at: dt.datetime | None
    due_at: dt.datetime | None
    sla_due_at: dt.datetime | None = Field(
        None, description="The earliest deadline of the ticket's running SLA clocks (null: none runs, or paused)."
    )
    sla_paused: bool = Field(False, description="SLA clocks wait while the ticket is pending or on hold.")

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_merged_into_number(obj: Ticket) -> int | None:
        return obj.merged_into.number if obj.merged_into_id and obj.merged_into else None


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class TicketFilterQuery(Schema):
    """The inbox filters. Repeat a parameter to ask for any of several values (``?status_id=1&status_id=2``)."""

    view: ViewName = "all"
    status_id: list[int] = Field(default_factory=list)
    status_category: list[StatusCategory] = Field(default_factory=list)
    assignee_id: list[int] = Field(default_factory=list)
    unassigned: bool = Field(False, description="Only unassigned tickets (or, with assignee_id, these too).")
    team_id: list[int] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list, description="Tickets carrying every tag named.")
    product_area_id: list[int] = Field(default_factory=list, description="Includes the areas below it.")
    organization_id: list[int] = Field(default_factory=list)
    requester_id: list[int] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    created_from: dt.date | None = None
    created_to: dt.date | None = None


class TicketListQuery(TicketFilterQuery):
    """The inbox filters, search words and the page."""

    q: str = Field(
        "",
        max_length=500,
        description="Search words, read as the agent UI's search box reads them (phrases in quotes, `invoi*` "
        "prefixes, other forms of a word in English, Spanish and Russian). With q the tickets come best match "
        "first (`sort` is not used) and `next_cursor` pages through at most the first 1,100 matches.",
    )
    sort: TicketSort = "-updated_at"
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class TicketCreateIn(Schema):
    subject: str = Field(..., max_length=500)
    requester_id: int | None = Field(None, description="An existing contact; or give requester_email.")
    requester_email: str | None = Field(
        None, max_length=254, description="Finds the contact with this address, or creates one."
    )
    requester_name: str = Field("", max_length=200, description="Used when a new contact is created.")
    body_text: str = Field("", description="The customer's first message as plain text.")
    body_html: str = Field("", description="The first message as HTML; sanitized before it is stored.")
    priority: Priority = Priority.NORMAL
    tags: list[str] = Field(default_factory=list)
    product_area_id: int | None = None
    request_type: RequestType | Literal[""] = ""
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    assignee_id: int | None = None
    team_id: int | None = None
    status_id: int | None = Field(None, description="Defaults to the workspace's status for new tickets.")


class TicketUpdateIn(Schema):
    """Only the fields you send are changed; send null to clear assignee, team, product area or due date."""

    subject: str | None = Field(None, max_length=500)
    status_id: int | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    product_area_id: int | None = None
    request_type: RequestType | Literal[""] | None = Field(
        None, description='Question, problem, bug or feature request; "" clears it.'
    )
    custom_fields: dict[str, Any] | None = Field(None, description="Merged into the current values; null clears one.")
    due_at: dt.datetime | None = None
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    is_spam: bool | None = Field(
        None,
        description="true: mark as spam (blocks the requester); false: not spam (back to the inbox, unblocked). "
        "Either teaches the workspace's spam filter.",
    )


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int


class MessageAuthor(Schema):
    type: Literal["agent", "contact", "system"]
    id: int | None
    name: str


class MessageOut(Schema):
    id: int
    ticket_number: int
    kind: MessageKind
    author: MessageAuthor
    body_text: str
    body_html: str = Field(description="Sanitized HTML, safe to insert into a page.")
    html_fallback_reason: Literal["", "too_large", "too_deep"] = Field(
        description="Why body_html holds only the message's text: the HTML sent was too large or nested too deeply "
        "to clean at a bounded cost. Empty when body_html is the cleaned HTML."
    )
    channel: Channel
    attachments: list[AttachmentOut]
    created_at: dt.datetime
    unverified_agent_sender: str | None = Field(
        default=None,
        description=(
            "Set on an email sent from an agent's address that did not prove it was written by that agent (it "
            "answered no notification we sent them and had no DMARC pass from the mailbox's trusted server), so "
            "it was taken as a customer's message. The reason: 'unproven'."
        ),
    )

    @staticmethod
    def resolve_ticket_number(obj: Message) -> int:
        return obj.ticket.number

    @staticmethod
    def resolve_author(obj: Message) -> dict[str, Any]:
        if obj.author_agent is not None:
            return {"type": "agent", "id": obj.author_agent.pk, "name": obj.author_agent.name}
        if obj.author_contact is not None:
            return {"type": "contact", "id": obj.author_contact.pk, "name": obj.author_contact.display_name}
        return {"type": "system", "id": None, "name": ""}

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Any]:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_unverified_agent_sender(obj: Message) -> str | None:
        flag = (obj.channel_meta or {}).get("unverified_agent")
        return str(flag.get("reason") or "unproven") if isinstance(flag, dict) else None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class MessageIn(Schema):
    kind: Literal["reply", "note"] = Field(
        "reply", description="A public reply to the requester, or an internal note only agents see."
    )
    body_text: str = ""
    body_html: str = Field("", description="Sanitized before it is stored.")
    status_id: int | None = Field(None, description="Replies only: set this status with the reply.")


# ----------------------------------------------------------------------------------------------------------
# Import (POST /tickets/import): values are taken as text and checked row by row, so one bad row is reported
# in the results instead of refusing the whole batch.

IMPORT_MAX_ROWS = 1000


class TicketImportRowIn(Schema):
    external_id: str | int | None = Field(
        None, description="The ticket's id in the helpdesk it comes from; a row already imported is skipped."
    )
    subject: str | None = None
    body: str = Field("", description="The requester's first message, plain text.")
    requester_email: str | None = Field(None, description="Finds the contact with this address, or creates one.")
    requester_name: str = ""
    organization: str = Field("", description="Found by name or created; a new requester joins it.")
    product_area: str = Field("", description="A path such as “Billing/Invoices”; missing areas are created.")
    tags: list[str] | str = Field(default_factory=list, description="A list, or names separated by commas.")
    status: str = Field("", description="A status name or a category (new, open, pending, on_hold, solved, closed).")
    priority: str = Field("", description="low, normal (the default), high or urgent.")
    request_type: str = Field("", description="question, problem, bug or feature_request (the classifier's label).")
    created_at: str | None = Field(
        None, description="ISO 8601; the ticket's and its first message's time. Without an offset, UTC."
    )


class TicketImportIn(Schema):
    rows: list[TicketImportRowIn] = Field(..., min_length=1, max_length=IMPORT_MAX_ROWS)


class TicketImportResultOut(Schema):
    row: int = Field(description="The row's position in the request, from 1.")
    external_id: str
    status: Literal["created", "skipped", "error"]
    message: str = Field(description="Why a row was skipped or refused; empty when created.")
    field: str = Field(description="The field a refused row is refused for, when there is one.")
    ticket_number: int | None


class TicketImportOut(Schema):
    created: int
    skipped: int
    failed: int
    results: list[TicketImportResultOut]
