"""Orders: the same rules as Place order, idempotent by key, placed with the sandbox by the worker."""

import pytest

from billing.models import Order
from tests.api.conftest import api_client_for, assert_error, sandbox_faults
from tests.factories import (
    EndCustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ResellerMpnIdFactory,
    TenantAuthorizationFactory,
)
from tests.pc_sandbox import accept_invitation, sandbox_state
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN, FABRIKAM_TENANT, OUTSIDE_MPN
from tests.shared import API_AGREEMENT

pytestmark = pytest.mark.django_db
AGREEMENT = API_AGREEMENT


def order_body(product, end_customer=None, **extra):
    body = {"lines": [{"product": product.pk, "quantity": 3}], "customer_agreement": AGREEMENT, **extra}
    if end_customer is not None:
        body["end_customer"] = end_customer.pk
    return body


def place(client, body, key="order-key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/orders/", body, format="json", **headers)


def verified_authorization(client, sandbox, end_customer) -> int:
    """The existing-tenant flow up to a verified authorization, through the API."""
    created = client.post(
        "/api/v1/authorizations/",
        {"domain_prefix": "contoso", "end_customer": end_customer.pk},
        format="json",
    ).json()
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com")
    verified = client.post(
        f"/api/v1/authorizations/{created['id']}/verify/", {"default_domain": "contoso.com"}, format="json"
    ).json()
    assert verified["status"] == "verified", verified
    return created["id"]


def test_existing_tenant_order_completes_with_the_resellers_mpn_as_partner_of_record(
    owner_api, contoso, product, sandbox, eager_worker, django_capture_on_commit_callbacks
):
    authorization_id = verified_authorization(owner_api, sandbox, contoso)
    with django_capture_on_commit_callbacks(execute=True):
        response = place(owner_api, order_body(product, contoso, authorization=authorization_id))
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "number", "status"}
    assert created["number"].startswith("SO-")
    assert response["Location"] == f"/api/v1/orders/{created['id']}/"

    detail = owner_api.get(f"/api/v1/orders/{created['id']}/").json()
    assert set(detail) == {"id", "number", "status", "lines", "customer_tenant_id", "failure_reason"}
    assert detail["status"] == "completed", detail
    assert detail["customer_tenant_id"] == CONTOSO_TENANT
    assert detail["failure_reason"] is None
    assert detail["lines"][0]["product"] == product.pk
    assert detail["lines"][0]["quantity"] == 3
    order = Order.objects.get()
    assert order.partner_mpn_id == FABRIKAM_MPN
    carts = list(sandbox.state.carts.values())
    assert len(carts) == 1
    assert carts[0]["lineItems"][0]["participants"] == [
        {"key": "transaction_reseller", "value": FABRIKAM_MPN}
    ]
    assert sandbox_state(sandbox)["counts"]["orders"] == 1


