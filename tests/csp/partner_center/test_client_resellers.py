"""Resellers and relationships: `relationship_request_link` (and the customer accepting it on the sandbox's portal),
`indirect_resellers`, `agreement_status`, against documented answers and the sandbox."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import PermanentPartnerCenterError
from csp.sandbox.server import SandboxServer

from .helpers import (
    API,
    FABRIKAM_TENANT,
    load,
    query,
    sent,
)
from .live import (
    ADATUM,
    CONTOSO,
    DISTRIBUTOR,
    FABRIKAM,
    LITWARE,
    TAILSPIN,
    WINGTIP,
    accept_invitation,
    control,
    logged_requests,
    parse_page,
    submit,
)


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


def test_direct_relationship_request_link_points_at_the_sandbox_portal_for_the_distributor(
    url: str, live: PartnerCenterClient
) -> None:
    link = live.relationship_request_link().url

    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == url
    assert parts.path.lower() == "/adminportal/home"
    query = parse_qs(parts.query)
    assert query["invType"] == ["ResellerRelationship"]
    assert query["partnerId"] == [DISTRIBUTOR]
    assert query["msppId"] == ["0"]


def test_indirect_relationship_request_link_names_the_reseller_and_the_distributor(
    url: str, live: PartnerCenterClient
) -> None:
    link = live.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url

    assert link.startswith(url)
    query = parse_qs(urlsplit(link).query)
    assert query["invType"] == ["IndirectResellerRelationship"]
    assert query["partnerId"] == [FABRIKAM]
    assert query["msppId"] == ["1234567"]
    assert query["indirectCSPId"] == [DISTRIBUTOR]
    sent = logged_requests(url, "/v1/customers/relationshiprequests")[-1]["target"]
    assert f"indirectResellerId={FABRIKAM}" in sent
    assert f"indirectCloudSolutionProviderId={DISTRIBUTOR}" in sent


def test_relationship_request_link_for_a_reseller_outside_the_network_is_a_permanent_error(
    live: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.relationship_request_link(
            indirect_reseller_tenant_id=TAILSPIN, indirect_provider_tenant_id=DISTRIBUTOR
        )

    assert raised.value.status == 400
    assert raised.value.code == 800016


def test_indirect_resellers_follows_next_links_across_pages_of_two(
    url: str, live: PartnerCenterClient
) -> None:
    resellers = live.indirect_resellers()

    assert {r.tenant_id for r in resellers} == {FABRIKAM, ADATUM, LITWARE}
    by_mpn = {r.mpn_id: r for r in resellers}
    assert by_mpn["1234567"].name == "Fabrikam IT Services"
    assert by_mpn["1234567"].state == "Active"
    pages = logged_requests(url, "/v1/relationships")
    assert len(pages) == 2  # 3 resellers, 2 per page
    assert "seekOperation=Next" in pages[1]["target"]


def test_indirect_resellers_follows_every_page_when_pages_hold_one(
    url: str, live: PartnerCenterClient
) -> None:
    control(url, "POST", "config", {"relationships_page_size": 1})

    assert len(live.indirect_resellers()) == 3
    assert len(logged_requests(url, "/v1/relationships")) == 3


def test_agreement_status_is_signed_for_fabrikam_and_not_for_litware(live: PartnerCenterClient) -> None:
    assert live.agreement_status(mpn_id="1234567").signed is True
    assert live.agreement_status(tenant_id=FABRIKAM).signed is True
    assert live.agreement_status(mpn_id="3456789").signed is False
    assert live.agreement_status(tenant_id=LITWARE).signed is False


def test_agreement_status_for_an_unknown_mpn_id_is_a_permanent_error_with_microsofts_code(
    live: PartnerCenterClient,
) -> None:
    with pytest.raises(PermanentPartnerCenterError) as raised:
        live.agreement_status(mpn_id="9999999")

    assert raised.value.code == 2200


def test_customer_accepts_an_indirect_invitation_on_the_portal_page_and_becomes_a_customer_of_both(
    sandbox_server: SandboxServer, live: PartnerCenterClient
) -> None:
    assert live.get_customer(CONTOSO) is None
    link = live.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url

    invitation, confirmation = accept_invitation(link, "contoso.com")

    assert "Fabrikam IT Services (Partner ID 1234567) invites you" in invitation.page_text
    (form,) = invitation.forms
    assert {"invType", "partnerId", "msppId", "indirectCSPId"} <= form.hidden
    assert form.fields["partnerId"] == FABRIKAM
    assert "Fabrikam IT Services is now authorized" in confirmation.page_text
    assert "with Northwind Distribution as its indirect provider" in confirmation.page_text
    assert "contoso.onmicrosoft.com" in confirmation.page_text

    customer = live.get_customer(CONTOSO)
    assert customer is not None
    assert customer.tenant_id == CONTOSO
    assert customer.domain == "contoso.onmicrosoft.com"
    assert customer.company_name == "Contoso Ltd"
    relationships = live.customer_relationships(CONTOSO)
    assert [(r.tenant_id, r.name, r.mpn_id) for r in relationships] == [
        (FABRIKAM, "Fabrikam IT Services", "1234567")
    ]
    assert sandbox_server.state.customers[CONTOSO].reseller_ids == [FABRIKAM]


def test_customer_accepts_a_direct_invitation_and_has_no_reseller(live: PartnerCenterClient) -> None:
    link = live.relationship_request_link().url

    invitation, confirmation = accept_invitation(link, "wingtiptoys.onmicrosoft.com")

    assert "Northwind Distribution invites you" in invitation.page_text
    assert "is now authorized as the Cloud Solution Provider of Wingtip Toys" in confirmation.page_text
    customer = live.get_customer(WINGTIP)
    assert customer is not None and customer.company_name == "Wingtip Toys"
    assert live.customer_relationships(WINGTIP) == []


def test_portal_refuses_a_domain_no_tenant_uses_and_nothing_changes(live: PartnerCenterClient) -> None:
    link = live.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url
    with requests.Session() as browser:
        opened = browser.get(link, timeout=10)
        (form,) = parse_page(opened.text).forms

        refused = submit(browser, opened.url, form, domain="nobody-here-42.onmicrosoft.com")

    assert refused.status_code == 400
    text = parse_page(refused.text).page_text
    assert "We couldn't find an organization with the domain" in text
    assert "is now authorized" not in text
    assert live.get_customer(CONTOSO) is None
