"""The trust boundary: nobody orders into, or verifies, a Microsoft tenant that is not theirs.

Owner and teammate belong to Fabrikam (MPN ID 1234567); the outsider to Adatum (2345678, also in the
distributor's network); the direct customer to Woodgrove. Every refusal is checked to have reached Microsoft not at
all: the sandbox counts every request it receives.
"""

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing.models import Order
from csp import authorizations, mpn_ids, provisioning, trust
from csp.models import AuthorizationTransition, ResellerMpnId, TenantAuthorization, TenantHolding
from csp.trust import MPN_NOT_YOURS_MESSAGE
from tests.api.conftest import api_client_for, assert_error
from tests.factories import (
    EndCustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ResellerMpnIdFactory,
    TenantAuthorizationFactory,
)
from tests.pc_sandbox import accept_invitation, sandbox_state
from tests.sandbox_ids import ADATUM_MPN, ADATUM_TENANT, ALPINE_TENANT, CONTOSO_TENANT, FABRIKAM_MPN

pytestmark = pytest.mark.django_db

NO_TENANT_MESSAGE = "No Microsoft tenant uses this domain yet: order it as a new tenant."
AGREEMENT = {
    "accepted": True,
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@contoso.example",
    "phone": "4255550101",
}


def microsoft_requests(sandbox) -> int:
    return sum(sandbox_state(sandbox)["request_counts"].values())


def order_body(product, end_customer=None, **extra) -> dict:
    body = {"lines": [{"product": product.pk, "quantity": 3}], "customer_agreement": AGREEMENT, **extra}
    if end_customer is not None:
        body["end_customer"] = end_customer.pk
    return body


def place(client, body, key="trust-order-1"):
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def owner_api(owner):
    return api_client_for(owner)


@pytest.fixture
def outsider_api(outsider):
    return api_client_for(outsider)


# An MPN ID is the buyer's own ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["authorization", "order", "validation"])
def test_another_resellers_mpn_id_is_refused_before_microsoft_hears_of_it(
    owner_api, outsider, contoso, product, sandbox, path
):
    if path == "authorization":
        response = owner_api.post(
            "/api/v1/authorizations/",
            {"domain_prefix": "alpineskihouse", "mpn_id": ADATUM_MPN, "end_customer": contoso.pk},
            format="json",
        )
        body = assert_error(response, 403, "mpn_id_not_yours")
        assert body["fields"] == {"mpn_id": [MPN_NOT_YOURS_MESSAGE]}
    elif path == "order":
        response = place(
            owner_api, order_body(product, contoso, domain_prefix="brandnew42", mpn_id=ADATUM_MPN)
        )
        assert assert_error(response, 403, "mpn_id_not_yours")["message"] == MPN_NOT_YOURS_MESSAGE
    else:
        body = owner_api.post("/api/v1/mpn-validations/", {"mpn_id": ADATUM_MPN}, format="json").json()
        assert body == {
            "mpn_id": ADATUM_MPN,
            "valid": False,
            "reseller_name": "",
            "message": MPN_NOT_YOURS_MESSAGE,
        }
    assert TenantAuthorization.objects.count() == 0
    assert Order.objects.count() == 0
    assert microsoft_requests(sandbox) == 0


def test_service_details_says_at_the_field_that_the_mpn_id_is_not_the_buyers(
    client, owner, owner_draft, sandbox
):
    client.force_login(owner)
    response = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "alpineskihouse", "mpn_id": ADATUM_MPN, "existing_tenant": "on", "check": "mpn"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert escape(MPN_NOT_YOURS_MESSAGE) in page
    assert "authorization-link" not in page
    assert TenantAuthorization.objects.count() == 0
    owner_draft.refresh_from_db()
    assert owner_draft.mpn_id == ADATUM_MPN  # what the buyer typed is kept, to be corrected
    submit = client.post(
        reverse("checkout:service_details"),
        {"domain_prefix": "alpineskihouse", "mpn_id": ADATUM_MPN, "existing_tenant": "on"},
    )
    assert submit.status_code == 400
    assert escape(MPN_NOT_YOURS_MESSAGE) in submit.content.decode()
    assert microsoft_requests(sandbox) == 0


