"""The settings pages where an admin edits the wording of automatic emails, previews it and resets it."""

from __future__ import annotations

from deskloop.channels.email.models import EmailTemplate
from deskloop.conftest import Cast, signed_in_client

PAGE = "/settings/email-templates/acknowledgement/"


def test_the_list_shows_each_kind_and_whether_it_is_customized(acme: Cast) -> None:
    EmailTemplate.objects.create(workspace=acme.workspace, kind="mention", subject="s", body_text="t", is_active=False)
    page = signed_in_client(acme.admin).get("/settings/email-templates/").content.decode()

    for kind, wording, sent in (
        ("acknowledgement", "Built-in", "Yes"),
        ("assignment", "Built-in", "Yes"),
        ("customer_reply", "Built-in", "Yes"),
        ("mention", "Customized", "No"),
    ):
        row = page.split(f'data-template-kind="{kind}"', 1)[1].split("</tr>", 1)[0]
        assert f'href="/settings/email-templates/{kind}/"' in row
        assert f"<td>{wording}</td>" in row
        assert f"<td>{sent}</td>" in row


def test_agents_cannot_open_the_template_pages(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    assert client.get("/settings/email-templates/").status_code == 403
    assert client.post(PAGE, {"action": "reset"}).status_code == 403


def test_the_edit_page_shows_the_default_source_and_its_preview(acme: Cast) -> None:
    page = signed_in_client(acme.admin).get(PAGE).content.decode()

    assert "{% blocktranslate with subject=ticket.subject %}We received your request: {{ subject }}" in page
    assert "<span data-preview-subject>We received your request: The invoice shows the wrong VAT number</span>" in page
    assert "Thank you for writing to Acme. Your request has been received as ticket #1042" in page
    assert "Reset to default" not in page  # nothing to reset yet


def test_preview_renders_without_saving_and_sanitizes_the_html(acme: Cast) -> None:
    response = signed_in_client(acme.admin).post(
        PAGE,
        {
            "action": "preview",
            "subject": "Hi {{ requester.name }}",
            "body_text": "Ticket {{ ticket.number }}",
            "body_html": "<p>Ticket {{ ticket.number }}</p><script>alert(1)</script>",
            "is_active": "on",
        },
    )
    page = response.content.decode()

    assert response.status_code == 200
    assert "<span data-preview-subject>Hi Carmen Customer</span>" in page
    assert "<pre data-preview-text>Ticket 1042\n</pre>" in page
    assert '<div class="message-body" data-preview-html><p>Ticket 1042</p></div>' in page
    assert "<script>alert(1)</script>" not in page.split("data-preview-html", 1)[1]
    assert EmailTemplate.objects.filter(workspace=acme.workspace).count() == 0


def test_save_then_reset_to_default(acme: Cast) -> None:
    client = signed_in_client(acme.admin)
    saved = client.post(
        PAGE,
        {
            "action": "save",
            "subject": "Thanks, {{ requester.name }}",
            "body_text": "We have it.",
            "body_html": "",
            "include_agent_created": "on",
        },
    )
    assert (saved.status_code, saved["Location"]) == (302, PAGE)
    template = EmailTemplate.objects.get(workspace=acme.workspace, kind="acknowledgement")
    assert (template.subject, template.body_text, template.is_active, template.include_agent_created) == (
        "Thanks, {{ requester.name }}",
        "We have it.",
        False,
        True,
    )
    assert "Reset to default" in client.get(PAGE).content.decode()

    reset = client.post(PAGE, {"action": "reset"})
    assert (reset.status_code, reset["Location"]) == (302, PAGE)
    assert EmailTemplate.objects.filter(workspace=acme.workspace).count() == 0


def test_a_broken_template_is_shown_with_its_error_and_not_saved(acme: Cast) -> None:
    response = signed_in_client(acme.admin).post(
        PAGE, {"action": "save", "subject": "Hi", "body_text": "{% include 'base.html' %}", "body_html": ""}
    )
    assert response.status_code == 400
    # The sandbox (core.template_sandbox) has no include at all; the editor names the tag.
    assert "The tag “include” cannot be used here. Tags you can use: if, for, with," in response.content.decode()
    assert EmailTemplate.objects.count() == 0
