"""An anonymous visitor sees no conversation until they confirm their address by the magic link mailed to it, and
say yes beside the code their panel shows; the panel then trades its secret for a pass, once."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from deskloop.channels.widget.models import EmailConfirmation
from deskloop.channels.widget.tests.conftest import Panel, Shelf
from deskloop.conftest import Cast
from deskloop.customers.services import find_or_create_contact

pytestmark = pytest.mark.django_db


def _ask(panel: Panel, email: str, capture) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """Send "Send me a link" from the panel: the secret and the code it shows, and the link that was mailed."""
    with capture(execute=True):
        sent = panel.post("confirmations/", {"email": email})
    assert sent.status_code == 200, sent.content
    page = sent.content.decode()
    secret = re.search(r'data-claim-secret="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    code = re.search(r"<strong>(\d{6})</strong>", page).group(1)  # type: ignore[union-attr]
    link = re.search(r"https?://[^/\s]+(/portal/[^\s]+/signin/[^\s/]+/)", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    return secret, code, link


def _sign_in_by_mail(link: str) -> tuple[Client, str]:
    """The mail reader's own browser: use the link, land on the confirmation page."""
    reader = Client()
    used = reader.post(link)
    assert used.status_code == 302
    return reader, used["Location"]


def test_confirming_by_mail_shows_the_visitors_conversations(
    acme: Cast, shelf: Shelf, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    panel = Panel("acme")
    assert panel.get("conversations/").status_code == 401
    secret, code, link = _ask(panel, acme.customer.primary_email, django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == [acme.customer.primary_email]
    waiting = panel.post("confirmations/claim/", {"secret": secret})
    assert waiting.status_code == 202

    reader, confirm_page = _sign_in_by_mail(link)
    assert confirm_page.startswith("/widget/acme/confirm/")
    question = reader.get(confirm_page)
    assert question.status_code == 200
    assert code in question.content.decode()
    # Opening the page is not saying yes.
    assert panel.post("confirmations/claim/", {"secret": secret}).status_code == 202
    assert reader.post(confirm_page).status_code == 200

    claimed = panel.post("confirmations/claim/", {"secret": secret})
    assert claimed.status_code == 200
    panel.widget_pass = claimed.json()["pass"]
    listing = panel.get("conversations/")
    assert "Invoice shows the wrong VAT number" in listing.content.decode()
    # The secret works once.
    assert panel.post("confirmations/claim/", {"secret": secret}).status_code == 404


def test_another_contacts_sign_in_cannot_confirm_it(
    acme: Cast, shelf: Shelf, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    victim_panel = Panel("acme")
    secret, _code, _victims_link = _ask(victim_panel, acme.customer.primary_email, django_capture_on_commit_callbacks)
    confirmation = EmailConfirmation.objects.get()
    find_or_create_contact(workspace=acme.workspace, email="mallory@evil.example")
    _secret, _code2, mallorys_link = _ask(Panel("acme"), "mallory@evil.example", django_capture_on_commit_callbacks)
    mallory, _page = _sign_in_by_mail(mallorys_link)
    assert mallory.get(f"/widget/acme/confirm/{confirmation.public_id}/").status_code == 404
    assert mallory.post(f"/widget/acme/confirm/{confirmation.public_id}/").status_code == 404
    assert victim_panel.post("confirmations/claim/", {"secret": secret}).status_code == 202


def test_the_confirmation_page_needs_the_mailed_sign_in(
    acme: Cast, shelf: Shelf, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _ask(Panel("acme"), acme.customer.primary_email, django_capture_on_commit_callbacks)
    confirmation = EmailConfirmation.objects.get()
    stranger = Client().get(f"/widget/acme/confirm/{confirmation.public_id}/")
    assert stranger.status_code == 302
    assert stranger["Location"].startswith("/portal/acme/signin/")


def test_a_wrong_secret_or_pass_gets_nothing(
    acme: Cast, umbrella: Cast, shelf: Shelf, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    panel = Panel("acme")
    secret, _code, link = _ask(panel, acme.customer.primary_email, django_capture_on_commit_callbacks)
    reader, page = _sign_in_by_mail(link)
    reader.post(page)
    assert panel.post("confirmations/claim/", {"secret": "guess"}).status_code == 404
    assert Client().post("/widget/acme/confirmations/claim/", {"secret": secret}).status_code == 401
    # Umbrella's widget knows nothing of Acme's confirmation.
    assert Client().post("/widget/umbrella/confirmations/claim/", {"secret": secret}).status_code == 401


def test_a_malformed_address_is_refused_and_nothing_is_sent(acme: Cast, shelf: Shelf) -> None:
    response = Panel("acme").post("confirmations/", {"email": "not an address"})
    assert response.status_code == 422
    assert 'id="w-confirm-email-errors"' in response.content.decode()
    assert EmailConfirmation.objects.count() == 0
    assert mail.outbox == []


def test_expired_confirmations_are_purged_a_day_later(
    acme: Cast, shelf: Shelf, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from deskloop.core.periodic import registered_jobs

    _ask(Panel("acme"), acme.customer.primary_email, django_capture_on_commit_callbacks)
    purge = next(job for job in registered_jobs() if job.name == "purge_widget_confirmations")
    assert purge.run() == 0
    EmailConfirmation.objects.update(expires_at=timezone.now() - dt.timedelta(days=2))
    assert purge.run() == 1
    assert EmailConfirmation.objects.count() == 0