def test_a_colleague_may_use_every_mpn_id_of_the_organisation(teammate, reseller, contoso, sandbox):
    ResellerMpnIdFactory(organization=reseller, mpn_id=ADATUM_MPN)  # staff recorded a second location
    authorization = authorizations.tenant_authorization_request(
        organization_id=reseller.pk,
        user_id=teammate.pk,
        domain_prefix="contoso",
        mpn_id=ADATUM_MPN,
        end_customer_id=contoso.pk,
    )
    assert authorization.reseller_mpn_id == ADATUM_MPN
    assert authorization.reseller_tenant_id == ADATUM_TENANT


def test_a_direct_customer_cannot_name_an_mpn_id(direct_user, sandbox):
    response = api_client_for(direct_user).post(
        "/api/v1/authorizations/", {"domain_prefix": "woodgrove", "mpn_id": FABRIKAM_MPN}, format="json"
    )
    assert assert_error(response, 400, "invalid")["fields"] == {
        "mpn_id": ["Direct customers order without an MPN ID: leave it out."]
    }
    assert microsoft_requests(sandbox) == 0


def test_an_mpn_id_cannot_belong_to_two_organisations(outsider, reseller):
    from storefront.accounts.admin import OrganizationForm

    form = OrganizationForm(
        instance=outsider.organization,
        data={"company_name": "Adatum", "kind": "reseller", "mpn_id": reseller.mpn_id},
    )
    assert not form.is_valid()
    assert form.errors["mpn_id"] == [f"MPN ID {reseller.mpn_id} already belongs to {reseller}."]


# A tenant is proved, not claimed ---------------------------------------------------------------------------------


def test_a_prefix_no_tenant_uses_gets_no_authorization(owner_api, sandbox):
    response = owner_api.post("/api/v1/authorizations/", {"domain_prefix": "nobodyhere42"}, format="json")
    body = assert_error(response, 400, "no_tenant_for_domain")
    assert body["message"] == NO_TENANT_MESSAGE
    assert TenantAuthorization.objects.count() == 0


def test_verify_refuses_a_default_domain_of_another_tenant(owner_api, contoso, sandbox):
    created = owner_api.post(
        "/api/v1/authorizations/", {"domain_prefix": "contoso", "end_customer": contoso.pk}, format="json"
    ).json()
    accept_invitation(sandbox, domain="wingtiptoys.onmicrosoft.com")  # another tenant accepted Fabrikam
    verified = owner_api.post(
        f"/api/v1/authorizations/{created['id']}/verify/",
        {"default_domain": "wingtiptoys.com"},
        format="json",
    ).json()
    assert verified["status"] == "pending"
    assert "belongs to a different Microsoft tenant than contoso.onmicrosoft.com" in verified["message"]
    assert not TenantHolding.objects.exists()


def test_a_direct_link_for_a_tenant_already_the_distributors_proves_nothing(direct_user, staff_user, sandbox):
    """Alpine Ski House is the distributor's customer through Fabrikam: a direct buyer cannot take it over."""
    client = api_client_for(direct_user)
    created = client.post(
        "/api/v1/authorizations/", {"domain_prefix": "alpineskihouse"}, format="json"
    ).json()
    authorization = TenantAuthorization.objects.get(pk=created["id"])
    assert authorization.tenant_was_customer is True
    assert authorization.expected_tenant_id == ALPINE_TENANT
    verified = client.post(
        f"/api/v1/authorizations/{created['id']}/verify/",
        {"default_domain": "alpineskihouse.com"},
        format="json",
    ).json()
    assert verified["status"] == "pending"
    assert "was already a customer of Northwind Distribution before you asked" in verified["message"]
    from csp import polling

    polling.authorizations_poll_pass(due_only=False)
    authorization.refresh_from_db()
    assert authorization.status == "pending"
    assert not TenantHolding.objects.filter(organization=direct_user.organization).exists()

    result = authorizations.tenant_authorization_approve_ownership(
        authorization_id=authorization.pk, user_id=staff_user.pk, reason="Called Woodgrove's IT; ticket 4711"
    )
    assert result.verified
    holding = TenantHolding.objects.get(organization=direct_user.organization)
    assert (holding.tenant_id, holding.source, holding.decided_by) == (
        ALPINE_TENANT,
        "staff_decision",
        staff_user,
    )
    history = list(authorization.transitions.values_list("actor", "microsoft_answer"))
    assert (
        "admin",
        "Approved as the organisation's tenant by a distributor admin: Called Woodgrove's IT; ticket 4711",
    ) in history


