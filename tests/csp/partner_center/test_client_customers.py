"""Customers: `get_customer`, `customer_relationships`, `customers_page`, `validate_address`, `create_customer`,
against documented answers and the sandbox."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest

from csp.partner_center import Customer
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import PermanentPartnerCenterError
from csp.partner_center.schemas import Address
from csp.sandbox.server import SandboxServer

from .helpers import (
    API,
    CONTOSO_TENANT,
    FABRIKAM_TENANT,
    body,
    load,
    new_customer,
    query,
    sent,
)
from .live import (
    ALPINE,
    CONTOSO,
    FABRIKAM,
    REDMOND,
    TAILSPIN,
    WINGTIP,
    control,
    sandbox_new_customer,
)


def test_get_customer_returns_typed_customer(client, mocked):
    tenant = "33333333-3333-4333-8333-000000000005"
    mocked.get(f"{API}/v1/customers/{tenant}", json=load("customer.json"))

    customer = client.get_customer(tenant)

    assert customer == Customer(
        tenant_id=tenant,
        domain="alpineskihouse.onmicrosoft.com",
        company_name="Alpine Ski House",
        relationship_to_partner="reseller",
        associated_partner_id=FABRIKAM_TENANT,
    )


def test_get_customer_without_relationship_is_none(client, mocked):
    mocked.get(f"{API}/v1/customers/{CONTOSO_TENANT}", status=404, json=load("error_404_customer.json"))
    mocked.get(
        f"{API}/v1/customers/{CONTOSO_TENANT}",
        status=403,
        json=load("error_403_no_commerce_relationship.json"),
    )

    assert client.get_customer(CONTOSO_TENANT) is None
    assert client.get_customer(CONTOSO_TENANT) is None


def test_get_customer_other_403_raises(client, mocked):
    mocked.get(
        f"{API}/v1/customers/{CONTOSO_TENANT}", status=403, json={"code": 900124, "description": "no MPA"}
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.get_customer(CONTOSO_TENANT)
    assert info.value.code == 900124


def test_customer_relationships_lists_the_reseller(client, mocked):
    mocked.get(f"{API}/v1/customers/{CONTOSO_TENANT}/relationships", json=load("customer_relationships.json"))

    relationships = client.customer_relationships(CONTOSO_TENANT)

    assert len(relationships) == 1
    assert relationships[0].tenant_id == FABRIKAM_TENANT
    assert relationships[0].mpn_id == "1234567"
    assert relationships[0].relationship_type == "is_indirect_reseller_of"


@pytest.mark.parametrize("payload", ["", "null", '{"totalCount": 0, "items": []}', '{"items": null}'])
def test_customer_relationships_empty_or_null_body_is_an_empty_list(client, mocked, payload):
    mocked.get(f"{API}/v1/customers/{CONTOSO_TENANT}/relationships", body=payload)

    assert client.customer_relationships(CONTOSO_TENANT) == []


def test_customers_page_costs_one_call_and_hands_back_the_continuation(client, mocked):
    mocked.get(f"{API}/v1/customers", json=load("customers_page1.json"))
    mocked.get(f"{API}/v1/customers", json=load("customers_page2.json"))

    first = client.customers_page(size=2)
    assert client.call_count == 1
    assert [c.domain for c in first.items] == [
        "alpineskihouse.onmicrosoft.com",
        "fourthcoffee.onmicrosoft.com",
    ]
    assert first.next is not None
    assert query(mocked, 0) == {"size": ["2"]}

    second = client.customers_page(continuation=first.next)

    assert client.call_count == 2
    assert [c.domain for c in second.items] == ["woodgrove.onmicrosoft.com"]
    assert second.next is None
    assert urlsplit(sent(mocked, 1).url).path == "/v1/customers"
    assert query(mocked, 1) == {"size": ["2"], "seekOperation": ["Next"]}
    assert sent(mocked, 1).headers["MS-ContinuationToken"] == "customers-page-2-token"


def test_customer_item_missing_company_profile_is_a_permanent_error(client, mocked):
    mocked.get(f"{API}/v1/customers", json={"items": [{"id": "x"}]})

    with pytest.raises(PermanentPartnerCenterError, match="companyProfile"):
        client.customers_page()


def test_validate_address_sends_the_address_and_reads_suggestions(client, mocked):
    mocked.post(f"{API}/v1/validations/address", json=load("address_validation_street_partial.json"))
    address = Address(
        country="US", city="Redmond", state="WA", address_line1="Microsoft Way", postal_code="98052"
    )

    result = client.validate_address(address)

    assert body(mocked) == {
        "AddressLine1": "Microsoft Way",
        "AddressLine2": None,
        "City": "Redmond",
        "State": "WA",
        "PostalCode": "98052",
        "Country": "US",
    }
    assert sent(mocked).headers["Content-Type"] == "application/json"
    assert result.status == "StreetPartial"
    assert result.verified is False
    assert result.suggested_addresses[0].address_line1 == "1 Microsoft Way"
    assert result.suggested_addresses[0].postal_code == "98052-6399"
    assert result.message.startswith("Address field invalid")
    assert result.original == address
    assert client.call_count == 1


def test_validate_address_tolerates_the_legacy_2007_answer(client, mocked):
    mocked.post(f"{API}/v1/validations/address", status=400, json=load("address_validation_legacy_2007.json"))
    address = Address(
        country="US", city="Redmond", state="WA", address_line1="One Microsoft Way", postal_code="98052"
    )

    result = client.validate_address(address)

    assert result.status == "InteractionRequired"
    assert result.suggested_addresses[0].city == "BELLEVUE"
    assert result.suggested_addresses[0].state == "WA"
    assert result.suggested_addresses[0].postal_code == "98007"
    assert "'Redmond'" in result.message
    assert client.call_count == 1


def test_validate_address_legacy_empty_200_means_verified(client, mocked):
    mocked.post(f"{API}/v1/validations/address", status=200, body="")

    result = client.validate_address(Address(country="US", city="Redmond", state="WA", address_line1="1 Way"))

    assert result.verified is True


def test_validate_address_other_400_raises(client, mocked):
    mocked.post(
        f"{API}/v1/validations/address", status=400, json={"code": 2000, "description": "bad country"}
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.validate_address(Address(country="ZZ", city="X"))
    assert info.value.code == 2000


def test_create_customer_sends_the_documented_body_and_request_id(client, mocked, records):
    mocked.post(f"{API}/v1/customers", status=201, json=load("create_customer_response.json"))
    request_id = str(uuid.uuid4())

    created = client.create_customer(new_customer(), request_id=request_id)

    assert sent(mocked).headers["MS-RequestId"] == request_id
    assert body(mocked) == {
        "enableGDAPByDefault": False,
        "CompanyProfile": {"Domain": "northwindtraders.onmicrosoft.com", "CompanyName": "Northwind Traders"},
        "BillingProfile": {
            "Email": "it@northwindtraders.com",
            "Culture": "en-US",
            "Language": "en",
            "CompanyName": "Northwind Traders",
            "DefaultAddress": {
                "Country": "US",
                "Region": None,
                "City": "Redmond",
                "State": "WA",
                "AddressLine1": "1 Microsoft Way",
                "AddressLine2": None,
                "PostalCode": "98052",
                "FirstName": "Jane",
                "LastName": "Doe",
                "PhoneNumber": "4255550101",
            },
        },
        "AssociatedPartnerId": FABRIKAM_TENANT,
    }
    assert created.tenant_id == "33333333-3333-4333-8333-000000000099"
    assert created.domain == "northwindtraders.onmicrosoft.com"
    assert created.admin_user_name == "admin@northwindtraders.onmicrosoft.com"
    assert created.admin_password == "Gen3rated!Secret-Pa55"
    assert "Gen3rated" not in repr(created)
    [record] = records
    assert record.operation == "create_customer"
    assert record.method == "POST"
    assert record.path == "/v1/customers"
    assert record.status == 201
    assert record.request_id == request_id
    assert record.correlation_id == sent(mocked).headers["MS-CorrelationId"]
    assert record.ids["tenant_id"] == created.tenant_id
    assert record.ids["domain"] == "northwindtraders.onmicrosoft.com"
    assert "Gen3rated" not in repr(record)


def test_create_direct_customer_omits_associated_partner(client, mocked):
    mocked.post(f"{API}/v1/customers", status=201, json=load("create_customer_response.json"))

    client.create_customer(new_customer(associated_partner_id=None), request_id=str(uuid.uuid4()))

    assert "AssociatedPartnerId" not in body(mocked)


def test_create_customer_keeps_a_full_admin_login(client, mocked):
    payload = load("create_customer_response.json")
    payload["userCredentials"]["userName"] = "owner@northwindtraders.onmicrosoft.com"
    mocked.post(f"{API}/v1/customers", status=201, json=payload)

    created = client.create_customer(new_customer(), request_id=str(uuid.uuid4()))

    assert created.admin_user_name == "owner@northwindtraders.onmicrosoft.com"


def test_create_customer_failure_is_recorded_with_microsofts_code(client, mocked, records):
    mocked.post(
        f"{API}/v1/customers", status=400, json={"code": 600051, "description": "Phone number is missing."}
    )

    with pytest.raises(PermanentPartnerCenterError):
        client.create_customer(new_customer(), request_id="11111111-aaaa-4aaa-8aaa-111111111111")

    [record] = records
    assert record.status == 400
    assert record.error_code == 600051
    assert record.error_description == "Phone number is missing."
    assert "tenant_id" not in record.ids


def test_seeded_customer_alpine_ski_house_is_found_with_its_reseller(live: PartnerCenterClient) -> None:
    customer = live.get_customer(ALPINE)

    assert customer is not None and customer.domain == "alpineskihouse.onmicrosoft.com"
    assert [r.tenant_id for r in live.customer_relationships(ALPINE)] == [FABRIKAM]


def test_customers_page_returns_one_page_and_a_next_link_to_replay(
    url: str, live: PartnerCenterClient
) -> None:
    for domain in ("contoso.onmicrosoft.com", "wingtiptoys.onmicrosoft.com"):
        control(url, "POST", "accept", {"domain": domain})

    first = live.customers_page(size=2)
    assert len(first.items) == 2
    assert first.next is not None
    assert first.next.uri.startswith("/v1/customers?")
    assert dict(first.next.headers).get("MS-ContinuationToken")

    second = live.customers_page(continuation=first.next)
    assert len(second.items) == 1
    assert second.next is None
    ids = {c.tenant_id for c in first.items + second.items}
    assert ids == {ALPINE, CONTOSO, WINGTIP}
    assert live.call_count == 2


def test_validate_address_verifies_a_complete_us_address(live: PartnerCenterClient) -> None:
    result = live.validate_address(REDMOND)

    assert result.verified
    assert result.status == "VerifiedShippable"
    assert result.original is not None and result.original.address_line1 == "1 Microsoft Way"


def test_validate_address_returns_suggestions_for_a_street_without_a_number(
    live: PartnerCenterClient,
) -> None:
    partial = Address(
        country="US", city="Redmond", state="wa", address_line1="Microsoft Way", postal_code="98052"
    )

    result = live.validate_address(partial)

    assert not result.verified
    assert result.status == "StreetPartial"
    assert result.message and "AddressLine1" in result.message
    (suggestion,) = result.suggested_addresses
    assert suggestion.address_line1 == "1 Microsoft Way"
    assert suggestion.state == "WA"
    assert suggestion.postal_code == "98052-0001"


def test_validate_address_without_city_or_postal_code_is_not_verified_and_names_the_fields(
    live: PartnerCenterClient,
) -> None:
    result = live.validate_address(Address(country="US", city="", state="WA", address_line1="1 Main St"))

    assert result.status == "None"
    assert result.suggested_addresses == ()
    assert result.message and "PostalCode" in result.message and "City" in result.message


def test_create_customer_with_associated_partner_is_idempotent_on_the_request_id(
    sandbox_server: SandboxServer, live: PartnerCenterClient
) -> None:
    request_id = str(uuid.uuid4())

    created = live.create_customer(sandbox_new_customer("fourthcoffee"), request_id=request_id)
    again = live.create_customer(sandbox_new_customer("fourthcoffee"), request_id=request_id)

    assert again.tenant_id == created.tenant_id
    assert created.domain == "fourthcoffee.onmicrosoft.com"
    assert created.company_name == "Fourth Coffee"
    assert created.admin_user_name == "admin@fourthcoffee.onmicrosoft.com"
    assert created.admin_password
    matching = [
        tenant_id
        for tenant_id in sandbox_server.state.customers
        if sandbox_server.state.tenants[tenant_id].initial_domain == "fourthcoffee.onmicrosoft.com"
    ]
    assert matching == [created.tenant_id]
    stored = sandbox_server.state.customers[created.tenant_id]
    assert stored.associated_partner_id == FABRIKAM
    assert stored.billing_profile["defaultAddress"]["firstName"] == "Jane"

    customer = live.get_customer(created.tenant_id)
    assert customer is not None and customer.associated_partner_id == FABRIKAM
    assert [r.tenant_id for r in live.customer_relationships(created.tenant_id)] == [FABRIKAM]
    assert live.domain_availability("fourthcoffee").available is False


def test_create_customer_with_a_taken_domain_is_a_permanent_error_with_microsofts_code(
    live: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.create_customer(sandbox_new_customer("contoso"), request_id=str(uuid.uuid4()))

    assert raised.value.status == 400
    assert raised.value.code == 600011
    assert "not available" in (raised.value.description or "")


def test_create_customer_for_a_reseller_outside_the_network_is_refused_with_800016(
    live: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.create_customer(
            sandbox_new_customer("fourthcoffee", associated_partner_id=TAILSPIN), request_id=str(uuid.uuid4())
        )

    assert raised.value.code == 800016
    assert live.domain_availability("fourthcoffee").available is True