def test_new_tenant_order_creates_the_customer_under_the_reseller(
    owner_api, contoso, product, sandbox, eager_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = place(owner_api, order_body(product, contoso, domain_prefix="contosonew"))
    assert response.status_code == 201, response.content
    detail = owner_api.get(f"/api/v1/orders/{response.json()['id']}/").json()
    assert detail["status"] == "completed", detail
    customer = sandbox.state.customers[detail["customer_tenant_id"]]
    assert customer.associated_partner_id == FABRIKAM_TENANT


def test_direct_customer_orders_a_new_tenant_for_itself(
    direct_user, product, sandbox, eager_worker, django_capture_on_commit_callbacks
):
    client = api_client_for(direct_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = place(client, order_body(product, domain_prefix="woodgrovenew"))
    assert response.status_code == 201, response.content
    assert client.get(f"/api/v1/orders/{response.json()['id']}/").json()["status"] == "completed"


def test_same_key_and_body_answer_the_same_order_and_another_body_conflicts(
    owner_api, contoso, product, sandbox
):
    body = order_body(product, contoso, domain_prefix="fabrikamnew42")
    first = place(owner_api, body)
    assert first.status_code == 201, first.content
    again = place(owner_api, body)
    assert again.status_code == 200
    assert again.json() == first.json()
    other = place(owner_api, {**body, "lines": [{"product": product.pk, "quantity": 4}]})
    assert_error(other, 409, "idempotency_conflict")
    assert Order.objects.count() == 1
    # Another key is another order.
    assert place(owner_api, body, key="order-key-2").status_code == 201
    assert Order.objects.count() == 2


def test_a_resent_order_still_answers_after_its_product_is_withdrawn(owner_api, contoso, product, sandbox):
    """The order was placed while the product was sold: a resend (the client lost the answer) gets that order, not
    `product_withdrawn`, so the client never places it again elsewhere; a new key is refused by name."""
    body = order_body(product, contoso, domain_prefix="fabrikamnew42")
    first = place(owner_api, body)
    assert first.status_code == 201, first.content
    product.is_active = False
    product.save()
    again = place(owner_api, body)
    assert (again.status_code, again.json()) == (200, first.json())
    error = assert_error(place(owner_api, body, key="order-key-2"), 400, "product_withdrawn")
    assert product.name in error["message"]
    assert Order.objects.count() == 1


def test_a_resent_order_still_answers_while_ordering_is_paused(
    owner_api, contoso, product, sandbox, monkeypatch
):
    """The Partner Center connection broke after the order was placed: a resend (the client lost the answer)
    gets that order (200), not 503 "ordering is paused", so the client never concludes it was not placed; a new
    key is still refused while paused."""
    from csp import connect

    body = order_body(product, contoso, domain_prefix="fabrikamnew42")
    first = place(owner_api, body)
    assert first.status_code == 201, first.content
    monkeypatch.setattr(connect, "partner_center_connected", lambda: False)

    again = place(owner_api, body)

    assert (again.status_code, again.json()) == (200, first.json())
    assert_error(place(owner_api, body, key="order-key-2"), 503, "partner_center_unavailable")
    assert Order.objects.count() == 1


def test_a_teammate_reusing_the_key_gets_the_organisations_order(
    owner_api, teammate, contoso, product, sandbox
):
    body = order_body(product, contoso, domain_prefix="fabrikamnew42")
    first = place(owner_api, body).json()
    assert place(api_client_for(teammate), body).json()["id"] == first["id"]


def test_the_idempotency_key_is_required(owner_api, contoso, product):
    body = assert_error(
        place(owner_api, order_body(product, contoso, domain_prefix="x"), key=None),
        400,
        "idempotency_key_required",
    )
    assert "Idempotency-Key" in body["fields"]
    assert_error(place(owner_api, order_body(product, contoso), key="   "), 400, "idempotency_key_required")
    assert_error(place(owner_api, order_body(product, contoso), key="k" * 101), 400, "invalid")
    assert Order.objects.count() == 0


def test_a_taken_prefix_answers_409_domain_taken(owner_api, contoso, product, sandbox):
    body = assert_error(
        place(owner_api, order_body(product, contoso, domain_prefix="contoso")), 409, "domain_taken"
    )
    assert "already registered in Microsoft Portal by another tenant" in body["message"]
    assert Order.objects.count() == 0


def test_an_unverified_authorization_answers_409(owner, owner_api, contoso, product, sandbox):
    authorization = TenantAuthorizationFactory(organization=owner.organization, end_customer=contoso)
    response = place(owner_api, order_body(product, contoso, authorization=authorization.pk))
    body = assert_error(response, 409, "authorization_not_verified")
    assert body["message"].startswith("The authorization has not been completed yet")


def test_another_organisations_authorization_is_refused(owner_api, outsider, contoso, product, sandbox):
    foreign = TenantAuthorizationFactory(organization=outsider.organization, verified=True)
    body = assert_error(
        place(owner_api, order_body(product, contoso, authorization=foreign.pk)), 400, "invalid"
    )
    assert "authorization" in body["fields"]


def test_missing_billing_address_answers_400_when_the_switch_is_on(
    owner_api, reseller, product, storefront_config
):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    bare = EndCustomerFactory(
        reseller=reseller, address_line1="", city="", postal_code="", country="", state=""
    )
    response = place(owner_api, order_body(product, bare, domain_prefix="fabrikamnew42"))
    assert_error(response, 400, "billing_address_required")


def test_an_mpn_id_outside_the_network_answers_400(owner_api, reseller, contoso, product, sandbox):
    ResellerMpnIdFactory(organization=reseller, mpn_id=OUTSIDE_MPN)
    response = place(
        owner_api, order_body(product, contoso, domain_prefix="fabrikamnew42", mpn_id=OUTSIDE_MPN)
    )
    body = assert_error(response, 400, "mpn_not_in_network")
    assert "by accepting the Microsoft Partner Agreement" in body["message"]


@pytest.mark.parametrize(
    "tenant",
    [
        {},
        {"domain_prefix": "fabrikamnew42", "authorization": 1},
    ],
)
def test_exactly_one_of_domain_prefix_and_authorization(owner_api, contoso, product, tenant):
    body = assert_error(place(owner_api, order_body(product, contoso, **tenant)), 400, "invalid")
    assert "exactly one of domain_prefix" in body["fields"]["domain_prefix"][0]


def test_input_errors_are_named_per_field(owner_api, contoso, product, sandbox):
    cases = [
        ({"lines": []}, "lines"),
        ({"lines": [{"product": product.pk, "quantity": 0}]}, "lines.0.quantity"),
        ({"customer_agreement": {**AGREEMENT, "accepted": False}}, "customer_agreement.accepted"),
        ({"customer_agreement": {**AGREEMENT, "email": "nope"}}, "email"),
        ({"end_customer": EndCustomerFactory().pk}, "end_customer"),
        ({"domain_prefix": "bad_prefix"}, "domain_prefix"),
    ]
    for index, (change, field) in enumerate(cases):
        body = {**order_body(product, contoso, domain_prefix="fabrikamnew42"), **change}
        error = assert_error(place(owner_api, body, key=f"k{index}"), 400, "invalid")
        assert field in error["fields"], (change, error)
    assert Order.objects.count() == 0


def test_a_product_no_longer_sold_is_refused_by_name_and_nothing_is_ordered(
    owner_api, contoso, product, sandbox
):
    withdrawn = ProductFactory(name="Office 365 E1 (retired)", is_active=False)
    body = order_body(product, contoso, domain_prefix="fabrikamnew42")
    body["lines"].append({"product": withdrawn.pk, "quantity": 2})
    error = assert_error(place(owner_api, body), 400, "product_withdrawn")
    message = f"Office 365 E1 (retired) (product {withdrawn.pk}) is no longer sold: remove it to continue."
    assert error["message"] == message
    assert error["fields"] == {"lines": [message]}
    body["lines"] = [{"product": 999999, "quantity": 1}]
    error = assert_error(place(owner_api, body, key="order-key-2"), 400, "product_withdrawn")
    assert error["message"] == "Product 999999 is no longer sold: remove it to continue."
    assert Order.objects.count() == 0


def test_order_answers_503_when_partner_center_is_down(owner_api, contoso, product, sandbox):
    sandbox_faults(sandbox, {"fail": {"count": 20, "status": 501}})
    response = place(owner_api, order_body(product, contoso, domain_prefix="fabrikamnew42"))
    assert_error(response, 503, "partner_center_unavailable")
    assert Order.objects.count() == 0


def test_orders_are_visible_to_the_organisation_only(owner, teammate, outsider):
    order = OrderFactory(
        organization=owner.organization, status="failed", failure_reason="Microsoft said no."
    )
    OrderLineFactory(order=order)
    path = f"/api/v1/orders/{order.pk}/"
    body = api_client_for(owner).get(path).json()
    assert body["number"] == order.number
    assert body["failure_reason"] == "Microsoft said no."
    assert body["customer_tenant_id"] is None
    assert len(body["lines"]) == 1
    assert api_client_for(teammate).get(path).status_code == 200
    assert_error(api_client_for(outsider).get(path), 404, "not_found")
    assert_error(api_client_for(owner).get("/api/v1/orders/999999/"), 404, "not_found")
