"""HTML sent over the API has a bounded cost too (issue #9): a body nested too deeply to parse is accepted (201),
stored as its text, and the message says why in ``html_fallback_reason``. Each way of hiding the depth from the
pre-check (close tags in attribute values, in raw-text elements, across table cells and SVG, optional end tags)
is caught the same way."""

from __future__ import annotations

import json

import pytest

from deskloop.conftest import Cast
from deskloop.tickets.models import Message

from .test_api_tickets import api, post

DEPTH = 100_000


def test_a_ticket_with_deeply_nested_html_is_created_with_its_text_and_the_reason(acme: Cast) -> None:
    client = api(acme.agent)
    body_html = "<div>" * DEPTH + "Printer on fire" + "</div>" * DEPTH

    created = post(
        client,
        "/api/v1/tickets",
        {"subject": "Nested", "requester_email": "mallory@globex.example", "body_html": body_html},
    )

    assert created.status_code == 201
    number = json.loads(created.content)["number"]
    messages = json.loads(client.get(f"/api/v1/tickets/{number}/messages").content)["items"]
    assert [(m["body_text"], m["body_html"], m["html_fallback_reason"]) for m in messages] == [
        ("Printer on fire", "<p>Printer on fire</p>", "too_deep")
    ]


HIDDEN_DEPTH = {
    "closes in attribute values": '<div title="</div>">',
    "closes after a slash in the tag": '<div/title="</div>">',
    "closes inside a cell of a table": "<div><table><td></div>",
    "closes inside svg style": "<div><svg><style></div></style></svg>",
    "closes inside a comment": "<div><!-- </div> -->",
    "closes inside a textarea": "<div><textarea></div></textarea>",
    "formatting elements": '<b class="x">',
    "optional end tags between others": "<p><span>",
    "list items in sections": "<li><section>",
}


@pytest.mark.parametrize("unit", HIDDEN_DEPTH.values(), ids=HIDDEN_DEPTH.keys())
def test_depth_hidden_from_a_naive_count_is_still_caught(acme: Cast, unit: str) -> None:
    client = api(acme.agent)
    created = post(
        client,
        "/api/v1/tickets",
        {"subject": "Hidden", "requester_email": "mallory@globex.example", "body_html": unit * 20_000 + "Hi"},
    )
    assert created.status_code == 201
    number = json.loads(created.content)["number"]
    messages = json.loads(client.get(f"/api/v1/tickets/{number}/messages").content)["items"]
    assert [m["html_fallback_reason"] for m in messages] == ["too_deep"]


def test_a_reply_with_html_too_large_to_clean_keeps_its_text(acme: Cast) -> None:
    client = api(acme.agent)
    created = post(client, "/api/v1/tickets", {"subject": "Big", "requester_email": "carmen@globex.example",
                                               "body_text": "First"})  # fmt: skip
    number = json.loads(created.content)["number"]
    huge = "<p>" + "many words " * 200_000 + "</p>"  # 2.2 MB of flat HTML

    note = post(client, f"/api/v1/tickets/{number}/messages", {"kind": "note", "body_html": huge})

    assert note.status_code == 201
    body = json.loads(note.content)
    assert body["html_fallback_reason"] == "too_large"
    assert body["body_text"] == ("many words " * 200_000).strip()
    stored = Message.objects.get(pk=body["id"])
    assert stored.body_html == "<p>" + ("many words " * 200_000).strip() + "</p>"
