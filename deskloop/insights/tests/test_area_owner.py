"""An admin gives a product area its product manager (and moves it) on the product-area settings page; the
insights overview shows the owner."""

from __future__ import annotations

from deskloop.conftest import Cast, signed_in_client
from deskloop.tickets.models import ProductArea
from deskloop.tickets.services.configuration_groups import create_product_area


def test_an_admin_sets_the_owner_and_moves_an_area(acme: Cast) -> None:
    billing = create_product_area(actor=acme.admin, name="Billing")
    invoices = create_product_area(actor=acme.admin, name="Invoices")
    client = signed_in_client(acme.admin)

    response = client.post(
        f"/settings/product-areas/{invoices.pk}/", {"name": "Invoices", "parent": billing.pk, "owner": acme.agent.pk}
    )

    assert response.status_code == 302
    invoices.refresh_from_db()
    assert (invoices.path, invoices.owner_id) == ("Billing > Invoices", acme.agent.pk)
    assert "Maria Agent" in client.get("/settings/product-areas/").content.decode()
    overview = client.get("/insights/").content.decode()
    assert "Billing &gt; Invoices</a></td>\n        <td>Maria Agent</td>" in overview


def test_an_owner_from_another_workspace_or_a_non_admin_is_refused(acme: Cast, umbrella: Cast) -> None:
    area = create_product_area(actor=acme.admin, name="Billing")
    client = signed_in_client(acme.admin)

    foreign = client.post(f"/settings/product-areas/{area.pk}/", {"name": "Renamed", "owner": umbrella.agent.pk})
    by_agent = signed_in_client(acme.agent).post(
        f"/settings/product-areas/{area.pk}/", {"name": "Billing", "owner": acme.agent.pk}
    )

    assert foreign.status_code == 422
    assert by_agent.status_code == 403
    assert ProductArea.objects.filter(pk=area.pk, name="Billing", owner__isnull=True).exists()
