"""The catalog, and end-customers: resellers only, within their organisation, after Microsoft's data rules."""

import pytest

from storefront.customers.models import EndCustomer
from tests.api.conftest import api_client_for, assert_error
from tests.factories import EndCustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

NEW_CUSTOMER = {
    "company_name": "Tailwind Traders",
    "first_name": "Megan",
    "last_name": "Bowen",
    "email": "megan@tailwindtraders.example",
    "phone": "+1 425 555 0101",
}
ADDRESS = {
    "address_line1": "1 Microsoft Way",
    "city": "Redmond",
    "state": "WA",
    "postal_code": "98052",
    "country": "US",
}


def test_products_lists_the_active_catalog_at_the_callers_price(owner_api, direct_user):
    basic = ProductFactory(name="Microsoft 365 Business Basic", price="72.00", erp_price="90.00")
    ProductFactory(name="Withdrawn plan", is_active=False)
    ProductFactory(name="Education plan", segment="education")
    for client in (owner_api, api_client_for(direct_user)):
        response = client.get("/api/v1/products/")
        assert response.status_code == 200
        assert [p["name"] for p in response.json()["results"]] == [basic.name]
    first = owner_api.get("/api/v1/products/").json()["results"][0]
    assert first["id"] == basic.pk and first["product_id"] == basic.product_id and first["sku_id"] == "0001"
    assert (first["price"], first["monthly_price"], first["retail_price"]) == ("79.20", "6.60", "90.00")
    assert (first["segment"], first["term_duration"], first["currency"]) == ("commercial", "P1Y", "USD")
    assert api_client_for(direct_user).get("/api/v1/products/").json()["results"][0]["price"] == "90.00"


def test_products_filters_and_page_size(owner_api):
    ProductFactory(name="Microsoft 365 Business Basic", term_duration="P1M", billing_cycle="monthly")
    annual = ProductFactory(name="Microsoft 365 Business Basic", billing_cycle="annual")
    ProductFactory(name="Power BI Pro", billing_cycle="annual")

    body = owner_api.get("/api/v1/products/?search=basic&term=P1Y&billing=annual&page_size=1").json()

    assert body["count"] == 1 and [p["id"] for p in body["results"]] == [annual.pk]
    assert owner_api.get("/api/v1/products/?page_size=1").json()["next"]
    assert owner_api.get("/api/v1/products/?segment=education").json()["count"] == 0


def test_reseller_creates_an_end_customer_without_address_when_the_switch_is_off(owner_api, reseller):
    response = owner_api.post("/api/v1/end-customers/", NEW_CUSTOMER, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["company_name"] == "Tailwind Traders"
    assert body["tenant_id"] is None
    assert body["country"] == ""
    created = EndCustomer.objects.get(pk=body["id"])
    assert created.reseller == reseller


def test_end_customer_address_is_required_when_the_admin_switch_is_on(owner_api, storefront_config):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    body = assert_error(owner_api.post("/api/v1/end-customers/", NEW_CUSTOMER, format="json"), 400, "invalid")
    assert set(body["fields"]) == {"address_line1", "city", "postal_code", "country"}
    response = owner_api.post("/api/v1/end-customers/", {**NEW_CUSTOMER, **ADDRESS}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["country"] == "US"


def test_end_customer_follows_microsofts_data_rules_field_by_field(owner_api):
    response = owner_api.post(
        "/api/v1/end-customers/",
        {**NEW_CUSTOMER, **ADDRESS, "email": "not-an-email", "postal_code": "ABCDE"},
        format="json",
    )
    body = assert_error(response, 400, "invalid")
    assert {"email", "postal_code"} <= set(body["fields"])
    assert EndCustomer.objects.count() == 0


def test_end_customer_missing_required_fields_are_named(owner_api):
    body = assert_error(owner_api.post("/api/v1/end-customers/", {}, format="json"), 400, "invalid")
    assert {"company_name", "first_name", "last_name", "email"} <= set(body["fields"])


def test_end_customers_are_scoped_to_the_organisation(owner_api, teammate, outsider, contoso):
    mine = owner_api.get("/api/v1/end-customers/")
    assert [c["id"] for c in mine.json()] == [contoso.pk]
    teammate_api = api_client_for(teammate)
    assert teammate_api.get(f"/api/v1/end-customers/{contoso.pk}/").json()["company_name"] == "Contoso Ltd"
    outsider_api = api_client_for(outsider)
    assert outsider_api.get("/api/v1/end-customers/").json() == []
    assert_error(outsider_api.get(f"/api/v1/end-customers/{contoso.pk}/"), 404, "not_found")
    assert_error(owner_api.get("/api/v1/end-customers/999999/"), 404, "not_found")


def test_direct_customers_have_no_end_customers(direct_user):
    client = api_client_for(direct_user)
    body = assert_error(client.get("/api/v1/end-customers/"), 403, "forbidden")
    assert "Only resellers" in body["message"]
    assert_error(client.post("/api/v1/end-customers/", NEW_CUSTOMER, format="json"), 403, "forbidden")
    other = EndCustomerFactory()
    assert_error(client.get(f"/api/v1/end-customers/{other.pk}/"), 403, "forbidden")
