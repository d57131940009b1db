"""Placing an order buys today's offer: the customer's availabilities are read for each line, the term and billing
cycle checked, the fresh catalog item id used, attestation sent when the SKU enforces it, and a seat-cap error
becomes a message with the quantity still available. The order keeps the price the buyer saw."""

from decimal import Decimal

import pytest
import requests

from billing.models import Order
from csp.sandbox import catalog as sandbox_catalog
from csp.tasks import order_place
from storefront.catalog.models import Product
from storefront.checkout.services import checkout_draft_get
from tests.checkout.conftest import submit_new_tenant_order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BASIC = "CFQ7TTC0LH18"
PREMIUM = "CFQ7TTC0LCHC"


def _offer(product_id: str, sku_id: str = "0001", **fields) -> Product:
    defaults = {
        "name": "Microsoft 365 Business Basic",
        "term_duration": "P1Y",
        "billing_cycle": "monthly",
        "price": Decimal("75.60"),
        "erp_price": Decimal("94.50"),
        "availability_id": "CFQ7TTC0OLD1",  # what the catalog saw weeks ago
    }
    return ProductFactory(product_id=product_id, sku_id=sku_id, **{**defaults, **fields})


def _place(client, owner, contoso, offer: Product, quantity: int, prefix: str, capture) -> Order:
    draft = checkout_draft_get(user=owner)
    draft.lines = {str(offer.pk): quantity}
    draft.end_customer = contoso
    draft.save()
    order, _ = submit_new_tenant_order(client, owner, prefix, capture)
    order_place.run(order.pk)
    order.refresh_from_db()
    return order


def _cart_lines(sandbox) -> list[dict]:
    return [line for cart in sandbox.state.carts.values() for line in cart["lineItems"]]


def test_the_order_uses_the_customers_availability_of_today(
    client, owner, contoso, sandbox, django_capture_on_commit_callbacks
):
    requests.post(f"{sandbox.url}/_sandbox/config", json={"catalog_generation": 7}, timeout=10)
    offer = _offer(BASIC)

    order = _place(client, owner, contoso, offer, 3, "todayco", django_capture_on_commit_callbacks)

    assert order.status == Order.Status.COMPLETED, order.failure_reason
    fresh = sandbox_catalog.availability_id(BASIC, "0001", "Commercial", 7)
    (line,) = _cart_lines(sandbox)
    assert line["catalogItemId"] == f"{BASIC}:0001:{fresh}"
    assert (line["termDuration"], line["billingCycle"]) == ("P1Y", "monthly")
    assert "attestationAccepted" not in line
    (order_line,) = order.lines.all()
    assert order_line.catalog_item_id == f"{BASIC}:0001:{fresh}"
    assert order_line.unit_price == Decimal("83.16")  # what the buyer saw: cost + 10 %, not re-priced
    targets = [entry["target"] for entry in sandbox.state.request_log]
    customer = order.customer_tenant_id
    assert any(
        t.startswith(
            f"/v1/customers/{customer}/products/{BASIC}/skus/0001/availabilities?targetSegment=commercial"
        )
        for t in targets
    )


def test_a_term_microsoft_no_longer_sells_fails_the_order_before_any_cart(
    client, owner, contoso, sandbox, django_capture_on_commit_callbacks
):
    offer = _offer(
        BASIC, term_duration="P3Y", billing_cycle="triennial"
    )  # Basic is sold for 1 month or 1 year

    order = _place(client, owner, contoso, offer, 1, "notermco", django_capture_on_commit_callbacks)

    assert order.status == Order.Status.FAILED
    assert order.failure_reason == (
        "Microsoft no longer sells Microsoft 365 Business Basic with a P3Y term billed triennial to this "
        "customer. Please choose another term or billing plan."
    )
    assert sandbox.state.carts == {}


def test_attestation_is_accepted_on_the_line_when_the_sku_enforces_it(
    client, owner, contoso, sandbox, django_capture_on_commit_callbacks
):
    offer = _offer(PREMIUM, "0002", name="Microsoft 365 Business Premium (no Teams)")

    order = _place(client, owner, contoso, offer, 2, "attestco", django_capture_on_commit_callbacks)

    assert order.status == Order.Status.COMPLETED, order.failure_reason
    (line,) = _cart_lines(sandbox)
    assert line["attestationAccepted"] is True


def test_a_seat_cap_becomes_a_message_with_the_quantity_still_available(
    client, owner, contoso, sandbox, django_capture_on_commit_callbacks
):
    offer = _offer(
        BASIC, max_quantity=None
    )  # our catalog does not know the cap: Microsoft enforces it anyway

    order = _place(client, owner, contoso, offer, 301, "capco", django_capture_on_commit_callbacks)

    assert order.status == Order.Status.FAILED
    assert order.failure_reason == (
        "Microsoft limits how many licences of Microsoft 365 Business Basic one customer may hold, across all "
        "partners: 300 more can be bought for this customer. Order 300 or fewer, or contact us."
    )
    assert sandbox.state.orders == {}  # the cart was never checked out
