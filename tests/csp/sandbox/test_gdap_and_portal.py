"""GDAP through Graph, and the admin-portal pages where the customer's administrator accepts or approves."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import requests

from csp.sandbox.server import SandboxServer

from .conftest import CONTOSO, FABRIKAM, WINGTIP, Api

GDAP = "/v1.0/tenantRelationships/delegatedAdminRelationships"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"


def gdap_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "displayName": "Northwind-Contoso-001",
        "duration": "P730D",
        "customer": {"tenantId": CONTOSO, "displayName": "Contoso Ltd"},
        "accessDetails": {
            "unifiedRoles": [{"roleDefinitionId": DIRECTORY_READERS}, {"roleDefinitionId": HELPDESK}]
        },
        "autoExtendDuration": "P180D",
    }
    body.update(overrides)
    return body


def create_and_lock(api: Api, **overrides: Any) -> dict[str, Any]:
    rel = api.post(GDAP, json=gdap_body(**overrides)).json()
    locked = api.post(f"{GDAP}/{rel['id']}/requests", json={"action": "lockForApproval"})
    assert locked.status_code == 201
    return rel


def test_create_gdap_relationship(api: Api) -> None:
    answer = api.post(GDAP, json=gdap_body())
    assert answer.status_code == 201
    body = answer.json()
    assert re.fullmatch(r"[0-9a-f-]{36}-[0-9a-f-]{36}", body["id"])
    assert body["@odata.etag"].startswith('W/"')
    assert body["status"] == "created"
    assert body["activatedDateTime"] is None
    assert answer.headers["Location"].endswith(f"{GDAP}/{body['id']}")
    assert api.get(f"{GDAP}/{body['id']}").json()["displayName"] == "Northwind-Contoso-001"


@pytest.mark.parametrize(
    "overrides",
    [
        {"displayName": "x" * 51},
        {"displayName": ""},
        {"duration": "P731D"},
        {"duration": "P0D"},
        {"duration": "two years"},
        {"accessDetails": {"unifiedRoles": []}},
        {"accessDetails": {"unifiedRoles": [{"roleDefinitionId": GLOBAL_ADMIN}]}},
        {"autoExtendDuration": "P90D"},
    ],
)
def test_create_gdap_validation(api: Api, overrides: dict[str, Any]) -> None:
    answer = api.post(GDAP, json=gdap_body(**overrides))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_global_admin_is_fine_without_auto_extend_and_names_are_unique(api: Api) -> None:
    roles = {"unifiedRoles": [{"roleDefinitionId": GLOBAL_ADMIN}]}
    assert api.post(GDAP, json=gdap_body(accessDetails=roles, autoExtendDuration="PT0S")).status_code == 201
    duplicate = api.post(GDAP, json=gdap_body(duration="P2Y"))
    assert duplicate.status_code == 400


def test_lock_for_approval_then_approve_through_control_api(api: Api, anon: Api) -> None:
    rel = api.post(GDAP, json=gdap_body()).json()
    assert anon.post(f"/_sandbox/gdap/{rel['id']}/approve").status_code == 409
    request = api.post(f"{GDAP}/{rel['id']}/requests", json={"action": "lockForApproval"})
    assert request.status_code == 201
    assert request.json()["action"] == "lockForApproval" and request.json()["status"] == "created"
    assert api.get(f"{GDAP}/{rel['id']}").json()["status"] == "approvalPending"
    again = api.post(f"{GDAP}/{rel['id']}/requests", json={"action": "lockForApproval"})
    assert again.status_code == 400
    approved = anon.post(f"/_sandbox/gdap/{rel['id']}/approve")
    assert approved.status_code == 200
    body = api.get(f"{GDAP}/{rel['id']}").json()
    assert body["status"] == "active"
    assert body["activatedDateTime"] and body["endDateTime"]
    assignment = api.post(f"{GDAP}/{rel['id']}/accessAssignments", json=assignment_body())
    assert assignment.status_code == 201 and assignment.json()["status"] == "pending"


SUPPORT_GROUP = "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"


def assignment_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "accessContainer": {"accessContainerId": SUPPORT_GROUP, "accessContainerType": "securityGroup"},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": HELPDESK}]},
    }
    body.update(overrides)
    return body


def active_relationship(api: Api, anon: Api, **overrides: Any) -> dict[str, Any]:
    rel = create_and_lock(api, **overrides)
    assert anon.post(f"/_sandbox/gdap/{rel['id']}/approve").status_code == 200
    return rel


def test_list_filters_on_the_display_name_as_graph_does(api: Api) -> None:
    api.post(GDAP, json=gdap_body(displayName="Northwind-Contoso-001"))
    api.post(GDAP, json=gdap_body(displayName="O'Brien support"))
    api.post(GDAP, json=gdap_body(displayName="Other", customer={"tenantId": WINGTIP}))

    def names(expression: str) -> list[str]:
        answer = api.get(GDAP, params={"$filter": expression})
        assert answer.status_code == 200, answer.text
        return [r["displayName"] for r in answer.json()["value"]]

    assert names("displayName eq 'northwind-contoso-001'") == ["Northwind-Contoso-001"]
    assert names("displayName eq 'O''Brien support'") == ["O'Brien support"]
    assert names("displayName eq 'Nobody'") == []
    assert names(f"customer/tenantId eq '{WINGTIP}' and status eq 'created'") == ["Other"]
    assert len(api.get(GDAP).json()["value"]) == 3
    assert len(api.get(GDAP, params={"$top": "1"}).json()["value"]) == 1
    for bad in (
        {"$filter": "displayName ne 'x'"},
        {"$filter": "startswith(displayName,'N')"},
        {"$top": "301"},
    ):
        answer = api.get(GDAP, params=bad)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"


def test_access_assignment_is_pending_then_active_and_can_be_read_back(
    api: Api, anon: Api, server: SandboxServer
) -> None:
    server.state.config["gdap_assignment_activation_seconds"] = 3600
    rel = active_relationship(api, anon)
    created = api.post(f"{GDAP}/{rel['id']}/accessAssignments", json=assignment_body())
    assert created.status_code == 201
    assignment = created.json()
    assert assignment["status"] == "pending"
    assert assignment["accessContainer"]["accessContainerId"] == SUPPORT_GROUP
    assert created.headers["Location"].endswith(f"{GDAP}/{rel['id']}/accessAssignments/{assignment['id']}")
    one = f"{GDAP}/{rel['id']}/accessAssignments/{assignment['id']}"
    assert api.get(one).json()["status"] == "pending"  # Microsoft has not applied it yet
    server.state.config["gdap_assignment_activation_seconds"] = 0
    server.state.gdap[rel["id"]]["_assignments"][0]["_active_at"] = 0
    assert api.get(one).json()["status"] == "active"
    assert [a["status"] for a in api.get(f"{GDAP}/{rel['id']}/accessAssignments").json()["value"]] == [
        "active"
    ]
    assert api.get(f"{GDAP}/{rel['id']}/accessAssignments/nope").status_code == 404


@pytest.mark.parametrize(
    "overrides",
    [
        {"accessContainer": {"accessContainerId": "support-team", "accessContainerType": "securityGroup"}},
        {"accessContainer": {"accessContainerId": SUPPORT_GROUP, "accessContainerType": "user"}},
        {"accessDetails": {"unifiedRoles": []}},
        {"accessDetails": {"unifiedRoles": [{"roleDefinitionId": GLOBAL_ADMIN}]}},  # not in the relationship
    ],
)
def test_access_assignment_validation(api: Api, anon: Api, overrides: dict[str, Any]) -> None:
    rel = active_relationship(api, anon)
    answer = api.post(f"{GDAP}/{rel['id']}/accessAssignments", json=assignment_body(**overrides))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"
    assert api.get(f"{GDAP}/{rel['id']}/accessAssignments").json()["value"] == []


def test_access_assignment_needs_an_active_relationship(api: Api) -> None:
    rel = create_and_lock(api)
    answer = api.post(f"{GDAP}/{rel['id']}/accessAssignments", json=assignment_body())
    assert answer.status_code == 400


def test_unknown_gdap_relationship_is_404(api: Api) -> None:
    answer = api.get(f"{GDAP}/nope")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NotFound"


def test_gdap_approval_page_reads_the_fragment_and_approves(
    api: Api, anon: Api, server: SandboxServer
) -> None:
    rel = create_and_lock(api)
    home = anon.get("/AdminPortal/Home")
    assert home.status_code == 200
    assert "location.hash" in home.text and "/AdminPortal/granularAdminRelationships/" in home.text
    page = anon.get(f"/AdminPortal/granularAdminRelationships/{rel['id']}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Directory Readers" in text and "Helpdesk Administrator" in text
    assert "P730D" in text and "730 days" in text
    assert ">Approve</button>" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    done = anon.post(action)
    assert done.status_code == 200
    assert "is now active" in unescape(done.text)
    assert server.state.gdap[rel["id"]]["status"] == "active"


def _form(page: requests.Response) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return action, {k: unescape(v) for k, v in hidden.items()}


def test_indirect_invitation_accepted_through_the_admin_portal(api: Api, anon: Api) -> None:
    url = api.get(f"/v1/customers/relationshiprequests?indirectResellerId={FABRIKAM}").json()["url"]
    page = anon.get(url.split("#")[0])
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Fabrikam IT Services" in text and "Northwind Distribution" in text
    assert '<label for="domain">Your organization\'s domain</label>' in page.text
    assert ">Accept and authorize</button>" in page.text
    action, fields = _form(page)
    answer = anon.post(action, data={**fields, "domain": "contoso.com"})
    assert answer.status_code == 200
    assert "Fabrikam IT Services is now authorized" in unescape(answer.text)
    assert api.get(f"/v1/customers/{CONTOSO}").status_code == 200
    resellers = api.get(f"/v1/customers/{CONTOSO}/relationships").json()["items"]
    assert [r["id"] for r in resellers] == [FABRIKAM]


def test_direct_invitation_accepted_with_the_initial_domain(
    api: Api, anon: Api, server: SandboxServer
) -> None:
    url = api.get("/v1/customers/relationshiprequests").json()["url"]
    page = anon.get(url.split("#")[0].replace("/Adminportal/", "/AdminPortal/"))
    assert "Northwind Distribution" in unescape(page.text)
    action, fields = _form(page)
    answer = anon.post(action, data={**fields, "domain": "wingtiptoys.onmicrosoft.com"})
    assert "Northwind Distribution is now authorized" in unescape(answer.text)
    assert api.get(f"/v1/customers/{WINGTIP}/relationships").json()["items"] == []
    assert server.state.customers[WINGTIP].mca_accepted


def test_acceptance_with_an_unknown_domain_shows_an_error(api: Api, anon: Api) -> None:
    url = api.get("/v1/customers/relationshiprequests").json()["url"]
    action, fields = _form(anon.get(url))
    answer = anon.post(action, data={**fields, "domain": "nobody.example"})
    assert answer.status_code == 400
    assert "couldn't find an organization with the domain 'nobody.example'" in unescape(answer.text)
    assert ">Accept and authorize</button>" in answer.text


def test_invitation_from_a_reseller_outside_the_network_is_refused(anon: Api) -> None:
    page = anon.get(
        "/Adminportal/Home?invType=IndirectResellerRelationship"
        "&partnerId=22222222-2222-4222-8222-555555555555&msppId=4567890"
        "&indirectCSPId=d1570b00-0000-4000-8000-000000000001&DAP=false"
    )
    assert page.status_code == 400
    assert "not valid" in page.text
