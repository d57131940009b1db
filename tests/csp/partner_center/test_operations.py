"""Each Partner Center / Graph operation against documented payloads, asserting what was sent."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from csp.partner_center import (
    Address,
    AgreementContact,
    CartLine,
    Customer,
    NewCustomer,
    NotFound,
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerOrderLine,
    PermanentPartnerCenterError,
)

from .helpers import API, GRAPH, LOGIN, load

CONTOSO_TENANT = "33333333-3333-4333-8333-000000000001"
FABRIKAM_TENANT = "22222222-2222-4222-8222-222222222222"
GDAP_ID = "5d027261-d21f-4aa9-b7db-7fa1f56fb163-8777b240-c6f0-4469-9e98-a3205431b836"


def sent(mocked: responses.RequestsMock, index: int = 0):
    return mocked.calls[index].request


def query(mocked: responses.RequestsMock, index: int = 0) -> dict[str, list[str]]:
    return parse_qs(urlsplit(sent(mocked, index).url).query)


def body(mocked: responses.RequestsMock, index: int = 0):
    return json.loads(sent(mocked, index).body)


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def test_every_call_sends_microsoft_headers(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)

    client.domain_exists("contoso.onmicrosoft.com")

    headers = sent(mocked).headers
    assert headers["Authorization"] == "Bearer partner_center-token-1"
    assert headers["Accept"] == "application/json"
    assert is_uuid(headers["MS-RequestId"])
    assert is_uuid(headers["MS-CorrelationId"])
    assert headers["MS-RequestId"] != headers["MS-CorrelationId"]
    assert headers["X-Locale"] == "en-US"
    assert headers["MS-PartnerCenter-Application"] == "CSP Storefront tests"
    assert headers["MS-Contract-Version"] == "v1"
    assert "Content-Type" not in headers


def test_graph_and_sign_in_discovery_get_no_partner_center_contract_version(client, mocked):
    mocked.get(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/r1",
        json={"id": "r1", "status": "active"},
    )
    mocked.get(
        f"{LOGIN}/contoso.onmicrosoft.com/.well-known/openid-configuration",
        json={"issuer": f"https://sts.windows.net/{FABRIKAM_TENANT}/"},
    )

    client.get_gdap_relationship("r1")
    client.tenant_id_for_domain("contoso.onmicrosoft.com")

    assert ["MS-Contract-Version" in call.request.headers for call in mocked.calls] == [False, False]


@pytest.mark.parametrize("prefix", ["con-toso", "-", "contoso.com", "a" * 28, ""])
def test_domain_availability_follows_the_forms_prefix_rule(client, mocked, prefix):
    with pytest.raises(ValueError):
        client.domain_availability(prefix)
    assert client.call_count == 0


def test_each_logical_call_gets_fresh_request_and_correlation_ids(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)

    client.domain_exists("contoso.onmicrosoft.com")
    client.domain_exists("contoso.onmicrosoft.com")

    first, second = sent(mocked, 0).headers, sent(mocked, 1).headers
    assert first["MS-RequestId"] != second["MS-RequestId"]
    assert first["MS-CorrelationId"] != second["MS-CorrelationId"]
    assert client.call_count == 2
    assert list(client.calls) == [("HEAD", "/v1/domains/contoso.onmicrosoft.com")] * 2


def test_domain_exists_reads_200_as_taken_and_404_as_free(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
    mocked.head(f"{API}/v1/domains/freshprefix.onmicrosoft.com", status=404)

    assert client.domain_exists("contoso.onmicrosoft.com") is True
    assert client.domain_exists("freshprefix.onmicrosoft.com") is False


@pytest.mark.parametrize("status", [400, 403])
def test_domain_exists_never_reads_an_error_as_available(client, mocked, status):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=status)

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.domain_exists("contoso.onmicrosoft.com")
    assert info.value.status == status


def test_tenant_id_for_domain_parses_the_issuer_without_a_token(client, mocked):
    mocked.get(
        f"{LOGIN}/contoso.com/.well-known/openid-configuration", json=load("openid_configuration.json")
    )

    assert client.tenant_id_for_domain("contoso.com") == CONTOSO_TENANT
    assert "Authorization" not in sent(mocked).headers


def test_tenant_id_for_domain_falls_back_to_the_token_endpoint(client, mocked):
    payload = load("openid_configuration.json")
    del payload["issuer"]
    mocked.get(f"{LOGIN}/contoso.com/.well-known/openid-configuration", json=payload)

    assert client.tenant_id_for_domain("contoso.com") == CONTOSO_TENANT


def test_tenant_id_for_unknown_domain_is_none(client, mocked):
    mocked.get(
        f"{LOGIN}/freshprefix.onmicrosoft.com/.well-known/openid-configuration",
        status=400,
        json=load("openid_unknown_tenant.json"),
    )

    assert client.tenant_id_for_domain("freshprefix.onmicrosoft.com") is None


def test_tenant_discovery_other_400_raises(client, mocked):
    mocked.get(
        f"{LOGIN}/contoso.com/.well-known/openid-configuration",
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "AADSTS50000: something else",
            "error_codes": [50000],
        },
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.tenant_id_for_domain("contoso.com")
    assert info.value.status == 400


def test_tenant_discovery_without_a_guid_is_a_permanent_error(client, mocked):
    mocked.get(f"{LOGIN}/contoso.com/.well-known/openid-configuration", json={"issuer": "https://sts/"})

    with pytest.raises(PermanentPartnerCenterError, match="no tenant id"):
        client.tenant_id_for_domain("contoso.com")


def test_domain_is_available_only_when_both_checks_say_free(client, mocked):
    mocked.head(f"{API}/v1/domains/freshprefix.onmicrosoft.com", status=404)
    mocked.get(
        f"{LOGIN}/freshprefix.onmicrosoft.com/.well-known/openid-configuration",
        status=400,
        json=load("openid_unknown_tenant.json"),
    )

    result = client.domain_availability("FreshPrefix")

    assert result.domain_prefix == "freshprefix"
    assert result.domain == "freshprefix.onmicrosoft.com"
    assert result.available is True
    assert result.tenant_id is None


def test_domain_is_taken_when_discovery_knows_the_tenant_even_if_partner_center_does_not(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=404)
    mocked.get(
        f"{LOGIN}/contoso.onmicrosoft.com/.well-known/openid-configuration",
        json=load("openid_configuration.json"),
    )

    result = client.domain_availability("contoso")

    assert result.available is False
    assert result.tenant_id == CONTOSO_TENANT


def test_domain_availability_rejects_a_malformed_prefix_without_calling(client, mocked):
    with pytest.raises(ValueError):
        client.domain_availability("bad/prefix")
    assert client.call_count == 0


def test_relationship_request_link_direct(client, mocked):
    mocked.get(f"{API}/v1/customers/relationshiprequests", json=load("relationship_request.json"))

    link = client.relationship_request_link()

    assert link.url.startswith("https://admin.microsoft.com/Adminportal/Home?invType=ResellerRelationship")
    assert query(mocked) == {}


def test_relationship_request_link_for_an_indirect_reseller_sends_both_ids(client, mocked):
    mocked.get(f"{API}/v1/customers/relationshiprequests", json=load("relationship_request.json"))

    client.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM_TENANT,
        indirect_provider_tenant_id="d1570b00-0000-4000-8000-000000000001",
    )

    assert query(mocked) == {
        "indirectResellerId": [FABRIKAM_TENANT],
        "indirectCloudSolutionProviderId": ["d1570b00-0000-4000-8000-000000000001"],
    }


@pytest.mark.parametrize("payload", [{}, {"url": "javascript:alert(1)"}, {"url": 5}, []])
def test_relationship_request_link_without_a_web_url_is_a_permanent_error(client, mocked, payload):
    mocked.get(f"{API}/v1/customers/relationshiprequests", json=payload)

    with pytest.raises(PermanentPartnerCenterError):
        client.relationship_request_link()


def test_indirect_resellers_follows_next_link_with_its_continuation_header(client, mocked):
    mocked.get(f"{API}/v1/relationships", json=load("indirect_resellers_page1.json"))
    mocked.get(f"{API}/v1/relationships", json=load("indirect_resellers_page2.json"))

    resellers = client.indirect_resellers()

    assert [r.mpn_id for r in resellers] == ["1234567", "2345678", "3456789"]
    assert resellers[0].tenant_id == FABRIKAM_TENANT
    assert resellers[0].name == "Fabrikam IT Services"
    assert resellers[0].state == "Active"
    assert resellers[2].location == "GB"
    assert query(mocked, 0) == {"relationship_type": ["IsIndirectCloudSolutionProviderOf"]}
    assert "MS-ContinuationToken" not in sent(mocked, 0).headers
    assert query(mocked, 1) == {
        "relationship_type": ["IsIndirectCloudSolutionProviderOf"],
        "seekOperation": ["Next"],
    }
    assert sent(mocked, 1).headers["MS-ContinuationToken"] == "reseller-page-2"
    assert client.call_count == 2


def test_next_link_to_a_foreign_host_is_refused(client, mocked):
    page = load("indirect_resellers_page1.json")
    page["links"]["next"]["uri"] = "https://evil.example/steal"
    mocked.get(f"{API}/v1/relationships", json=page)

    with pytest.raises(PermanentPartnerCenterError, match="another host"):
        client.indirect_resellers()
    assert client.call_count == 1


def test_agreement_signed_by_mpn_id(client, mocked):
    mocked.get(f"{API}/v1/compliance/csp/agreementstatus", json=load("agreement_status_signed.json"))

    assert client.agreement_status(mpn_id="1234567").signed is True
    assert query(mocked) == {"mpnId": ["1234567"]}


def test_agreement_signed_by_tenant_id(client, mocked):
    mocked.get(f"{API}/v1/compliance/csp/agreementstatus", json={"isAgreementSigned": False})

    assert client.agreement_status(tenant_id=FABRIKAM_TENANT).signed is False
    assert query(mocked) == {"tenantId": [FABRIKAM_TENANT]}


@pytest.mark.parametrize("code", [2203, 2204, 2206, "2203"])
def test_agreement_not_signed_codes_answer_false(client, mocked, code):
    payload = load("agreement_status_not_signed_2203.json") | {"code": code}
    mocked.get(f"{API}/v1/compliance/csp/agreementstatus", status=400, json=payload)

    assert client.agreement_status(mpn_id="3456789").signed is False


@pytest.mark.parametrize(
    ("code", "words"),
    [(2201, "another CSP region"), (2203, "not signed the Microsoft Partner Agreement for this CSP region")],
)
def test_agreement_status_by_mpn_id_says_why_in_the_region_codes(client, mocked, code, words):
    payload = load("agreement_status_not_signed_2203.json") | {"code": code}
    mocked.get(f"{API}/v1/compliance/csp/agreementstatus", status=400, json=payload)

    status = client.agreement_status(mpn_id="3456789")

    assert (status.signed, status.code) == (False, str(code))
    assert words in status.message
    assert query(mocked) == {"mpnId": ["3456789"]}


def test_agreement_status_other_400_raises_with_code(client, mocked):
    mocked.get(
        f"{API}/v1/compliance/csp/agreementstatus", status=400, json=load("agreement_status_bad_id_2000.json")
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.agreement_status(mpn_id="12ab")
    assert info.value.code == 2000
    assert info.value.description == "MpnId is not a numeric value."


def test_agreement_status_needs_exactly_one_id(client):
    with pytest.raises(ValueError):
        client.agreement_status()
    with pytest.raises(ValueError):
        client.agreement_status(mpn_id="1", tenant_id="2")


def test_agreement_status_that_is_not_a_boolean_is_a_permanent_error(client, mocked):
    mocked.get(f"{API}/v1/compliance/csp/agreementstatus", json={"isAgreementSigned": "yes"})

    with pytest.raises(PermanentPartnerCenterError):
        client.agreement_status(mpn_id="1234567")


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


def new_customer(**overrides) -> NewCustomer:
    values = dict(
        domain="northwindtraders.onmicrosoft.com",
        company_name="Northwind Traders",
        email="it@northwindtraders.com",
        first_name="Jane",
        last_name="Doe",
        phone_number="4255550101",
        address=Address(
            country="US", city="Redmond", state="WA", address_line1="1 Microsoft Way", postal_code="98052"
        ),
        associated_partner_id=FABRIKAM_TENANT,
    )
    values.update(overrides)
    return NewCustomer(**values)


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


def test_create_gdap_relationship_posts_to_graph_with_a_graph_token(client, mocked, records):
    mocked.post(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships",
        status=201,
        json=load("gdap_relationship_created.json"),
    )

    relationship = client.create_gdap_relationship(
        display_name="Northwind-Contoso-2025-001",
        customer_tenant_id=CONTOSO_TENANT,
        customer_name="Contoso Ltd",
        role_definition_ids=["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
        duration_days=730,
        auto_extend=True,
        request_id="55555555-aaaa-4aaa-8aaa-555555555555",
    )

    assert sent(mocked).headers["Authorization"] == "Bearer graph-token-1"
    assert body(mocked) == {
        "displayName": "Northwind-Contoso-2025-001",
        "duration": "P730D",
        "customer": {"tenantId": CONTOSO_TENANT, "displayName": "Contoso Ltd"},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}]},
        "autoExtendDuration": "P180D",
    }
    assert relationship.id == GDAP_ID
    assert relationship.status == "created"
    assert relationship.etag.startswith('W/"')
    assert relationship.end_date_time is None
    assert records[0].ids["relationship_id"] == GDAP_ID


def test_gdap_without_auto_extend_sends_pt0s(client, mocked):
    mocked.post(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships",
        status=201,
        json=load("gdap_relationship_created.json"),
    )

    client.create_gdap_relationship(
        display_name="x",
        customer_tenant_id=CONTOSO_TENANT,
        customer_name="Contoso Ltd",
        role_definition_ids=["62e90394-69f5-4237-9190-012177145e10"],
        duration_days=30,
        auto_extend=False,
        request_id="r",
    )

    assert body(mocked)["autoExtendDuration"] == "PT0S"
    assert body(mocked)["duration"] == "P30D"


def test_the_client_leaves_the_global_administrator_rule_to_the_gdap_service(client, mocked):
    """One home per rule (csp/gdap.py): the client sends what it is given; Microsoft would refuse it."""
    mocked.post(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships",
        status=400,
        json={
            "error": {
                "code": "BadRequest",
                "message": "Auto extension is not allowed with Global Administrator.",
            }
        },
    )
    with pytest.raises(PermanentPartnerCenterError):
        client.create_gdap_relationship(
            display_name="x",
            customer_tenant_id=CONTOSO_TENANT,
            customer_name="Contoso Ltd",
            role_definition_ids=["62e90394-69f5-4237-9190-012177145e10"],
            duration_days=30,
            auto_extend=True,
            request_id="r",
        )
    assert body(mocked)["autoExtendDuration"] == "P180D"


def test_find_gdap_relationship_filters_on_the_display_name(client, mocked):
    active = load("gdap_relationship_active.json")
    mocked.get(f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships", json={"value": [active]})
    mocked.get(f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships", json={"value": []})

    found = client.find_gdap_relationship("Northwind-Contoso-2025-001")
    missing = client.find_gdap_relationship("O'Brien & Co")

    assert (found.id, found.status, found.display_name) == (GDAP_ID, "active", "Northwind-Contoso-2025-001")
    assert missing is None
    assert urlsplit(sent(mocked).url).query == "$filter=displayName%20eq%20%27Northwind-Contoso-2025-001%27"
    assert query(mocked, 1) == {"$filter": ["displayName eq 'O''Brien & Co'"]}  # OData doubles the quote
    assert sent(mocked).headers["Authorization"] == "Bearer graph-token-1"


def test_find_gdap_relationship_ignores_another_name_in_the_answer(client, mocked):
    other = {**load("gdap_relationship_active.json"), "displayName": "Someone else"}
    mocked.get(f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships", json={"value": [other]})
    assert client.find_gdap_relationship("Northwind-Contoso-2025-001") is None


def test_create_gdap_access_assignment_gives_the_roles_to_a_security_group(client, mocked, records):
    mocked.post(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/{GDAP_ID}/accessAssignments",
        status=201,
        json=load("gdap_access_assignment_pending.json"),
    )

    assignment = client.create_gdap_access_assignment(
        GDAP_ID,
        security_group_id="6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b",
        role_definition_ids=["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
        request_id="66666666-aaaa-4aaa-8aaa-666666666666",
    )

    assert body(mocked) == {
        "accessContainer": {
            "accessContainerId": "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b",
            "accessContainerType": "securityGroup",
        },
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8"}]},
    }
    assert sent(mocked).headers["MS-RequestId"] == "66666666-aaaa-4aaa-8aaa-666666666666"
    assert (assignment.id, assignment.status) == ("b1f0c3a2-6d4e-4f5a-9b8c-7d6e5f4a3b2c", "pending")
    assert assignment.security_group_id == "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"
    assert assignment.role_definition_ids == ("729827e3-9c14-49f7-bb1b-9608f156bbb8",)
    assert records[0].operation == "create_gdap_access_assignment"
    assert records[0].ids["access_assignment_id"] == assignment.id


def test_access_assignments_are_listed_and_read_one_by_one(client, mocked):
    pending = load("gdap_access_assignment_pending.json")
    base = f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/{GDAP_ID}/accessAssignments"
    mocked.get(base, json={"value": [pending]})
    mocked.get(f"{base}/{pending['id']}", json={**pending, "status": "active"})

    assert [a.id for a in client.gdap_access_assignments(GDAP_ID)] == [pending["id"]]
    assert client.get_gdap_access_assignment(GDAP_ID, pending["id"]).status == "active"


def test_an_assignment_list_that_is_not_a_graph_collection_is_a_permanent_error(client, mocked):
    base = f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/{GDAP_ID}/accessAssignments"
    mocked.get(base, json={"items": []})
    with pytest.raises(PermanentPartnerCenterError, match="unexpected answer"):
        client.gdap_access_assignments(GDAP_ID)


def test_lock_gdap_for_approval_sends_action_and_if_match(client, mocked, records):
    mocked.post(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/{GDAP_ID}/requests",
        status=201,
        json=load("gdap_lock_request.json"),
    )

    client.lock_gdap_for_approval(GDAP_ID, etag='W/"etag-1"')

    assert body(mocked) == {"action": "lockForApproval"}
    assert sent(mocked).headers["If-Match"] == 'W/"etag-1"'
    assert records[0].operation == "lock_gdap_for_approval"


def test_get_gdap_relationship_reads_status_and_end_date(client, mocked):
    mocked.get(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/{GDAP_ID}",
        json=load("gdap_relationship_active.json"),
    )

    relationship = client.get_gdap_relationship(GDAP_ID)

    assert relationship.status == "active"
    assert relationship.end_date_time == datetime(2027, 3, 2, 8, 0, tzinfo=UTC)


def test_graph_error_body_is_mapped(client, mocked):
    mocked.get(
        f"{GRAPH}/v1.0/tenantRelationships/delegatedAdminRelationships/{GDAP_ID}",
        status=403,
        json={"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}},
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.get_gdap_relationship(GDAP_ID)
    assert info.value.code == "Authorization_RequestDenied"
    assert info.value.description == "Insufficient privileges"


def test_gdap_approval_link_live_and_sandbox(client):
    assert client.gdap_approval_link(GDAP_ID) == (
        f"https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{GDAP_ID}"
    )
    sandbox = PartnerCenterClient(
        PartnerCenterConfig.for_sandbox("http://127.0.0.1:8765"), token_provider=object()
    )
    assert sandbox.gdap_approval_link(GDAP_ID) == (
        f"http://127.0.0.1:8765/AdminPortal/Home#/partners/invitation/granularAdminRelationships/{GDAP_ID}"
    )


def test_register_webhook_posts_url_and_events(client, mocked, records):
    mocked.post(f"{API}/webhooks/v1/registration", json=load("webhook_registration.json"))
    events = load("webhook_registration.json")["WebhookEvents"]

    registration = client.register_webhook(
        "https://shop.northwind.example/csp/webhooks/partner-center/", events
    )

    assert body(mocked) == {
        "WebhookUrl": "https://shop.northwind.example/csp/webhooks/partner-center/",
        "WebhookEvents": events,
    }
    assert registration.events == tuple(events)
    assert [r.operation for r in records] == ["register_webhook"]


def test_register_webhook_updates_an_existing_registration_on_409(client, mocked, records):
    mocked.post(f"{API}/webhooks/v1/registration", status=409, json={"code": 409, "description": "exists"})
    mocked.put(f"{API}/webhooks/v1/registration", json=load("webhook_registration.json"))

    client.register_webhook("https://shop.northwind.example/csp/webhooks/partner-center/", ["test-created"])

    assert [c.request.method for c in mocked.calls] == ["POST", "PUT"]
    assert body(mocked, 1) == body(mocked, 0)
    assert [(r.operation, r.status) for r in records] == [("register_webhook", 409), ("update_webhook", 200)]