def test_a_direct_link_accepted_by_a_new_customer_verifies(direct_user, sandbox):
    client = api_client_for(direct_user)
    created = client.post("/api/v1/authorizations/", {"domain_prefix": "woodgrove"}, format="json").json()
    assert TenantAuthorization.objects.get(pk=created["id"]).tenant_was_customer is False
    accept_invitation(sandbox, domain="woodgrove.onmicrosoft.com", reseller_tenant_id=None)
    verified = client.post(
        f"/api/v1/authorizations/{created['id']}/verify/",
        {"default_domain": "woodgrovebank.com"},
        format="json",
    ).json()
    assert verified["status"] == "verified", verified
    assert TenantHolding.objects.filter(
        organization=direct_user.organization, source="authorization"
    ).exists()


def test_staff_approval_needs_a_reason(staff_user, direct_user, sandbox):
    authorization = TenantAuthorizationFactory(
        direct=True, organization=direct_user.organization, domain_prefix="woodgrove"
    )
    with pytest.raises(authorizations.InvalidInput):
        authorizations.tenant_authorization_approve_ownership(
            authorization_id=authorization.pk, user_id=staff_user.pk, reason=" "
        )
    assert authorization.transitions.count() == 0


# One tenant, one owner -------------------------------------------------------------------------------------------


def test_a_tenant_held_by_one_reseller_is_not_verified_for_another(
    owner_api, outsider_api, outsider, contoso, staff_user, sandbox
):
    from tests.api.test_orders import verified_authorization

    verified_authorization(owner_api, sandbox, contoso)  # Fabrikam holds Contoso
    adatum_customer = EndCustomerFactory(reseller=outsider.organization, company_name="Contoso (Adatum)")
    created = outsider_api.post(
        "/api/v1/authorizations/",
        {"domain_prefix": "contoso", "end_customer": adatum_customer.pk},
        format="json",
    ).json()
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com", reseller_tenant_id=ADATUM_TENANT)
    verified = outsider_api.post(
        f"/api/v1/authorizations/{created['id']}/verify/", {"default_domain": "contoso.com"}, format="json"
    ).json()
    assert verified["status"] == "pending"
    assert "already held by another organisation" in verified["message"]
    adatum_customer.refresh_from_db()
    assert adatum_customer.tenant_id == ""

    result = authorizations.tenant_authorization_approve_ownership(
        authorization_id=created["id"],
        user_id=staff_user.pk,
        reason="Contoso moved to Adatum; both confirmed",
    )
    assert result.verified
    assert sorted(
        TenantHolding.objects.filter(tenant_id=CONTOSO_TENANT).values_list("source", flat=True)
    ) == [
        "authorization",
        "staff_decision",
    ]


# An order's end-customer is its authorization's ------------------------------------------------------------------


def test_an_order_cannot_move_an_authorization_to_another_end_customer(
    owner_api, reseller, contoso, product, sandbox
):
    from tests.api.test_orders import verified_authorization

    authorization_id = verified_authorization(owner_api, sandbox, contoso)
    wingtip = EndCustomerFactory(reseller=reseller, company_name="Wingtip Toys")
    calls = microsoft_requests(sandbox)
    response = place(owner_api, order_body(product, wingtip, authorization=authorization_id))
    assert assert_error(response, 400, "end_customer_mismatch")["fields"].keys() == {"end_customer"}
    assert Order.objects.count() == 0
    assert microsoft_requests(sandbox) == calls
    wingtip.refresh_from_db()
    assert wingtip.tenant_id == ""


