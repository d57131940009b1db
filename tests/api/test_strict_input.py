"""The API takes input exactly as its schema states: wrong JSON types, formats outside the patterns and a reseller's
fields from a direct customer are refused with 400, never coerced or ignored."""

import pytest

from billing.models import Order
from csp.models import TenantAuthorization
from storefront.customers.models import EndCustomer
from tests.api.conftest import api_client_for, assert_error
from tests.shared import API_AGREEMENT

pytestmark = pytest.mark.django_db

AGREEMENT = API_AGREEMENT


def order(client, body, key="strict-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/orders/", body, format="json", **headers)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"domain_prefix": 0}, "domain_prefix"),
        ({"domain_prefix": True}, "domain_prefix"),
        ({"domain_prefix": ["contoso"]}, "domain_prefix"),
        ({"domain_prefix": "CONTOSO"}, "domain_prefix"),
        ({"domain_prefix": " contoso"}, "domain_prefix"),
        ({"domain_prefix": "contoso.onmicrosoft.com"}, "domain_prefix"),
        ({"domain_prefix": "a" * 28}, "domain_prefix"),
        ({"domain_prefix": "contoso", "mpn_id": 1234567}, "mpn_id"),
        ({"domain_prefix": "contoso", "mpn_id": "12345a"}, "mpn_id"),
        ({"domain_prefix": "contoso", "end_customer": "1"}, "end_customer"),
        ({"domain_prefix": "contoso", "end_customer": 1.0}, "end_customer"),
        ({"domain_prefix": "contoso", "end_customer": True}, "end_customer"),
    ],
)
def test_authorization_input_of_the_wrong_type_or_format_is_refused(owner_api, body, field, sandbox):
    error = assert_error(owner_api.post("/api/v1/authorizations/", body, format="json"), 400, "invalid")
    assert field in error["fields"], error
    assert not TenantAuthorization.objects.exists()


@pytest.mark.parametrize("mpn_id", [0, 1234567, True, None, "", " 1234567", "1234567890123", "１２３"])
def test_mpn_validation_takes_digits_as_a_string_only(owner_api, mpn_id, sandbox):
    response = owner_api.post("/api/v1/mpn-validations/", {"mpn_id": mpn_id}, format="json")
    assert "mpn_id" in assert_error(response, 400, "invalid")["fields"]


def test_the_domain_check_takes_the_prefix_exactly_as_the_schema_says(owner_api, sandbox):
    assert owner_api.get("/api/v1/domains/contoso/").json()["available"] is False
    for prefix in ["CONTOSO", "contoso.onmicrosoft.com", "con-toso", "a" * 28]:
        error = assert_error(owner_api.get(f"/api/v1/domains/{prefix}/"), 400, "invalid")
        assert "letters (a-z) and digits" in error["message"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"lines": [{"product": "1", "quantity": 1}]}, "lines.0.product"),
        ({"lines": [{"product": 1, "quantity": "3"}]}, "lines.0.quantity"),
        ({"customer_agreement": {**AGREEMENT, "accepted": "true"}}, "customer_agreement.accepted"),
        ({"customer_agreement": {**AGREEMENT, "accepted": 1}}, "customer_agreement.accepted"),
        ({"customer_agreement": {**AGREEMENT, "accepted": False}}, "customer_agreement.accepted"),
        ({"customer_agreement": {**AGREEMENT, "email": 5}}, "customer_agreement.email"),
        ({"domain_prefix": None}, "domain_prefix"),
        ({"domain_prefix": "Fabrikam"}, "domain_prefix"),
        ({"authorization": 3}, "domain_prefix"),  # both a new tenant and an existing one
        ({"mpn_id": 1234567}, "mpn_id"),
    ],
)
def test_order_input_of_the_wrong_type_or_format_is_refused(
    owner_api, contoso, product, change, field, sandbox
):
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "end_customer": contoso.pk,
        "domain_prefix": "fabrikamnew",
        "customer_agreement": AGREEMENT,
        **change,
    }
    error = assert_error(order(owner_api, body), 400, "invalid")
    assert field in error["fields"], error
    assert not Order.objects.exists()


def test_the_agreement_must_be_accepted_in_the_customers_words(owner_api, contoso, product, sandbox):
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "end_customer": contoso.pk,
        "domain_prefix": "fabrikamnew",
        "customer_agreement": {**AGREEMENT, "accepted": False},
    }
    error = assert_error(order(owner_api, body), 400, "invalid")
    assert error["message"].endswith(
        "must accept the Microsoft Customer Agreement before the order is placed."
    )


def test_an_idempotency_key_outside_its_pattern_is_refused(owner_api, contoso, product, sandbox):
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "end_customer": contoso.pk,
        "domain_prefix": "fabrikamnew",
        "customer_agreement": AGREEMENT,
    }
    for key in ["a" * 101, "with space", "é"]:
        assert "Idempotency-Key" in assert_error(order(owner_api, body, key=key), 400, "invalid")["fields"]
    assert_error(order(owner_api, body, key=None), 400, "idempotency_key_required")


def test_end_customer_text_is_measured_as_sent_and_the_country_is_a_code(owner_api):
    base = {
        "company_name": "Contoso Ltd",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@contoso.com",
    }
    padded = {**base, "company_name": " " * 250 + "Contoso Ltd"}
    assert (
        "company_name"
        in assert_error(owner_api.post("/api/v1/end-customers/", padded, format="json"), 400, "invalid")[
            "fields"
        ]
    )
    for country in ["us", "USA", 1]:
        body = {**base, "country": country}
        response = owner_api.post("/api/v1/end-customers/", body, format="json")
        assert "country" in assert_error(response, 400, "invalid")["fields"]
    assert (
        owner_api.post("/api/v1/end-customers/", {**base, "phone": 4255550101}, format="json").status_code
        == 400
    )
    assert not EndCustomer.objects.exists()


def test_a_direct_customer_may_not_send_a_resellers_fields(direct_user, product, sandbox):
    client = api_client_for(direct_user)
    refused = client.post(
        "/api/v1/authorizations/", {"domain_prefix": "woodgrove", "mpn_id": "1234567"}, format="json"
    )
    assert "mpn_id" in assert_error(refused, 400, "invalid")["fields"]
    assert not TenantAuthorization.objects.exists()
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "domain_prefix": "woodgrovenew",
        "customer_agreement": AGREEMENT,
    }
    assert "mpn_id" in assert_error(order(client, {**body, "mpn_id": "1234567"}), 400, "invalid")["fields"]
    assert (
        "end_customer" in assert_error(order(client, {**body, "end_customer": 1}), 400, "invalid")["fields"]
    )
    assert not Order.objects.exists()
    # An empty MPN ID or a null end-customer say "none", which a direct customer may send.
    created = client.post(
        "/api/v1/authorizations/", {"domain_prefix": "woodgrove", "mpn_id": ""}, format="json"
    )
    assert created.status_code == 201, created.content
