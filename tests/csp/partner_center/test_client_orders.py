"""Orders: the Microsoft Customer Agreement (`customer_agreement_template_id`, `accept_customer_agreement`),
`create_cart`, `checkout_cart`, `get_order`, against documented answers and the sandbox."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from csp.partner_center import PartnerOrderLine
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import NotFound, PermanentPartnerCenterError, TransientPartnerCenterError
from csp.partner_center.schemas import AgreementContact, CartLine
from csp.sandbox.server import SandboxServer

from .helpers import (
    API,
    CONTOSO_TENANT,
    body,
    load,
    query,
    sent,
)
from .live import (
    ALPINE,
    CONTOSO,
    MCA_TEMPLATE_ID,
    OFFER,
    sandbox_new_customer,
)


def test_customer_agreement_template_and_acceptance(client, mocked, records):
    mocked.get(f"{API}/v1/agreements", json=load("agreements_mca.json"))
    mocked.post(
        f"{API}/v1/customers/{CONTOSO_TENANT}/agreements", status=201, json=load("agreement_created.json")
    )

    template_id = client.customer_agreement_template_id()
    client.accept_customer_agreement(
        CONTOSO_TENANT,
        contact=AgreementContact(
            first_name="Jane", last_name="Doe", email="jane@northwindtraders.com", phone_number="4255550101"
        ),
        template_id=template_id,
        date_agreed=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        request_id="22222222-aaaa-4aaa-8aaa-222222222222",
    )

    assert template_id == "117a77b0-9360-443b-8795-c6dedc750cf9"
    assert query(mocked, 0) == {"agreementType": ["MicrosoftCustomerAgreement"]}
    assert body(mocked, 1) == {
        "primaryContact": {
            "firstName": "Jane",
            "lastName": "Doe",
            "email": "jane@northwindtraders.com",
            "phoneNumber": "4255550101",
        },
        "templateId": "117a77b0-9360-443b-8795-c6dedc750cf9",
        "dateAgreed": "2025-03-01T10:00:00Z",
        "type": "MicrosoftCustomerAgreement",
    }
    assert sent(mocked, 1).headers["MS-RequestId"] == "22222222-aaaa-4aaa-8aaa-222222222222"
    assert [r.operation for r in records] == ["accept_customer_agreement"]


def test_customer_agreement_template_missing_is_a_permanent_error(client, mocked):
    mocked.get(f"{API}/v1/agreements", json={"totalCount": 0, "items": []})

    with pytest.raises(PermanentPartnerCenterError):
        client.customer_agreement_template_id()


def test_create_cart_names_the_reseller_as_partner_of_record(client, mocked, records):
    mocked.post(f"{API}/v1/customers/{CONTOSO_TENANT}/carts", status=201, json=load("cart_created.json"))
    lines = [
        CartLine(
            catalog_item_id="CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ",
            quantity=2,
            billing_cycle="monthly",
            term_duration="P1Y",
            partner_id_on_record="1234567",
        )
    ]

    cart = client.create_cart(CONTOSO_TENANT, lines, request_id="33333333-aaaa-4aaa-8aaa-333333333333")

    assert cart.id == "c3f9b2a0-5a2e-4d1b-9c1e-000000000001"
    assert cart.status == "Active"
    assert body(mocked) == {
        "PartnerOnRecordAttestationAccepted": True,
        "lineItems": [
            {
                "id": 0,
                "catalogItemId": "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ",
                "quantity": 2,
                "billingCycle": "monthly",
                "termDuration": "P1Y",
                "participants": [{"key": "transaction_reseller", "value": "1234567"}],
                "provisioningContext": {},
            }
        ],
    }
    assert sent(mocked).headers["MS-RequestId"] == "33333333-aaaa-4aaa-8aaa-333333333333"
    assert records[0].ids == {"tenant_id": CONTOSO_TENANT, "cart_id": cart.id}


def test_direct_cart_has_no_attestation_or_participants(client, mocked):
    mocked.post(f"{API}/v1/customers/{CONTOSO_TENANT}/carts", status=201, json=load("cart_created.json"))

    client.create_cart(CONTOSO_TENANT, [CartLine("CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ", 1)], request_id="r")

    sent_body = body(mocked)
    assert "PartnerOnRecordAttestationAccepted" not in sent_body
    assert "participants" not in sent_body["lineItems"][0]


def test_checkout_returns_orders_and_partial_errors(client, mocked, records):
    cart_id = "c3f9b2a0-5a2e-4d1b-9c1e-000000000001"
    mocked.post(
        f"{API}/v1/customers/{CONTOSO_TENANT}/carts/{cart_id}/checkout",
        status=201,
        json=load("checkout_result.json"),
    )

    result = client.checkout_cart(CONTOSO_TENANT, cart_id, request_id="44444444-aaaa-4aaa-8aaa-444444444444")

    assert [(o.id, o.status) for o in result.orders] == [("order-0001", "pending")]
    assert result.orders[0].line_items == (
        PartnerOrderLine(
            "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ", None, 2, "1234567"
        ),  # no subscription while pending
    )
    assert [(e.code, e.description) for e in result.errors] == [
        (800010, "Inventory is not available for the selected product.")
    ]
    assert sent(mocked).body is None
    assert sent(mocked).headers["MS-RequestId"] == "44444444-aaaa-4aaa-8aaa-444444444444"
    assert records[0].ids["order_ids"] == "order-0001"


def test_checkout_conflict_is_permanent_with_code(client, mocked):
    mocked.post(
        f"{API}/v1/customers/{CONTOSO_TENANT}/carts/cart-1/checkout",
        status=409,
        json=load("error_409_order_in_progress.json"),
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.checkout_cart(CONTOSO_TENANT, "cart-1", request_id="r")
    assert (info.value.status, info.value.code) == (409, 800060)
    assert client.call_count == 1


def test_get_order(client, mocked):
    mocked.get(f"{API}/v1/customers/{CONTOSO_TENANT}/orders/order-0001", json=load("order_completed.json"))

    order = client.get_order(CONTOSO_TENANT, "order-0001")

    assert (order.id, order.status) == ("order-0001", "completed")
    assert order.line_items == (
        PartnerOrderLine(
            offer_id="CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ",
            subscription_id="a1b2c3d4-0000-4000-8000-00000000aaaa",
            quantity=2,
            partner_id_on_record="1234567",
        ),
    )


def test_an_order_whose_line_items_are_not_a_list_is_refused(client, mocked):
    mocked.get(
        f"{API}/v1/customers/{CONTOSO_TENANT}/orders/order-0001",
        json={"id": "order-0001", "status": "completed", "lineItems": {"subscriptionId": "x"}},
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.get_order(CONTOSO_TENANT, "order-0001")
    assert "lineItems" in str(info.value)


def test_get_missing_order_raises_not_found(client, mocked):
    mocked.get(f"{API}/v1/customers/{CONTOSO_TENANT}/orders/nope", status=404, json={"code": 0})

    with pytest.raises(NotFound):
        client.get_order(CONTOSO_TENANT, "nope")


def test_a_cart_line_carries_attestation_and_its_seat_cap_error_comes_back_typed(client, mocked):
    mocked.post(
        f"{API}/v1/customers/{CONTOSO_TENANT}/carts",
        status=201,
        json={
            "id": "cart-1",
            "status": "Active",
            "lineItems": [
                {
                    "id": 0,
                    "catalogItemId": "CFQ7TTC0LCHC:0002:CFQ7TTC0ABCD",
                    "error": {"errorCode": 800067, "errorDescription": "Limit", "availableQuantity": 12},
                }
            ],
        },
    )

    cart = client.create_cart(
        CONTOSO_TENANT,
        [CartLine("CFQ7TTC0LCHC:0002:CFQ7TTC0ABCD", 20, "monthly", "P1Y", attestation_accepted=True)],
        request_id="11111111-1111-4111-8111-111111111111",
    )

    assert json.loads(mocked.calls[0].request.body)["lineItems"][0]["attestationAccepted"] is True
    (error,) = cart.line_errors
    assert (error.line_id, error.code, error.available_quantity) == (0, 800067, 12)


def test_new_customer_accepts_the_mca_then_orders_with_the_reseller_as_partner_of_record(
    sandbox_server: SandboxServer, live: PartnerCenterClient
) -> None:
    created = live.create_customer(sandbox_new_customer("fourthcoffee"), request_id=str(uuid.uuid4()))
    tenant_id = created.tenant_id

    template_id = live.customer_agreement_template_id()
    assert template_id == MCA_TEMPLATE_ID
    live.accept_customer_agreement(
        tenant_id,
        contact=AgreementContact(first_name="Jane", last_name="Doe", email="jane@fourthcoffee.example"),
        template_id=template_id,
        date_agreed=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        request_id=str(uuid.uuid4()),
    )
    assert sandbox_server.state.customers[tenant_id].mca_accepted

    cart = live.create_cart(
        tenant_id, [CartLine(OFFER, 3, partner_id_on_record="1234567")], request_id=str(uuid.uuid4())
    )
    assert cart.status == "Active"
    stored_cart = sandbox_server.state.carts[cart.id]
    assert stored_cart["partnerOnRecordAttestationAccepted"] is True
    assert stored_cart["lineItems"][0]["participants"] == [
        {"key": "transaction_reseller", "value": "1234567"}
    ]

    result = live.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4()))
    assert result.errors == ()
    (order,) = result.orders
    assert order.status == "completed"
    assert sandbox_server.state.orders[order.id]["lineItems"][0]["partnerIdOnRecord"] == "1234567"

    assert live.get_order(tenant_id, order.id) == order


def test_checkout_before_the_mca_is_refused_with_13605_and_succeeds_after_acceptance(
    live: PartnerCenterClient,
) -> None:
    tenant_id = live.create_customer(
        sandbox_new_customer("fourthcoffee"), request_id=str(uuid.uuid4())
    ).tenant_id
    cart = live.create_cart(
        tenant_id, [CartLine(OFFER, 1, partner_id_on_record="1234567")], request_id=str(uuid.uuid4())
    )

    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4()))
    assert raised.value.status == 403
    assert raised.value.code == 13605

    live.accept_customer_agreement(
        tenant_id,
        contact=AgreementContact(first_name="Jane", last_name="Doe", email="jane@fourthcoffee.example"),
        template_id=live.customer_agreement_template_id(),
        date_agreed=datetime.now(UTC),
        request_id=str(uuid.uuid4()),
    )
    assert len(live.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4())).orders) == 1


def test_checkout_reports_per_order_errors_inside_a_successful_answer(live: PartnerCenterClient) -> None:
    tenant_id = ALPINE  # accepted in the portal, so the MCA is already in place
    cart = live.create_cart(
        tenant_id,
        [
            CartLine(OFFER, 1, partner_id_on_record="1234567"),
            CartLine("UNAVAILABLE1:0001:0001", 1, partner_id_on_record="1234567"),
        ],
        request_id=str(uuid.uuid4()),
    )

    result = live.checkout_cart(tenant_id, cart.id, request_id=str(uuid.uuid4()))

    assert len(result.orders) == 1
    assert [(e.code, e.description) for e in result.errors] == [(800010, "Inventory is not available.")]


@pytest.mark.parametrize(
    ("mpn_id", "status", "code"),
    [
        pytest.param("4567890", 400, 800016, id="reseller-outside-the-network"),
        pytest.param("3456789", 403, 900123, id="reseller-without-a-signed-mpa"),
        pytest.param("5123456", 404, 2072, id="the-distributor-itself"),
    ],
)
def test_cart_with_an_invalid_partner_of_record_is_a_permanent_error_with_microsofts_code(
    sandbox_server: SandboxServer, live: PartnerCenterClient, mpn_id: str, status: int, code: int
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.create_cart(
            ALPINE, [CartLine(OFFER, 1, partner_id_on_record=mpn_id)], request_id=str(uuid.uuid4())
        )

    assert not isinstance(raised.value, TransientPartnerCenterError)
    assert raised.value.status == status
    assert raised.value.code == code
    assert mpn_id in (raised.value.description or "")
    assert raised.value.request_id
    assert sandbox_server.state.carts == {}


def test_orders_of_a_tenant_without_a_relationship_are_refused_with_20002(
    live: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.get_order(CONTOSO, "any-order")

    assert raised.value.status == 403
    assert raised.value.code == 20002


def test_get_order_of_an_unknown_order_is_not_found(live: PartnerCenterClient) -> None:
    with pytest.raises(NotFound) as raised:
        live.get_order(ALPINE, "0" * 32)

    assert raised.value.code == 800005