def test_an_authorization_asked_without_an_end_customer_belongs_to_its_first_orders(
    owner_api, reseller, contoso, product, sandbox
):
    """The API may ask for an authorization without naming the end-customer: its first order names it, and the
    tenant then cannot be ordered for a second end-customer (an order's end-customer is its authorization's)."""
    created = owner_api.post("/api/v1/authorizations/", {"domain_prefix": "contoso"}, format="json").json()
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com")
    verified = owner_api.post(
        f"/api/v1/authorizations/{created['id']}/verify/", {"default_domain": "contoso.com"}, format="json"
    )
    assert verified.json()["status"] == "verified"
    first = place(owner_api, order_body(product, contoso, authorization=created["id"]))
    assert first.status_code == 201, first.content
    assert TenantAuthorization.objects.get(pk=created["id"]).end_customer == contoso

    wingtip = EndCustomerFactory(reseller=reseller, company_name="Wingtip Toys")
    second = place(owner_api, order_body(product, wingtip, authorization=created["id"]), key="trust-order-2")
    assert_error(second, 400, "end_customer_mismatch")
    assert Order.objects.count() == 1


def test_another_organisations_authorization_is_unknown(outsider_api, outsider, owner, product, sandbox):
    theirs = TenantAuthorizationFactory(organization=owner.organization, verified=True)
    adatum_customer = EndCustomerFactory(reseller=outsider.organization)
    response = place(outsider_api, order_body(product, adatum_customer, authorization=theirs.pk))
    assert assert_error(response, 400, "invalid")["fields"] == {"authorization": ["Unknown authorization."]}
    assert outsider_api.get(f"/api/v1/authorizations/{theirs.pk}/").status_code == 404
    assert (
        outsider_api.post(f"/api/v1/authorizations/{theirs.pk}/verify/", {}, format="json").status_code == 404
    )


def test_verifying_never_overwrites_an_end_customers_known_tenant(owner_api, reseller, sandbox):
    known = EndCustomerFactory(reseller=reseller, tenant_id="99999999-9999-4999-8999-999999999999")
    created = owner_api.post(
        "/api/v1/authorizations/", {"domain_prefix": "contoso", "end_customer": known.pk}, format="json"
    ).json()
    accept_invitation(sandbox, domain="contoso.onmicrosoft.com")
    owner_api.post(
        f"/api/v1/authorizations/{created['id']}/verify/", {"default_domain": "contoso.com"}, format="json"
    )
    known.refresh_from_db()
    assert known.tenant_id == "99999999-9999-4999-8999-999999999999"


# The worker checks again -----------------------------------------------------------------------------------------


def test_the_worker_refuses_a_forged_order_before_microsoft_hears_of_it(outsider, owner, product, sandbox):
    """A row written past the services (a bug, a console) still cannot reach another organisation's tenant."""
    theirs = TenantAuthorizationFactory(
        organization=owner.organization, verified=True, customer_tenant_id=CONTOSO_TENANT
    )
    forged = OrderFactory(
        organization=outsider.organization,
        end_customer=EndCustomerFactory(reseller=outsider.organization),
        tenant=Order.Tenant.EXISTING,
        authorization=theirs,
        customer_tenant_id=CONTOSO_TENANT,
        partner_mpn_id=owner.organization.mpn_id,
    )
    OrderLineFactory(order=forged, product=product)
    order = provisioning.order_provision(order_id=forged.pk)
    assert order.status == Order.Status.FAILED
    assert "not confirmed as yours" in order.failure_reason
    assert microsoft_requests(sandbox) == 0


def test_every_verification_is_recorded_with_the_holding(owner_api, contoso, sandbox):
    from tests.api.test_orders import verified_authorization

    authorization_id = verified_authorization(owner_api, sandbox, contoso)
    holding = TenantHolding.objects.get()
    assert (holding.tenant_id, holding.authorization_id, holding.source) == (
        CONTOSO_TENANT,
        authorization_id,
        "authorization",
    )
    assert (
        AuthorizationTransition.objects.filter(
            authorization_id=authorization_id, to_status="verified"
        ).count()
        == 1
    )


# Admin: the distributor decides ----------------------------------------------------------------------------------


