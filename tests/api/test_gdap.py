"""GDAP over the API: read-only for resellers and direct customers (the distributor's relationships with their
customers' tenants, followed until the roles are in effect); POST is gone (405)."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from csp import gdap, trust
from csp.models import GdapRequest, GdapRoleTemplate
from tests.api.conftest import api_client_for, assert_error, sandbox_faults
from tests.factories import OrderFactory, TenantAuthorizationFactory, UserFactory
from tests.sandbox_ids import CONTOSO_TENANT

pytestmark = pytest.mark.django_db
FIELDS = {
    "id",
    "status",
    "relationship_id",
    "approval_link",
    "customer_tenant_id",
    "roles",
    "access_assignment_status",
    "expires_at",
}
WINGTIP_TENANT = "33333333-3333-4333-8333-000000000002"
SUPPORT_GROUP = "6f1c0f5e-8a55-4d3b-9a55-0c1d2e3f4a5b"
TEMPLATES = "/api/v1/gdap-role-templates/"
REQUESTS = "/api/v1/gdap-requests/"


@pytest.fixture
def helpdesk(helpdesk):
    helpdesk.security_group_id = SUPPORT_GROUP
    helpdesk.save()
    return helpdesk


def hold(organization, tenant_id: str) -> None:
    """What completing an order records (csp/trust.py); the factory's verified authorizations record it already."""
    trust.tenant_hold(
        tenant_id=tenant_id, organization_id=organization.pk, source=trust.Source.NEW_TENANT_ORDER
    )


def distributor_request(staff_user, organization, template, tenant=CONTOSO_TENANT) -> GdapRequest:
    """What staff do in admin, and the worker after them."""
    gdap_request = gdap.gdap_request_create(
        organization_id=organization.pk,
        customer_tenant_id=tenant,
        role_template_id=template.pk,
        user_id=staff_user.pk,
    )
    return gdap.gdap_request_submit(gdap_request_id=gdap_request.pk)


def approve(server, relationship_id: str) -> None:
    requests.post(
        f"{server.url}/_sandbox/gdap/{relationship_id}/approve", json={}, timeout=10
    ).raise_for_status()


def graph_calls(server) -> int:
    log = requests.get(f"{server.url}/_sandbox/requests", timeout=10).json()["requests"]
    return sum(1 for r in log if r["target"].startswith("/v1.0/"))


def stale(gdap_request_id: int) -> None:
    GdapRequest.objects.filter(pk=gdap_request_id).update(
        last_checked_at=timezone.now() - timedelta(seconds=11)
    )


# Role templates ----------------------------------------------------------------------------------------------


def test_role_templates_lists_the_active_ones_default_first(owner_api, direct_user, helpdesk):
    GdapRoleTemplate.objects.create(
        name="Retired", roles=[{"name": "Directory Readers", "role_definition_id": "x"}], is_active=False
    )
    response = owner_api.get(TEMPLATES)
    assert response.status_code == 200
    body = response.json()
    assert [t["name"] for t in body] == ["Helpdesk (least privilege)", "User administration"]
    assert set(body[0]) == {"id", "name", "roles"}  # no security group: that is the distributor's business
    assert body[0]["id"] == helpdesk.pk and body[0]["roles"] == helpdesk.roles
    assert api_client_for(direct_user).get(TEMPLATES).json() == body


# Reading the distributor's relationships ---------------------------------------------------------------------


def test_a_reseller_follows_the_distributors_relationship_until_the_roles_are_in_effect(
    owner_api, staff_user, reseller, verified_contoso, helpdesk, sandbox
):
    gdap_request = distributor_request(staff_user, reseller, helpdesk)
    listed = owner_api.get(REQUESTS)
    assert listed.status_code == 200
    [body] = listed.json()
    assert set(body) == FIELDS
    assert body["id"] == gdap_request.pk and body["status"] == "approvalPending"
    assert body["customer_tenant_id"] == CONTOSO_TENANT
    assert body["relationship_id"] and body["relationship_id"] in body["approval_link"]
    assert body["roles"] == helpdesk.roles and body["access_assignment_status"] is None
    detail = f"{REQUESTS}{gdap_request.pk}/"
    assert owner_api.get(detail).json() == body

    approve(sandbox, body["relationship_id"])
    # Just read from Microsoft: the stored status answers until the refresh interval has passed.
    assert owner_api.get(detail).json()["status"] == "approvalPending"
    stale(gdap_request.pk)
    followed = owner_api.get(detail).json()
    assert (followed["status"], followed["access_assignment_status"]) == ("active", "pending")
    stale(gdap_request.pk)
    assert owner_api.get(detail).json()["access_assignment_status"] == "active"
    gdap_request.refresh_from_db()
    assert gdap_request.roles_active_at is not None and gdap_request.next_check_at is None


