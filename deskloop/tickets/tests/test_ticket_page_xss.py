"""Stored XSS on the ticket page: hostile subjects, names, bodies, tags and custom-field values render inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.models import CustomField, Tag, TicketTag
from deskloop.tickets.services.messages import CustomerMessage, add_customer_message
from deskloop.tickets.services.tickets import NewTicket, open_ticket

PAYLOADS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
]


def _main(html: str) -> str:
    """The page body only: the layout's own <script src> tags in <head> are ours."""
    return re.split(r"<main\b[^>]*>", html, maxsplit=1)[1]


class _ActiveContent(HTMLParser):
    """Collects what a browser would execute: script/svg elements, on* handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "svg", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"{tag}[{name}={value}]")


def _assert_inert(html: str) -> None:
    parser = _ActiveContent()
    parser.feed(_main(html))
    assert parser.found == []


def test_hostile_message_bodies_are_sanitized_on_the_way_in(acme: Cast) -> None:
    for payload in PAYLOADS:
        add_customer_message(
            ticket=acme.ticket, contact=acme.customer, message=CustomerMessage(body_html=f"<p>Hello</p>{payload}")
        )
    html = signed_in_client(acme.agent).get(f"/tickets/{acme.ticket.number}/").content.decode()
    _assert_inert(html)
    assert '<a rel="noopener noreferrer nofollow">click</a>' in html


def test_hostile_subject_requester_tag_and_field_values_are_escaped(acme: Cast) -> None:
    payload = " | ".join(PAYLOADS)
    requester = find_or_create_contact(workspace=acme.workspace, email="mallory@evil.example", name=payload)
    ticket = open_ticket(
        workspace=acme.workspace, ticket=NewTicket(requester=requester, subject=payload, body_text=payload)
    )[0]
    tag = Tag.objects.create(workspace=acme.workspace, name="<svg onload=alert(1)>")
    TicketTag.objects.create(workspace=acme.workspace, ticket=ticket, tag=tag)
    CustomField.objects.create(workspace=acme.workspace, key="note", label="<script>label</script>", field_type="text")
    ticket.custom_fields = {"note": payload}
    ticket.save()
    for role in ("agent", "viewer"):  # the form inputs and the read-only sidebar
        html = signed_in_client(acme.by_role(role)).get(f"/tickets/{ticket.number}/").content.decode()
        _assert_inert(html)
        assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
        assert "&lt;svg onload=alert(1)&gt;" in html
