"""Tenant authorizations for existing tenants: create, read, verify with the sandbox, scoped to the organisation."""

import pytest

from csp.models import AuthorizationTransition, TenantAuthorization
from csp.mpn_ids import MPN_OUTSIDE_NETWORK_MESSAGE
from tests.api.conftest import api_client_for, assert_error, sandbox_faults
from tests.factories import EndCustomerFactory, ResellerMpnIdFactory, TenantAuthorizationFactory
from tests.pc_sandbox import accept_invitation
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN, FABRIKAM_TENANT, OUTSIDE_MPN

pytestmark = pytest.mark.django_db
FIELDS = {
    "id",
    "kind",
    "status",
    "domain_prefix",
    "default_domain",
    "authorization_link",
    "customer_tenant_id",
    "created_at",
    "expires_at",
}


def create(client, **body):
    return client.post("/api/v1/authorizations/", {"domain_prefix": "contoso", **body}, format="json")


def test_reseller_authorization_defaults_to_the_organisations_mpn_id(owner_api, owner, contoso, sandbox):
    response = create(owner_api, end_customer=contoso.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert body["kind"] == "indirect_reseller"
    assert body["status"] == "pending"
    assert body["domain_prefix"] == "contoso"
    assert body["default_domain"] == "contoso.onmicrosoft.com"
    assert body["customer_tenant_id"] is None
    assert f"partnerId={FABRIKAM_TENANT}" in body["authorization_link"]
    assert "msppId=1234567" in body["authorization_link"]
    authorization = TenantAuthorization.objects.get(pk=body["id"])
    assert authorization.reseller_mpn_id == FABRIKAM_MPN
    assert authorization.end_customer == contoso
    assert authorization.requested_by == owner
    assert authorization.transitions.get().actor == AuthorizationTransition.Actor.USER


def test_asking_again_reuses_the_pending_authorization(owner_api, sandbox):
    first = create(owner_api).json()
    second = create(owner_api, domain_prefix="contoso").json()
    assert second["id"] == first["id"]
    assert TenantAuthorization.objects.count() == 1


def test_direct_customer_gets_a_direct_authorization(direct_user, sandbox):
    response = create(api_client_for(direct_user), domain_prefix="woodgrove")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "direct"
    assert_error(create(api_client_for(direct_user), end_customer=1), 400, "invalid")


def test_an_mpn_id_outside_the_network_is_refused_with_the_exact_warning(owner_api, reseller, sandbox):
    ResellerMpnIdFactory(organization=reseller, mpn_id=OUTSIDE_MPN)
    body = assert_error(create(owner_api, mpn_id=OUTSIDE_MPN), 400, "mpn_not_in_network")
    assert body["message"] == MPN_OUTSIDE_NETWORK_MESSAGE.format(distributor="Northwind Distribution")
    assert body["fields"] == {"mpn_id": [body["message"]]}
    assert TenantAuthorization.objects.count() == 0


def test_the_end_customer_must_be_the_callers(owner_api, sandbox):
    foreign = EndCustomerFactory()
    body = assert_error(create(owner_api, end_customer=foreign.pk), 400, "invalid")
    assert "end_customer" in body["fields"]


def test_a_malformed_prefix_is_refused(owner_api, sandbox):
    body = assert_error(create(owner_api, domain_prefix="con_toso"), 400, "invalid")
    assert "domain_prefix" in body["fields"]


def test_authorization_creation_answers_503_when_partner_center_is_down(owner_api, sandbox):
    sandbox_faults(sandbox, {"fail": {"count": 20, "status": 501}})
    assert_error(create(owner_api), 503, "partner_center_unavailable")


def test_authorization_is_visible_to_the_organisation_only(owner, teammate, outsider, sandbox):
    authorization = TenantAuthorizationFactory(organization=owner.organization)
    path = f"/api/v1/authorizations/{authorization.pk}/"
    assert api_client_for(owner).get(path).json()["id"] == authorization.pk
    assert api_client_for(teammate).get(path).status_code == 200
    assert_error(api_client_for(outsider).get(path), 404, "not_found")
    assert_error(api_client_for(outsider).post(f"{path}verify/", {}, format="json"), 404, "not_found")
    assert_error(api_client_for(owner).get("/api/v1/authorizations/999999/"), 404, "not_found")


def test_verify_says_not_yet_until_the_customer_accepts_then_verifies(owner_api, contoso, sandbox):
    authorization_id = create(owner_api, end_customer=contoso.pk).json()["id"]
    verify = f"/api/v1/authorizations/{authorization_id}/verify/"
    response = owner_api.post(verify, {"default_domain": "contoso.com"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS | {"message"}
    assert body["status"] == "pending"
    assert body["message"].startswith("The authorization has not been completed yet")
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com")
    body = owner_api.post(verify, {"default_domain": "contoso.com"}, format="json").json()
    assert body["status"] == "verified"
    assert body["customer_tenant_id"] == CONTOSO_TENANT
    assert body["default_domain"] == "contoso.com"
    assert "verified" in body["message"]
    contoso.refresh_from_db()
    assert contoso.tenant_id == CONTOSO_TENANT
    assert owner_api.get(f"/api/v1/authorizations/{authorization_id}/").json()["status"] == "verified"


def test_verify_defaults_to_the_initial_domain(owner_api, sandbox):
    authorization_id = create(owner_api).json()["id"]
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com")
    body = owner_api.post(f"/api/v1/authorizations/{authorization_id}/verify/", {}, format="json").json()
    assert body["status"] == "verified"


def test_verify_refuses_a_malformed_domain_and_a_cancelled_request(owner, owner_api, sandbox):
    authorization = TenantAuthorizationFactory(organization=owner.organization)
    verify = f"/api/v1/authorizations/{authorization.pk}/verify/"
    body = assert_error(
        owner_api.post(verify, {"default_domain": "https://x"}, format="json"), 400, "invalid"
    )
    assert "default_domain" in body["fields"]
    TenantAuthorization.objects.filter(pk=authorization.pk).update(status="cancelled")
    body = assert_error(
        owner_api.post(verify, {"default_domain": "contoso.com"}, format="json"), 400, "invalid"
    )
    assert "cancelled" in body["message"]
