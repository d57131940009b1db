"""GDAP over the API: the offered role templates, a request created and locked at Microsoft, followed to active."""

from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.utils import timezone

from csp.models import GdapRequest, GdapRoleTemplate
from tests.api.conftest import api_client_for, assert_error, sandbox_faults
from tests.factories import OrderFactory, TenantAuthorizationFactory
from tests.pc_sandbox import accept_invitation
from tests.sandbox_ids import CONTOSO_TENANT, WINGTIP_TENANT

pytestmark = pytest.mark.django_db
FIELDS = {"id", "status", "relationship_id", "approval_link", "customer_tenant_id", "expires_at"}
TEMPLATES = "/api/v1/gdap-role-templates/"
REQUESTS = "/api/v1/gdap-requests/"


def create(client, template, tenant=CONTOSO_TENANT, **body):
    return client.post(
        REQUESTS, {"customer_tenant_id": tenant, "role_template": template.pk, **body}, format="json"
    )


def approve(server, relationship_id: str) -> None:
    requests.post(
        f"{server.url}/_sandbox/gdap/{relationship_id}/approve", json={}, timeout=10
    ).raise_for_status()


# Role templates ----------------------------------------------------------------------------------------------


def test_role_templates_lists_the_active_ones_default_first(owner_api, helpdesk):
    GdapRoleTemplate.objects.create(
        name="Retired", roles=[{"name": "Directory Readers", "role_definition_id": "x"}], is_active=False
    )
    response = owner_api.get(TEMPLATES)
    assert response.status_code == 200
    body = response.json()
    assert [t["name"] for t in body] == ["Helpdesk (least privilege)", "User administration"]
    assert set(body[0]) == {"id", "name", "roles"}
    assert body[0]["id"] == helpdesk.pk
    assert body[0]["roles"] == helpdesk.roles
    assert all(set(role) == {"name", "role_definition_id"} for role in body[0]["roles"])


# Create and follow -------------------------------------------------------------------------------------------


def test_verified_tenant_request_is_created_locked_and_followed_to_active(
    owner_api, owner, contoso, helpdesk, sandbox, django_capture_on_commit_callbacks
):
    """The whole flow over the API: authorize, accept, verify, ask admin access, approve, follow."""
    authorization_id = owner_api.post(
        "/api/v1/authorizations/", {"domain_prefix": "contoso", "end_customer": contoso.pk}, format="json"
    ).json()["id"]
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com")
    verified = owner_api.post(
        f"/api/v1/authorizations/{authorization_id}/verify/", {"default_domain": "contoso.com"}, format="json"
    ).json()
    assert verified["status"] == "verified"

    with django_capture_on_commit_callbacks(execute=True):
        response = create(owner_api, helpdesk, duration_days=365, auto_extend=True)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert body["status"] == "approvalPending"
    assert body["customer_tenant_id"] == CONTOSO_TENANT
    assert body["relationship_id"] and body["relationship_id"] in body["approval_link"]
    assert body["expires_at"]
    assert response["Location"] == f"{REQUESTS}{body['id']}/"
    gdap_request = GdapRequest.objects.get(pk=body["id"])
    assert gdap_request.requested_by == owner
    assert (gdap_request.duration_days, gdap_request.auto_extend) == (365, True)
    assert mail.outbox[-1].to == [owner.email]
    assert body["approval_link"] in mail.outbox[-1].body

    detail = f"{REQUESTS}{body['id']}/"
    assert owner_api.get(detail).json() == {**body, "status": "approvalPending"}
    approve(sandbox, body["relationship_id"])
    # Just read from Microsoft: the stored status answers until the refresh interval has passed.
    assert owner_api.get(detail).json()["status"] == "approvalPending"
    GdapRequest.objects.filter(pk=body["id"]).update(last_checked_at=timezone.now() - timedelta(seconds=11))
    with django_capture_on_commit_callbacks(execute=True):
        followed = owner_api.get(detail).json()
    assert followed["status"] == "active"
    assert "is active" in mail.outbox[-1].subject
    assert GdapRequest.objects.get(pk=body["id"]).next_check_at is None


def test_a_new_request_is_refreshed_on_its_first_get(owner_api, verified_contoso, helpdesk, sandbox):
    body = create(owner_api, helpdesk).json()
    assert body["status"] == "approvalPending"
    approve(sandbox, body["relationship_id"])
    assert owner_api.get(f"{REQUESTS}{body['id']}/").json()["status"] == "active"


def test_an_integrator_polling_the_api_does_not_push_the_workers_checks_out(
    owner_api, verified_contoso, helpdesk, sandbox
):
    body = create(owner_api, helpdesk).json()
    scheduled = GdapRequest.objects.values_list("next_check_at", "check_attempts").get(pk=body["id"])
    for _ in range(5):
        GdapRequest.objects.filter(pk=body["id"]).update(
            last_checked_at=timezone.now() - timedelta(seconds=11)
        )
        assert owner_api.get(f"{REQUESTS}{body['id']}/").json()["status"] == "approvalPending"
    gdap_request = GdapRequest.objects.get(pk=body["id"])
    assert gdap_request.last_checked_at > timezone.now() - timedelta(
        seconds=5
    )  # Microsoft was asked each time
    assert (gdap_request.next_check_at, gdap_request.check_attempts) == scheduled