def test_staff_approve_an_authorization_in_admin_with_a_reason(client, staff_user, direct_user, sandbox):
    created = (
        api_client_for(direct_user)
        .post("/api/v1/authorizations/", {"domain_prefix": "alpineskihouse"}, format="json")
        .json()
    )
    client.force_login(staff_user)
    changelist = reverse("admin:csp_tenantauthorization_changelist")
    asked = client.post(changelist, {"action": "approve_as_owner", "_selected_action": [created["id"]]})
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "No organisation holds this tenant yet." in page
    assert "already a customer of the distributor" in page
    empty = client.post(
        changelist,
        {"action": "approve_as_owner", "_selected_action": [created["id"]], "apply": "1", "reason": ""},
    )
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    assert TenantAuthorization.objects.get(pk=created["id"]).status == "pending"
    done = client.post(
        changelist,
        {
            "action": "approve_as_owner",
            "_selected_action": [created["id"]],
            "apply": "1",
            "reason": "Ticket 4711",
        },
        follow=True,
    )
    assert "alpineskihouse.onmicrosoft.com verified" in done.content.decode()
    authorization = TenantAuthorization.objects.get(pk=created["id"])
    assert authorization.status == "verified"
    assert authorization.ownership_proof == "staff_decision"
    assert authorization.transitions.filter(actor="admin", user=staff_user).count() == 2


def test_admin_lists_tenants_with_their_holders_and_records_a_staff_decision(client, staff_user, reseller):
    TenantAuthorizationFactory(organization=reseller, verified=True, customer_tenant_id=CONTOSO_TENANT)
    client.force_login(staff_user)
    listing = client.get(reverse("admin:csp_tenantholding_changelist"), {"q": CONTOSO_TENANT})
    assert CONTOSO_TENANT in listing.content.decode() and "Fabrikam IT Services" in listing.content.decode()
    refused = client.post(
        reverse("admin:csp_tenantholding_add"),
        {"tenant_id": "not-a-guid", "organization": reseller.pk, "reason": ""},
    )
    assert "Enter the tenant id" in refused.content.decode()
    client.post(
        reverse("admin:csp_tenantholding_add"),
        {"tenant_id": ALPINE_TENANT.upper(), "organization": reseller.pk, "reason": "Signed contract"},
    )
    holding = TenantHolding.objects.get(tenant_id=ALPINE_TENANT)
    assert (holding.source, holding.decided_by, holding.reason) == (
        "staff_decision",
        staff_user,
        "Signed contract",
    )


def test_the_mpn_id_shown_as_the_buyers_is_read_once_and_its_removal_seen_at_once(
    reseller, django_assert_num_queries
):
    assert trust.mpn_id_shown_as_owned(organization_id=reseller.pk, mpn_id=FABRIKAM_MPN)
    with django_assert_num_queries(0):
        assert trust.mpn_id_shown_as_owned(organization_id=reseller.pk, mpn_id=FABRIKAM_MPN)

    ResellerMpnId.objects.get(mpn_id=FABRIKAM_MPN).delete()

    assert not trust.mpn_id_shown_as_owned(organization_id=reseller.pk, mpn_id=FABRIKAM_MPN)


def test_checkout_reads_the_mpn_ids_owner_afresh_while_the_field_may_show_a_copy(
    client, owner, owner_draft, outsider, sandbox
):
    mpn_ids.network_refresh()  # as in a running storefront, so the check below reads no network afresh
    client.force_login(owner)
    typed = {"domain_prefix": "brandnewtenant42", "mpn_id": FABRIKAM_MPN}
    check = client.post(
        reverse("checkout:service_details_check"), {**typed, "check": "mpn"}, HTTP_HX_REQUEST="true"
    )
    assert escape(MPN_NOT_YOURS_MESSAGE) not in check.content.decode()
    # Staff move the ID to another organisation in another process: no signal reaches this one.
    ResellerMpnId.objects.filter(mpn_id=FABRIKAM_MPN).update(organization=outsider.organization)

    shown = trust.buyer_mpn_id_check(organization_id=owner.organization_id, mpn_id=FABRIKAM_MPN)
    enforced = trust.buyer_mpn_id_check(
        organization_id=owner.organization_id, mpn_id=FABRIKAM_MPN, fresh=True
    )
    submit = client.post(reverse("checkout:service_details"), typed)

    assert shown.owned  # the field's copy, a few seconds old at most
    assert not enforced.owned and enforced.message == MPN_NOT_YOURS_MESSAGE
    assert submit.status_code == 400
    assert escape(MPN_NOT_YOURS_MESSAGE) in submit.content.decode()
