"""Customers (list, detail, create), address validation, MCA, carts, checkout and orders."""

from __future__ import annotations

import json
import time

import pytest

from csp.sandbox.server import SandboxServer

from .conftest import ALPINE, CONTOSO, FABRIKAM, TAILSPIN, Api, cart_body, customer_body, mca_body


def test_only_related_tenants_are_customers_at_start(api: Api) -> None:
    body = api.get("/v1/customers?size=50").json()
    assert [c["id"] for c in body["items"]] == [ALPINE]
    alpine = body["items"][0]
    assert alpine["companyProfile"]["domain"] == "alpineskihouse.onmicrosoft.com"
    assert alpine["relationshipToPartner"] == "reseller"
    assert api.get(f"/v1/customers/{CONTOSO}").status_code == 404


def test_customer_detail_and_its_indirect_resellers(api: Api) -> None:
    detail = api.get(f"/v1/customers/{ALPINE}").json()
    assert detail["companyProfile"]["tenantId"] == ALPINE
    assert detail["customDomains"] == ["alpineskihouse.com"]
    relationships = api.get(f"/v1/customers/{ALPINE}/relationships").json()
    assert [(r["id"], r["mpnId"]) for r in relationships["items"]] == [(FABRIKAM, "1234567")]
    assert api.get(f"/v1/customers/{CONTOSO}/relationships").status_code == 404


def test_customer_list_pages_with_continuation_and_filters(api: Api, anon: Api) -> None:
    for domain in ("contoso.com", "wingtiptoys.com", "woodgrovebank.com"):
        anon.post("/_sandbox/accept", json={"domain": domain})
    first = api.get("/v1/customers?size=3").json()
    assert first["totalCount"] == 3
    nxt = first["links"]["next"]
    assert nxt["uri"].startswith("/v1/customers?")
    second = api.get(nxt["uri"], headers={h["key"]: h["value"] for h in nxt["headers"]}).json()
    assert len(second["items"]) == 1 and "next" not in second["links"]
    by_domain = json.dumps({"Field": "Domain", "Value": "WING", "Operator": "starts_with"})
    found = api.get("/v1/customers", params={"size": 0, "filter": by_domain}).json()["items"]
    assert [c["companyProfile"]["domain"] for c in found] == ["wingtiptoys.onmicrosoft.com"]
    by_reseller = json.dumps({"Field": "IndirectReseller", "Value": FABRIKAM, "Operator": "starts_with"})
    assert [c["id"] for c in api.get("/v1/customers", params={"filter": by_reseller}).json()["items"]] == [
        ALPINE
    ]
    by_name = json.dumps({"Field": "CompanyName", "Value": "contoso", "Operator": "starts_with"})
    assert [c["id"] for c in api.get("/v1/customers", params={"filter": by_name}).json()["items"]] == [
        CONTOSO
    ]
    bad = json.dumps({"Field": "Domain", "Value": "x", "Operator": "equals"})
    assert api.get("/v1/customers", params={"filter": bad}).status_code == 400


