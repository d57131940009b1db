"""Domains, invitation links, the reseller network, MPN profiles and MPA status."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import ADATUM, DISTRIBUTOR_TENANT_ID, FABRIKAM, LITWARE, TAILSPIN, Api


@pytest.mark.parametrize(
    ("domain", "status"),
    [
        ("contoso.onmicrosoft.com", 200),
        ("CONTOSO.onmicrosoft.com", 200),
        ("woodgrovebank.com", 200),
        ("alpineskihouse.onmicrosoft.com", 200),
        ("fourthcoffee.onmicrosoft.com", 404),
    ],
)
def test_head_domain_says_whether_a_tenant_has_it(api: Api, domain: str, status: int) -> None:
    answer = api.head(f"/v1/domains/{domain}")
    assert answer.status_code == status
    assert answer.content == b""


def test_direct_relationship_request_link(api: Api) -> None:
    body = api.get("/v1/customers/relationshiprequests").json()
    assert body["attributes"] == {"objectType": "RelationshipRequest"}
    assert body["url"] == (
        f"{api.base_url}/Adminportal/Home?invType=ResellerRelationship&partnerId={DISTRIBUTOR_TENANT_ID}"
        "&msppId=0&DAP=false#/BillingAccounts/partner-invitation"
    )


def test_indirect_relationship_request_link_names_reseller_and_provider(api: Api) -> None:
    answer = api.get(
        f"/v1/customers/relationshiprequests?indirectResellerId={FABRIKAM}"
        f"&indirectCloudSolutionProviderId={DISTRIBUTOR_TENANT_ID}"
    )
    assert answer.status_code == 200
    url = answer.json()["url"]
    parts = urlsplit(url)
    assert url.startswith(f"{api.base_url}/Adminportal/Home?")
    assert parts.fragment == "/BillingAccounts/partner-invitation"
    assert parse_qs(parts.query) == {
        "invType": ["IndirectResellerRelationship"],
        "partnerId": [FABRIKAM],
        "msppId": ["1234567"],
        "indirectCSPId": [DISTRIBUTOR_TENANT_ID],
        "DAP": ["false"],
    }


@pytest.mark.parametrize(
    ("reseller", "status", "code"),
    [
        ("99999999-2222-4222-8222-222222222222", 404, 3000),
        (TAILSPIN, 400, 800016),
        ("not-a-guid", 400, 2000),
    ],
)
def test_relationship_request_for_unknown_or_outside_reseller_fails(
    api: Api, reseller: str, status: int, code: int
) -> None:
    answer = api.get(f"/v1/customers/relationshiprequests?indirectResellerId={reseller}")
    assert answer.status_code == status
    body = answer.json()
    assert body["code"] == code
    assert body["source"] == "PartnerFD" and body["data"] == [] and body["description"]


def _all_relationships(api: Api, path: str) -> tuple[list[dict], int]:
    answer = api.get(path).json()
    items, pages = list(answer["items"]), 1
    while "next" in answer.get("links", {}):
        nxt = answer["links"]["next"]
        headers = {h["key"]: h["value"] for h in nxt["headers"]}
        answer = api.get(nxt["uri"], headers=headers).json()
        items += answer["items"]
        pages += 1
    return items, pages


def test_network_is_paged_and_clients_must_follow_links_next(api: Api) -> None:
    items, pages = _all_relationships(
        api, "/v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf"
    )
    assert pages == 2
    assert [(i["id"], i["mpnId"], i["state"]) for i in items] == [
        (FABRIKAM, "1234567", "Active"),
        (ADATUM, "2345678", "Active"),
        (LITWARE, "3456789", "Active"),
    ]
    assert {i["relationshipType"] for i in items} == {"is_indirect_cloud_solution_provider_of"}
    assert items[0]["name"] == "Fabrikam IT Services"


def test_page_size_is_configurable(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/config", json={"relationships_page_size": 1})
    _, pages = _all_relationships(
        api, "/v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf"
    )
    assert pages == 3
    anon.post("/_sandbox/config", json={"relationships_page_size": 50})
    body = api.get("/v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf").json()
    assert body["totalCount"] == 3 and "next" not in body["links"]


def test_next_page_without_continuation_token_is_refused(api: Api) -> None:
    answer = api.get(
        "/v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf&seekOperation=Next"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == 2000


def test_network_filter_by_name(api: Api) -> None:
    flt = '{"Field":"Name","Value":"ada","Operator":"starts_with"}'
    body = api.get(
        "/v1/relationships", params={"relationship_type": "IsIndirectCloudSolutionProviderOf", "filter": flt}
    )
    assert [i["id"] for i in body.json()["items"]] == [ADATUM]


def test_relationships_needs_a_known_type(api: Api) -> None:
    assert api.get("/v1/relationships").status_code == 400
    assert api.get("/v1/relationships?relationship_type=IsIndirectResellerOf").json()["items"] == []


@pytest.mark.parametrize(
    ("query", "signed"),
    [
        ("mpnId=1234567", True),
        ("mpnId=2345678", True),
        ("mpnId=4567890", True),
        (f"tenantId={LITWARE}", False),
        (f"tenantId={FABRIKAM}", True),
    ],
)
def test_agreement_status(api: Api, query: str, signed: bool) -> None:
    answer = api.get(f"/v1/compliance/csp/agreementstatus?{query}")
    assert answer.status_code == 200
    assert answer.json() == {"isAgreementSigned": signed}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("mpnId=12ab", 2000),
        (f"mpnId=1234567&tenantId={FABRIKAM}", 2000),
        ("", 2001),
        ("tenantId=not-a-guid", 2000),
        ("mpnId=7654321", 2200),
        ("mpnId=5123456", 2204),
        ("mpnId=3456789", 2203),
        ("tenantId=99999999-9999-4999-8999-999999999999", 2205),
    ],
)
def test_agreement_status_errors(api: Api, query: str, code: int) -> None:
    answer = api.get(f"/v1/compliance/csp/agreementstatus?{query}")
    assert answer.status_code == 400
    assert answer.json()["code"] == code
