from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskloop.conftest import Cast, signed_in_client
from deskloop.core.errors import PermissionDenied, ValidationFailed
from deskloop.customers.models import Contact, ContactEmail, Organization
from deskloop.customers.services import (
    OrganizationValues,
    add_contact_email,
    find_or_create_contact,
    remove_contact_email,
    update_organization,
)


def test_new_sender_joins_the_organization_owning_their_domain(acme: Cast) -> None:
    contact = find_or_create_contact(workspace=acme.workspace, email="  Pablo@GLOBEX-acme.example ", name="Pablo")
    assert (contact.organization_id, contact.primary_email) == (acme.organization.pk, "pablo@globex-acme.example")
    again = find_or_create_contact(workspace=acme.workspace, email="pablo@globex-acme.example")
    assert again.pk == contact.pk


def test_invalid_email_is_refused_with_its_address(acme: Cast) -> None:
    with pytest.raises(ValidationFailed, match=re.escape("“not-an-address” is not a valid email address.")):
        find_or_create_contact(workspace=acme.workspace, email="not-an-address")
    assert Contact.objects.filter(workspace=acme.workspace).count() == 1


def test_an_address_belongs_to_one_contact(acme: Cast) -> None:
    other = find_or_create_contact(workspace=acme.workspace, email="dora@example.org", name="Dora")
    with pytest.raises(
        ValidationFailed, match=re.escape("carmen@globex-acme.example already belongs to Carmen Customer.")
    ):
        add_contact_email(actor=acme.agent, contact=other, email="CARMEN@globex-acme.example")
    with pytest.raises(ValidationFailed, match=re.escape("A contact keeps at least one email address.")):
        remove_contact_email(actor=acme.agent, identity=ContactEmail.objects.get(contact=other))
    with pytest.raises(PermissionDenied):
        add_contact_email(actor=acme.viewer, contact=other, email="dora2@example.org")
    assert list(other.emails.values_list("email", flat=True)) == ["dora@example.org"]


def test_organization_domain_cannot_be_claimed_twice(acme: Cast) -> None:
    rival = Organization.objects.create(workspace=acme.workspace, name="Initech")
    with pytest.raises(
        ValidationFailed, match=re.escape("The domain globex-acme.example already belongs to another organization.")
    ):
        update_organization(
            actor=acme.admin,
            organization=rival,
            values=OrganizationValues(name="Initech", domains=["globex-acme.example"]),
        )
    update_organization(
        actor=acme.admin,
        organization=rival,
        values=OrganizationValues(name="Initech", domains=["initech.example"], plan="Team", mrr=Decimal("49.50")),
    )
    rival.refresh_from_db()
    assert (rival.plan, rival.mrr, [d.domain for d in rival.domains.all()]) == (
        "Team",
        Decimal("49.50"),
        ["initech.example"],
    )


def test_agent_edits_a_contact_through_the_page(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    url = f"/contacts/{acme.customer.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"carmen@globex-acme.example" in page.content
    response = client.post(
        url, {"name": "Carmen Q. Customer", "phone": "+34 600 000 000", "time_zone": "Europe/Madrid"}
    )
    assert response.status_code == 302
    acme.customer.refresh_from_db()
    assert (acme.customer.name, acme.customer.phone, acme.customer.time_zone, acme.customer.organization_id) == (
        "Carmen Q. Customer",
        "+34 600 000 000",
        "Europe/Madrid",
        None,
    )


def test_bad_time_zone_shows_an_error_and_changes_nothing(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    response = client.post(f"/contacts/{acme.customer.pk}/", {"name": "X", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "“Mars/Olympus” is not a known time zone." in response.content.decode()
    acme.customer.refresh_from_db()
    assert acme.customer.name == "Carmen Customer"


def test_viewer_reads_but_cannot_edit(acme: Cast) -> None:
    client = signed_in_client(acme.viewer)
    assert client.get(f"/organizations/{acme.organization.pk}/").status_code == 200
    assert client.post(f"/organizations/{acme.organization.pk}/", {"name": "Hacked"}).status_code == 403
    assert client.get("/contacts/new/").status_code == 403
    acme.organization.refresh_from_db()
    assert acme.organization.name == "Globex of Acme"


def test_names_with_markup_render_escaped(acme: Cast) -> None:
    acme.customer.name = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    acme.customer.save()
    acme.organization.name = "<svg onload=alert(3)>"
    acme.organization.save()
    client = signed_in_client(acme.agent)
    for url in (
        "/contacts/",
        f"/contacts/{acme.customer.pk}/",
        "/organizations/",
        f"/organizations/{acme.organization.pk}/",
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body
        assert "<img src=x onerror" not in body
        assert "<svg onload" not in body
        assert "&lt;" in body


def test_contact_list_query_count_does_not_grow_with_rows(acme: Cast) -> None:
    client = signed_in_client(acme.agent)
    client.get("/contacts/")  # warm the session and workspace lookups
    for i in range(5):
        find_or_create_contact(workspace=acme.workspace, email=f"c{i}@globex-acme.example", name=f"C{i}")
    with CaptureQueriesContext(connection) as few:
        client.get("/contacts/")
    for i in range(5, 30):
        find_or_create_contact(workspace=acme.workspace, email=f"c{i}@globex-acme.example", name=f"C{i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/contacts/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    from deskloop.customers.segments import months_before

    assert months_before(dt.date(2026, 12, 6), 6) == dt.date(2026, 6, 6)
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)


def test_a_segment_is_saved_with_clean_rules_and_refuses_a_duplicate_name(acme: Cast) -> None:
    from deskloop.core.errors import Conflict
    from deskloop.customers.segments import SegmentRules, save_segment

    rules = SegmentRules(name="  Loyal   payers ", mrr_above=Decimal("100"), min_customer_months=6)
    segment = save_segment(agent=acme.agent, rules=rules)
    assert (segment.name, segment.mrr_above, segment.min_customer_months) == ("Loyal payers", Decimal("100"), 6)
    with pytest.raises(Conflict):
        save_segment(agent=acme.agent, rules=SegmentRules(name="loyal payers"))
    with pytest.raises(ValidationFailed):
        save_segment(agent=acme.agent, rules=SegmentRules(name="Bad", mrr_above=Decimal("-1")))