@pytest.mark.parametrize(
    ("address", "status"),
    [
        (
            {"AddressLine1": "1 Microsoft Way", "City": "Redmond", "State": "WA", "PostalCode": "98052"},
            "VerifiedShippable",
        ),
        ({"AddressLine1": "1 Microsoft Way", "City": "Redmond", "State": "WA"}, "None"),
        ({"AddressLine1": "1 Microsoft Way", "State": "WA", "PostalCode": "98052"}, "None"),
        (
            {"AddressLine1": "Microsoft Way", "City": "Redmond", "State": "WA", "PostalCode": "98052"},
            "StreetPartial",
        ),
        (
            {"AddressLine1": "1 Microsoft Way", "City": "Redmond", "State": "ZZ", "PostalCode": "98052"},
            "None",
        ),
    ],
)
def test_address_validation_current_shape(api: Api, address: dict, status: str) -> None:
    answer = api.post("/v1/validations/address", json={**address, "Country": "US"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == status
    assert body["originalAddress"]["country"] == "US"
    if status == "StreetPartial":
        assert body["suggestedAddresses"][0]["addressLine1"] == "1 Microsoft Way"
        assert body["suggestedAddresses"][0]["postalCode"].startswith("98052-")
    if status == "None":
        assert body["suggestedAddresses"] == [] and body["validationMessage"]


def test_address_validation_in_other_countries(api: Api) -> None:
    address = {"AddressLine1": "Hauptstrasse 5", "City": "Berlin", "PostalCode": "10115", "Country": "DE"}
    assert api.post("/v1/validations/address", json=address).json()["status"] == "VerifiedShippable"
    assert api.post("/v1/validations/address", json={"City": "x"}).status_code == 400


def test_create_customer_returns_the_documented_shape(api: Api, server: SandboxServer) -> None:
    answer = api.post("/v1/customers", json=customer_body("fourthcoffee", AssociatedPartnerId=FABRIKAM))
    assert answer.status_code == 201
    body = answer.json()
    assert body["id"] == body["commerceId"] == body["companyProfile"]["tenantId"]
    assert body["companyProfile"]["domain"] == "fourthcoffee.onmicrosoft.com"
    assert body["billingProfile"]["defaultAddress"]["city"] == "Redmond"
    assert body["userCredentials"]["userName"] == "admin"
    assert len(body["userCredentials"]["password"]) >= 12
    assert body["associatedPartnerId"] == FABRIKAM
    assert body["relationshipToPartner"] == "reseller"
    assert api.head("/v1/domains/fourthcoffee.onmicrosoft.com").status_code == 200
    assert api.get(f"/v1/customers/{body['id']}").status_code == 200
    resellers = api.get(f"/v1/customers/{body['id']}/relationships").json()["items"]
    assert [r["id"] for r in resellers] == [FABRIKAM]
    assert body["id"] in server.state.customers


def test_create_customer_is_idempotent_on_request_id(api: Api, server: SandboxServer) -> None:
    headers = {"MS-RequestId": "6c2b8c3e-1111-4111-8111-000000000001"}
    first = api.post("/v1/customers", json=customer_body("fourthcoffee"), headers=headers)
    again = api.post("/v1/customers", json=customer_body("fourthcoffee"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(server.state.customers) == 2
    other = api.post("/v1/customers", json=customer_body("fourthcoffee"), headers={"MS-RequestId": "other"})
    assert other.status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (customer_body("contoso"), 600011),
        (customer_body("fourth-coffee"), 2000),
        (customer_body("x" * 28), 2000),
        (customer_body("fourthcoffee", AssociatedPartnerId=TAILSPIN), 800016),
        (customer_body("fourthcoffee", AssociatedPartnerId="99999999-9999-4999-8999-999999999999"), 800016),
        ({"CompanyProfile": {"Domain": "fourthcoffee.onmicrosoft.com"}}, 2000),
        (customer_body("fourthcoffee", userCredentials={"password": "x"}), 2000),
    ],
)
def test_create_customer_rejections(api: Api, body: dict, code: int) -> None:
    answer = api.post("/v1/customers", json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert answer.json()["source"] == "PartnerFD"


def test_create_customer_applies_company_name_rules(api: Api) -> None:
    body = customer_body("fourthcoffee")
    body["BillingProfile"]["CompanyName"] = "999"
    assert api.post("/v1/customers", json=body).status_code == 400


def test_body_that_is_not_json_is_a_400(api: Api) -> None:
    answer = api.post("/v1/customers", data=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["code"] == 2000


def _new_customer(api: Api, prefix: str = "fourthcoffee") -> str:
    return api.post("/v1/customers", json=customer_body(prefix, AssociatedPartnerId=FABRIKAM)).json()["id"]


def test_order_needs_the_customer_agreement_then_completes(api: Api, server: SandboxServer) -> None:
    customer_id = _new_customer(api)
    cart = api.post(f"/v1/customers/{customer_id}/carts", json=cart_body())
    assert cart.status_code == 201
    cart_json = cart.json()
    assert cart_json["status"] == "Active"
    assert cart_json["lineItems"][0]["participants"] == [{"key": "transaction_reseller", "value": "1234567"}]
    checkout_path = f"/v1/customers/{customer_id}/carts/{cart_json['id']}/checkout"
    refused = api.post(checkout_path)
    assert refused.status_code == 403
    assert refused.json()["code"] == 13605

    agreement = api.post(f"/v1/customers/{customer_id}/agreements", json=mca_body(api))
    assert agreement.status_code == 201
    result = api.post(checkout_path)
    assert result.status_code == 201
    body = result.json()
    assert body["orderErrors"] == []
    (order,) = body["orders"]
    assert order["status"] == "completed"
    assert order["lineItems"][0]["partnerIdOnRecord"] == "1234567"
    assert order["lineItems"][0]["quantity"] == 2
    assert api.get(f"/v1/customers/{customer_id}/orders/{order['id']}").json()["id"] == order["id"]
    assert len(server.state.orders) == 1

    second = api.post(checkout_path)
    assert second.status_code == 400
    assert second.json()["code"] == 800065


def test_cart_and_checkout_are_idempotent_on_request_id(api: Api, server: SandboxServer) -> None:
    path = f"/v1/customers/{ALPINE}/carts"
    first = api.post(path, json=cart_body(), headers={"MS-RequestId": "cart-1"})
    again = api.post(path, json=cart_body(), headers={"MS-RequestId": "cart-1"})
    assert first.json()["id"] == again.json()["id"]
    assert len(server.state.carts) == 1
    checkout = f"{path}/{first.json()['id']}/checkout"
    one = api.post(checkout, headers={"MS-RequestId": "co-1"})
    two = api.post(checkout, headers={"MS-RequestId": "co-1"})
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert len(server.state.orders) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (cart_body(catalogItemId="CFQ7TTC0LFLS-0002"), 400, 2000),
        (cart_body(quantity=0), 400, 2000),
        (cart_body(quantity="2"), 400, 2000),
        (cart_body(termDuration="P7Y"), 400, 2000),
        (cart_body("4567890"), 400, 800016),
        (cart_body("3456789"), 403, 900123),
        (cart_body("7654321"), 404, 800015),
        (cart_body("5123456"), 404, 2072),
        ({"lineItems": []}, 400, 2000),
    ],
)
def test_cart_validation(api: Api, body: dict, status: int, code: int) -> None:
    answer = api.post(f"/v1/customers/{ALPINE}/carts", json=body)
    assert answer.status_code == status
    assert answer.json()["code"] == code


def test_cart_for_a_tenant_without_relationship_is_refused(api: Api) -> None:
    answer = api.post(f"/v1/customers/{CONTOSO}/carts", json=cart_body())
    assert answer.status_code == 403
    assert answer.json()["code"] == 20002


def test_unavailable_items_come_back_as_order_errors(api: Api) -> None:
    body = cart_body()
    body["lineItems"].append({"id": 1, "catalogItemId": "UNAVAILABLE1:0001:0001", "quantity": 1})
    cart = api.post(f"/v1/customers/{ALPINE}/carts", json=body).json()
    result = api.post(f"/v1/customers/{ALPINE}/carts/{cart['id']}/checkout").json()
    assert len(result["orders"]) == 1
    assert result["orderErrors"] == [
        {"orderGroupId": "1", "code": 800010, "description": "Inventory is not available."}
    ]


def test_orders_can_stay_pending_for_a_while(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/config", json={"order_completion_seconds": 0.3})
    cart = api.post(f"/v1/customers/{ALPINE}/carts", json=cart_body()).json()
    order = api.post(f"/v1/customers/{ALPINE}/carts/{cart['id']}/checkout").json()["orders"][0]
    assert order["status"] == "pending"
    status = api.get(f"/v1/customers/{ALPINE}/orders/{order['id']}/provisioningstatus").json()
    assert status["items"][0]["status"] == "pending"
    time.sleep(0.35)
    assert api.get(f"/v1/customers/{ALPINE}/orders/{order['id']}").json()["status"] == "completed"
    assert api.get(f"/v1/customers/{ALPINE}/orders/nope").status_code == 404


def test_agreement_metadata_and_validation(api: Api) -> None:
    items = api.get("/v1/agreements?agreementType=MicrosoftCustomerAgreement").json()["items"]
    assert items[0]["templateId"] == "117a77b0-9360-443b-8795-c6dedc750cf9"
    bad = {**mca_body(api), "templateId": "00000000-0000-0000-0000-000000000000"}
    assert api.post(f"/v1/customers/{ALPINE}/agreements", json=bad).status_code == 400
    assert api.post(f"/v1/customers/{CONTOSO}/agreements", json=mca_body(api)).status_code == 404


def test_webhook_registration_lifecycle(api: Api) -> None:
    assert api.get("/webhooks/v1/registration").status_code == 404
    body = {
        "WebhookUrl": "https://shop.example/csp/webhooks/partner-center/",
        "WebhookEvents": ["test-created"],
    }
    created = api.post("/webhooks/v1/registration", json=body)
    assert created.status_code == 200
    assert created.json()["WebhookEvents"] == ["test-created"]
    assert api.post("/webhooks/v1/registration", json=body).status_code == 409
    updated = api.put(
        "/webhooks/v1/registration", json={**body, "WebhookEvents": ["granular-admin-relationship-approved"]}
    )
    assert updated.json()["WebhookEvents"] == ["granular-admin-relationship-approved"]
    assert api.get("/webhooks/v1/registration").json()["WebhookUrl"] == body["WebhookUrl"]
    assert api.post("/webhooks/v1/registration", json={**body, "WebhookEvents": ["nope"]}).status_code in (
        400,
        409,
    )
    assert api.put("/webhooks/v1/registration", json={**body, "WebhookEvents": ["nope"]}).status_code == 400


def test_unknown_route_and_wrong_method(api: Api) -> None:
    assert api.get("/v1/nothing-here").status_code == 404
    assert api.get("/v1/nothing-here").json()["source"] == "PartnerFD"
    assert api.delete("/v1/customers").status_code == 405