def test_a_completed_orders_tenant_is_allowed_with_the_default_duration(
    owner_api, reseller, helpdesk, sandbox
):
    OrderFactory(organization=reseller, status="completed", customer_tenant_id=WINGTIP_TENANT)
    response = create(owner_api, helpdesk, tenant=WINGTIP_TENANT.upper())
    assert response.status_code == 201, response.content
    assert response.json()["customer_tenant_id"] == WINGTIP_TENANT
    assert GdapRequest.objects.get().duration_days == 730


def test_get_answers_the_stored_status_when_microsoft_is_down(owner_api, verified_contoso, helpdesk, sandbox):
    body = create(owner_api, helpdesk).json()
    sandbox_faults(sandbox, {"fail": {"count": 50, "status": 503}})
    response = owner_api.get(f"{REQUESTS}{body['id']}/")
    assert response.status_code == 200
    assert response.json()["status"] == "approvalPending"


def test_creation_answers_503_when_partner_center_is_down(owner_api, verified_contoso, helpdesk, sandbox):
    sandbox_faults(sandbox, {"fail": {"count": 50, "status": 503}})
    assert_error(create(owner_api, helpdesk), 503, "partner_center_unavailable")


# Refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, 731, -5])
def test_duration_outside_microsofts_limits_is_refused(owner_api, verified_contoso, helpdesk, sandbox, days):
    body = assert_error(create(owner_api, helpdesk, duration_days=days), 400, "invalid")
    assert set(body["fields"]) == {"duration_days"}
    assert "between 1 and 730" in body["message"]
    assert not GdapRequest.objects.exists()


def test_an_unknown_or_retired_role_template_is_refused(owner_api, verified_contoso, sandbox):
    retired = GdapRoleTemplate.objects.create(
        name="Retired", roles=[{"name": "Directory Readers", "role_definition_id": "x"}], is_active=False
    )
    for template_id in (retired.pk, 999999):
        body = assert_error(
            owner_api.post(
                REQUESTS, {"customer_tenant_id": CONTOSO_TENANT, "role_template": template_id}, format="json"
            ),
            400,
            "invalid",
        )
        assert set(body["fields"]) == {"role_template"}


def test_no_auto_extend_with_global_administrator(owner_api, verified_contoso, global_admin, sandbox):
    body = assert_error(create(owner_api, global_admin, auto_extend=True), 400, "invalid")
    assert set(body["fields"]) == {"auto_extend"}
    assert "Global Administrator" in body["message"]
    assert create(owner_api, global_admin, auto_extend=False).status_code == 201


def test_a_tenant_that_is_not_the_callers_is_refused(
    owner_api, outsider, verified_contoso, helpdesk, sandbox
):
    """Another reseller's verified tenant, and the caller's own authorization while still pending."""
    TenantAuthorizationFactory(
        organization=outsider.organization, verified=True, customer_tenant_id=WINGTIP_TENANT
    )
    body = assert_error(create(owner_api, helpdesk, tenant=WINGTIP_TENANT), 403, "forbidden")
    assert set(body["fields"]) == {"customer_tenant_id"}
    pending_tenant = "33333333-3333-4333-8333-000000000009"
    TenantAuthorizationFactory(organization=verified_contoso.organization, customer_tenant_id=pending_tenant)
    assert_error(create(owner_api, helpdesk, tenant=pending_tenant), 403, "forbidden")
    assert not GdapRequest.objects.exists()


def test_malformed_bodies_are_refused(owner_api, verified_contoso, helpdesk, sandbox):
    body = assert_error(create(owner_api, helpdesk, tenant="contoso.com"), 400, "invalid")
    assert set(body["fields"]) == {"customer_tenant_id"}
    body = assert_error(owner_api.post(REQUESTS, {}, format="json"), 400, "invalid")
    assert {"customer_tenant_id", "role_template"} <= set(body["fields"])
    body = assert_error(create(owner_api, helpdesk, duration_days="soon"), 400, "invalid")
    assert set(body["fields"]) == {"duration_days"}
    assert not GdapRequest.objects.exists()


# Who may call ------------------------------------------------------------------------------------------------


def test_a_request_is_visible_to_the_organisation_only(
    owner_api, teammate, outsider, verified_contoso, helpdesk, sandbox
):
    body = create(owner_api, helpdesk).json()
    path = f"{REQUESTS}{body['id']}/"
    assert api_client_for(teammate).get(path).json()["id"] == body["id"]
    assert_error(api_client_for(outsider).get(path), 404, "not_found")
    assert_error(owner_api.get(f"{REQUESTS}999999/"), 404, "not_found")


def test_unauthenticated_calls_answer_401(helpdesk):
    anonymous = api_client_for(None)
    assert_error(anonymous.get(TEMPLATES), 401, "not_authenticated")
    assert_error(
        anonymous.post(REQUESTS, {"customer_tenant_id": CONTOSO_TENANT, "role_template": 1}, format="json"),
        401,
        "not_authenticated",
    )
    assert_error(anonymous.get(f"{REQUESTS}1/"), 401, "not_authenticated")


def test_direct_customers_are_refused(direct_user, helpdesk):
    client = api_client_for(direct_user)
    TenantAuthorizationFactory(direct=True, organization=direct_user.organization, verified=True)
    body = assert_error(client.get(TEMPLATES), 403, "forbidden")
    assert "resellers" in body["message"]
    assert_error(create(client, helpdesk), 403, "forbidden")
    assert_error(client.get(f"{REQUESTS}1/"), 403, "forbidden")
