"""GDAP over Microsoft Graph: relationships created, found, locked, read; access assignments; the approval link;
against documented answers and the sandbox (approved on its admin-portal page)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import pytest
import requests

from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import NotFound, PermanentPartnerCenterError
from csp.partner_center.schemas import PartnerCenterConfig

from .helpers import (
    CONTOSO_TENANT,
    GDAP_ID,
    GRAPH,
    body,
    load,
    query,
    sent,
)
from .live import (
    CONTOSO,
    DIRECTORY_READERS,
    HELPDESK_ADMINISTRATOR,
    parse_page,
    small_gdap,
    submit,
)


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


def test_gdap_relationship_is_created_locked_approved_on_the_portal_page_and_becomes_active(
    url: str, live: PartnerCenterClient
) -> None:
    created = live.create_gdap_relationship(
        display_name="Northwind GDAP Contoso",
        customer_tenant_id=CONTOSO,
        customer_name="Contoso Ltd",
        role_definition_ids=[DIRECTORY_READERS, HELPDESK_ADMINISTRATOR],
        duration_days=730,
        auto_extend=True,
        request_id=str(uuid.uuid4()),
    )
    assert created.status == "created"
    assert created.etag

    live.lock_gdap_for_approval(created.id, etag=created.etag, request_id=str(uuid.uuid4()))
    assert live.get_gdap_relationship(created.id).status == "approvalPending"

    link = live.gdap_approval_link(created.id)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == url
    prefix = "/partners/invitation/granularAdminRelationships/"
    assert parts.fragment.startswith(prefix)
    relationship_id = unquote(parts.fragment[len(prefix) :])
    assert relationship_id == created.id

    with requests.Session() as browser:
        # The browser never sends the fragment: the home page's script reads it and opens the GDAP page.
        home = browser.get(link, timeout=10)
        assert home.status_code == 200
        assert any("granularAdminRelationships" in s for s in parse_page(home.text).scripts)
        page_url = f"{url}/AdminPortal/granularAdminRelationships/{relationship_id}"
        opened = browser.get(page_url, timeout=10)
        assert opened.status_code == 200
        details = parse_page(opened.text)
        assert "Northwind GDAP Contoso" in details.page_text
        assert "Directory Readers" in details.page_text and "Helpdesk Administrator" in details.page_text
        (form,) = details.forms
        assert form.buttons == ["Approve"]

        approved = submit(browser, page_url, form)

    assert approved.status_code == 200, approved.text
    assert "is now active" in parse_page(approved.text).page_text
    active = live.get_gdap_relationship(created.id)
    assert active.status == "active"
    assert active.end_date_time is not None
    assert (active.end_date_time - datetime.now(UTC)).days in (729, 730)
    # A retry looks it up by its unique display name; then the roles go to the partner's security group.
    assert live.find_gdap_relationship("Northwind GDAP Contoso").id == created.id
    assert live.find_gdap_relationship("Northwind GDAP Fabrikam") is None
    assignment = live.create_gdap_access_assignment(
        created.id,
        security_group_id="6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b",
        role_definition_ids=[HELPDESK_ADMINISTRATOR],
        request_id=str(uuid.uuid4()),
    )
    assert assignment.status == "pending" and assignment.role_definition_ids == (HELPDESK_ADMINISTRATOR,)
    assert [a.id for a in live.gdap_access_assignments(created.id)] == [assignment.id]
    assert live.get_gdap_access_assignment(created.id, assignment.id).status == "active"


def test_gdap_page_has_no_approve_button_before_the_relationship_is_locked(
    url: str, live: PartnerCenterClient
) -> None:
    created = small_gdap(live, "Not yet locked")

    page = requests.get(f"{url}/AdminPortal/granularAdminRelationships/{created.id}", timeout=10)

    assert page.status_code == 200
    assert parse_page(page.text).forms == []
    assert "has not sent this request for approval yet" in page.text
    assert live.get_gdap_relationship(created.id).status == "created"


def test_gdap_errors_from_graph_are_permanent_with_graphs_code(live: PartnerCenterClient) -> None:
    with pytest.raises(NotFound) as missing:
        live.get_gdap_relationship(f"{uuid.uuid4()}-{uuid.uuid4()}")
    assert missing.value.code == "NotFound"

    created = small_gdap(live, "Locked twice")
    live.lock_gdap_for_approval(created.id)
    with pytest.raises(PermanentPartnerCenterError) as twice:
        live.lock_gdap_for_approval(created.id)
    assert twice.value.status == 400
    assert twice.value.code == "BadRequest"