def test_a_direct_customer_sees_the_distributors_relationship_with_its_own_tenant(
    direct_user, staff_user, helpdesk, sandbox
):
    OrderFactory(
        organization=direct_user.organization,
        end_customer=None,
        status="completed",
        customer_tenant_id=WINGTIP_TENANT,
    )
    hold(direct_user.organization, WINGTIP_TENANT)
    gdap_request = distributor_request(staff_user, direct_user.organization, helpdesk, tenant=WINGTIP_TENANT)
    client = api_client_for(direct_user)
    assert [r["id"] for r in client.get(REQUESTS).json()] == [gdap_request.pk]
    assert client.get(f"{REQUESTS}{gdap_request.pk}/").json()["customer_tenant_id"] == WINGTIP_TENANT


def test_an_integrator_polling_the_api_does_not_push_the_workers_checks_out(
    owner_api, staff_user, reseller, verified_contoso, helpdesk, sandbox
):
    gdap_request = distributor_request(staff_user, reseller, helpdesk)
    scheduled = GdapRequest.objects.values_list("next_check_at", "check_attempts").get(pk=gdap_request.pk)
    for _ in range(5):
        stale(gdap_request.pk)
        assert owner_api.get(f"{REQUESTS}{gdap_request.pk}/").json()["status"] == "approvalPending"
    gdap_request.refresh_from_db()
    assert gdap_request.last_checked_at > timezone.now() - timedelta(
        seconds=5
    )  # Microsoft was asked each time
    assert (gdap_request.next_check_at, gdap_request.check_attempts) == scheduled


def test_get_answers_the_stored_status_when_microsoft_is_down(
    owner_api, staff_user, reseller, verified_contoso, helpdesk, sandbox
):
    gdap_request = distributor_request(staff_user, reseller, helpdesk)
    sandbox_faults(sandbox, {"fail": {"count": 50, "status": 503}})
    stale(gdap_request.pk)
    response = owner_api.get(f"{REQUESTS}{gdap_request.pk}/")
    assert response.status_code == 200
    assert response.json()["status"] == "approvalPending"


def test_each_organisation_sees_only_the_relationships_for_its_own_tenants(
    owner_api, teammate, outsider, direct_user, staff_user, reseller, verified_contoso, helpdesk, sandbox
):
    ours = distributor_request(staff_user, reseller, helpdesk)
    TenantAuthorizationFactory(
        organization=outsider.organization, verified=True, customer_tenant_id=WINGTIP_TENANT
    )
    theirs = distributor_request(staff_user, outsider.organization, helpdesk, tenant=WINGTIP_TENANT)

    assert [r["id"] for r in owner_api.get(REQUESTS).json()] == [ours.pk]
    assert [r["id"] for r in api_client_for(teammate).get(REQUESTS).json()] == [ours.pk]
    assert [r["id"] for r in api_client_for(outsider).get(REQUESTS).json()] == [theirs.pk]
    assert api_client_for(direct_user).get(REQUESTS).json() == []
    assert_error(owner_api.get(f"{REQUESTS}{theirs.pk}/"), 404, "not_found")
    assert_error(api_client_for(outsider).get(f"{REQUESTS}{ours.pk}/"), 404, "not_found")
    assert_error(owner_api.get(f"{REQUESTS}999999/"), 404, "not_found")


# POST is gone -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "direct_user"])
def test_post_answers_405_and_microsoft_receives_nothing(request, who, verified_contoso, helpdesk, sandbox):
    client = api_client_for(request.getfixturevalue(who))
    for body in (
        {"customer_tenant_id": CONTOSO_TENANT, "role_template": helpdesk.pk},
        {"customer_tenant_id": WINGTIP_TENANT, "role_template": helpdesk.pk, "duration_days": 730},
        {},
    ):
        response = client.post(REQUESTS, body, format="json")
        error = assert_error(response, 405, "method_not_allowed")
        assert "your own Partner Center" in error["message"]
        assert "POST" not in response["Allow"] and "GET" in response["Allow"]
    assert not GdapRequest.objects.exists()
    assert graph_calls(sandbox) == 0


def test_unauthenticated_calls_answer_401_and_staff_without_an_organisation_403(helpdesk):
    anonymous = api_client_for(None)
    for path in (TEMPLATES, REQUESTS, f"{REQUESTS}1/"):
        assert_error(anonymous.get(path), 401, "not_authenticated")
    assert_error(
        anonymous.post(REQUESTS, {"customer_tenant_id": CONTOSO_TENANT, "role_template": 1}, format="json"),
        401,
        "not_authenticated",
    )
    staff = api_client_for(UserFactory(email="ops@northwind.example", staff=True))
    assert_error(staff.get(REQUESTS), 403, "forbidden")
    assert_error(staff.get(TEMPLATES), 403, "forbidden")
