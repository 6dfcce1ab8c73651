"""Templates people write (macros, email templates) render in one sandbox with limits (issue #9): a 114-byte macro
padding to a huge width built a 1.2 GB reply. Told from the editors and the ticket page."""

from __future__ import annotations

import html
import re

import pytest

from deskloop.channels.email.models import EmailTemplate
from deskloop.conftest import Cast, signed_in_client
from deskloop.customers.services import find_or_create_contact
from deskloop.tickets.models import Macro
from deskloop.tickets.services.macros import create_macro
from deskloop.tickets.services.tickets import NewTicket, open_ticket

EMAIL_TEMPLATE_PAGE = "/settings/email-templates/acknowledgement/"


def field_error(page: str) -> list[str]:
    """The errors shown under the macro's body field."""
    found = re.search(r'<div class="error" role="alert" id="id_body-error">(.*?)</div>', page, re.DOTALL)
    assert found is not None, "no error on the body field"
    return [html.unescape(error) for error in re.findall(r'<p class="field-error">(.*?)</p>', found.group(1))]


def new_macro(client: object, body: str) -> object:
    return client.post("/settings/macros/new/", {"name": "Pad", "body": body, "priority": "", "assignee": ""})  # type: ignore[attr-defined]


def test_a_macro_padding_to_a_huge_width_is_refused_on_the_body_field(acme: Cast) -> None:
    response = new_macro(signed_in_client(acme.agent), '{{ x|ljust:"999999999" }}')

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert field_error(response.text) == [  # type: ignore[attr-defined]
        "The reply text has a placeholder error: The filter “ljust” can pad to at most 200 characters."
    ]
    assert Macro.objects.count() == 0


def test_a_macro_whose_loops_run_too_often_is_refused_on_save(acme: Cast) -> None:
    body = "{% for a in ticket.subject %}{% for b in ticket.subject %}{% for c in ticket.subject %}x"
    body += "{% endfor %}{% endfor %}{% endfor %}"
    response = new_macro(signed_in_client(acme.agent), body)

    assert response.status_code == 422  # type: ignore[attr-defined]
    assert field_error(response.text) == [  # type: ignore[attr-defined]
        "The reply text has a placeholder error: The template's loops run more than 1000 times."
    ]


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        ('{{ ticket.number|stringformat:"999999999s" }}', "The filter “stringformat” cannot be used here."),
        ("{% lorem 999999 w %}", "The tag “lorem” cannot be used here."),
        ("{% load humanize %}", "The tag “load” cannot be used here."),
        ("{% debug %}", "The tag “debug” cannot be used here."),
        ('{% include "base.html" %}', "The tag “include” cannot be used here."),
        ('{% filter center:"99999" %}x{% endfilter %}', "The filter “center” can pad to at most 200 characters."),
    ],
)
def test_what_the_sandbox_refuses_is_named_on_the_field(acme: Cast, body: str, refusal: str) -> None:
    response = new_macro(signed_in_client(acme.agent), body)

    assert response.status_code == 422  # type: ignore[attr-defined]
    [error] = field_error(response.text)  # type: ignore[attr-defined]
    assert error.startswith(f"The reply text has a placeholder error: {refusal}")


def test_a_macro_within_the_limits_still_pads_and_loops(acme: Cast) -> None:
    macro = create_macro(
        agent=acme.agent,
        name="Table",
        body='[{{ requester.first_name|ljust:"10" }}]{% for c in "abc" %}{{ c|upper }}{% endfor %}',
        shared=False,
    )
    rendered = signed_in_client(acme.agent).get(f"/tickets/{acme.ticket.number}/macros/{macro.pk}/")
    assert rendered.json()["body"] == "[Carmen    ]ABC"


def test_a_macro_that_loops_too_often_on_a_real_ticket_is_refused_when_used(acme: Cast) -> None:
    # Fine with the sample values on save (15 x 15 turns), too many for a requester with a long name.
    macro = create_macro(
        agent=acme.agent,
        name="Loops",
        body="{% for a in requester.name %}{% for b in requester.name %}.{% endfor %}{% endfor %}",
        shared=False,
    )
    requester = find_or_create_contact(workspace=acme.workspace, email="long@globex.example", name="L" * 100)
    ticket, _first = open_ticket(
        workspace=acme.workspace, ticket=NewTicket(requester=requester, subject="Hi", body_text="Hello")
    )

    rendered = signed_in_client(acme.agent).get(f"/tickets/{ticket.number}/macros/{macro.pk}/")

    assert rendered.status_code == 422
    assert rendered.json() == {
        "error": "The reply text has a placeholder error: The template's loops run more than 1000 times."
    }


def test_an_email_template_producing_too_much_is_refused_on_its_field(acme: Cast) -> None:
    # 200 + 800 turns stay within the loop limit; 800 x 150 characters do not fit the output budget.
    body_text = '{% for a in "x"|ljust:"200" %}{% for b in "abcd" %}' + "z" * 150 + "{% endfor %}{% endfor %}"
    response = signed_in_client(acme.admin).post(
        EMAIL_TEMPLATE_PAGE, {"action": "save", "subject": "Hi", "body_text": body_text, "body_html": ""}
    )

    assert response.status_code == 400
    assert (
        '<span class="field-error" role="alert">The template produces more than 100000 characters.</span>'
        in response.text
    )
    assert EmailTemplate.objects.count() == 0


def test_email_templates_saved_with_load_i18n_still_render(acme: Cast) -> None:
    response = signed_in_client(acme.admin).post(
        EMAIL_TEMPLATE_PAGE,
        {
            "action": "save",
            "subject": "{% load i18n %}{% translate 'Received' %} {{ ticket.token }}",
            "body_text": "{% load i18n %}\n{% blocktranslate with name=requester.name %}Hi {{ name }}{% endblocktranslate %}",
            "body_html": "",
        },
    )
    assert response.status_code == 302
    page = signed_in_client(acme.admin).get(EMAIL_TEMPLATE_PAGE)
    assert "data-template-rules" in page.text
