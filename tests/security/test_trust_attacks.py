"""Hostile tests of the tenant trust boundary: another organisation's ids, odd types, racing verifies, replayed
sign-ins and background checks, each refusal checked to have reached Microsoft not at all where it matters."""

import pytest

from billing.models import Order
from common.errors import StorefrontError
from csp import authorizations, polling
from csp.models import TenantAuthorization, TenantHolding
from tests.api.conftest import api_client_for
from tests.factories import EndCustomerFactory
from tests.pc_sandbox import accept_invitation, sandbox_state

pytestmark = pytest.mark.django_db

FABRIKAM_TENANT_ARG = "default"  # accept_invitation's default reseller is Fabrikam
WOODGROVE_DOMAIN = "woodgrove.onmicrosoft.com"


def microsoft_requests(sandbox) -> int:
    return sum(sandbox_state(sandbox)["request_counts"].values())


def test_a_direct_link_cannot_claim_a_tenant_that_accepted_a_resellers_link(
    direct_user, owner, reseller, sandbox
):
    """Attack: a direct buyer asks for a direct authorization of a tenant that is not yet the distributor's
    customer (tenant_was_customer False). The tenant then accepts *Fabrikam's* indirect-reseller link, which makes
    it the distributor's customer. The direct buyer's pending authorization must not verify on that: the direct
    link was never accepted, and the tenant is Fabrikam's customer."""
    direct = api_client_for(direct_user)
    attacker = direct.post("/api/v1/authorizations/", {"domain_prefix": "woodgrove"}, format="json").json()
    assert TenantAuthorization.objects.get(pk=attacker["id"]).tenant_was_customer is False
    woodgrove = EndCustomerFactory(reseller=reseller, company_name="Woodgrove Bank")
    api_client_for(owner).post(
        "/api/v1/authorizations/", {"domain_prefix": "woodgrove", "end_customer": woodgrove.pk}, format="json"
    )
    accept_invitation(
        sandbox, domain=WOODGROVE_DOMAIN
    )  # the customer accepts Fabrikam's link, not the direct one
    verified = direct.post(
        f"/api/v1/authorizations/{attacker['id']}/verify/",
        {"default_domain": "woodgrovebank.com"},
        format="json",
    ).json()
    assert verified["status"] == "pending", verified
    assert not TenantHolding.objects.filter(organization=direct_user.organization).exists()


def test_the_polling_pass_does_not_give_a_resellers_new_customer_to_a_direct_buyer(
    direct_user, owner, reseller, sandbox
):
    """Attack: as above, but the attacker only waits for the polling pass to verify the authorization."""
    direct = api_client_for(direct_user)
    attacker = direct.post("/api/v1/authorizations/", {"domain_prefix": "woodgrove"}, format="json").json()
    accept_invitation(sandbox, domain=WOODGROVE_DOMAIN)
    polling.authorizations_poll_pass(due_only=False)
    assert TenantAuthorization.objects.get(pk=attacker["id"]).status == "pending"
    assert not TenantHolding.objects.filter(organization=direct_user.organization).exists()


@pytest.mark.django_db(transaction=True)
def test_two_organisations_verifying_the_same_tenant_at_once_get_one_owner(
    direct_user, outsider, monkeypatch
):
    """Attack (race): two organisations verify the same tenant at the same moment (two workers, or a webhook and
    a buyer). Each one's check "nobody else holds it" must not run before the other's holding is written, or both
    hold the tenant. The first verify pauses between its check and its write while the second one runs."""
    import threading

    from django.db import connection

    from tests.factories import TenantAuthorizationFactory

    tenant = "44444444-4444-4444-8444-444444444444"
    first = TenantAuthorizationFactory(
        direct=True, organization=direct_user.organization, domain_prefix="racea", expected_tenant_id=tenant
    )
    second = TenantAuthorizationFactory(
        direct=True, organization=outsider.organization, domain_prefix="raceb", expected_tenant_id=tenant
    )
    TenantAuthorization.objects.filter(pk__in=[first.pk, second.pk]).update(tenant_was_customer=False)
    first.refresh_from_db()
    second.refresh_from_db()
    real_transition = authorizations._transition
    first_checked, second_done = threading.Event(), threading.Event()

    def paused_transition(authorization, to_status, **kwargs):
        if authorization.pk == first.pk:
            first_checked.set()
            second_done.wait(timeout=3)  # with a lock the second verify waits for us instead
        return real_transition(authorization, to_status, **kwargs)

    monkeypatch.setattr(authorizations, "_transition", paused_transition)

    def verify(authorization, before=None):
        try:
            if before is not None:
                before.wait(timeout=10)
            authorizations.tenant_authorization_mark_verified(
                authorization=authorization, tenant_id=tenant, actor="worker", answer="relationship found"
            )
        finally:
            if authorization.pk == second.pk:
                second_done.set()
            connection.close()

    threads = [
        threading.Thread(target=verify, args=(first,)),
        threading.Thread(target=verify, args=(second, first_checked)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert TenantHolding.objects.filter(tenant_id=tenant).count() == 1
    assert TenantAuthorization.objects.filter(pk__in=[first.pk, second.pk], status="verified").count() == 1


ADATUM_MPN = "2345678"
ALPINE_TENANT = "33333333-3333-4333-8333-000000000005"


@pytest.mark.parametrize(
    "mpn_id",
    [
        ADATUM_MPN,
        f" {ADATUM_MPN}\t",
        int(ADATUM_MPN),
        "2345678\u0660",
        "\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
        [ADATUM_MPN],
        {"id": ADATUM_MPN},
        "0" + ADATUM_MPN,
        "1234567,2345678",
        "1234567 OR 1=1",
    ],
)
def test_another_organisations_mpn_id_in_any_shape_is_refused(owner, contoso, sandbox, mpn_id):
    """Attack: Adatum's MPN ID (or an odd spelling of Fabrikam's own) as padded text, an int, unicode digits, a
    list, an object, with leading zeros or two IDs in one: always a 4xx, no authorization, Microsoft not asked."""
    response = api_client_for(owner).post(
        "/api/v1/authorizations/",
        {"domain_prefix": "alpineskihouse", "mpn_id": mpn_id, "end_customer": contoso.pk},
        format="json",
    )
    assert response.status_code in (400, 403), response.content
    assert set(response.json()) == {"code", "message", "fields"}
    assert TenantAuthorization.objects.count() == 0
    assert microsoft_requests(sandbox) == 0


@pytest.mark.parametrize("shape", ["string", "list", "object", "float", "negative", "huge"])
def test_another_organisations_authorization_and_end_customer_in_any_shape_are_refused(
    owner, outsider, product, sandbox, shape
):
    """Attack: Fabrikam's verified authorization and end-customer ids, typed by Adatum as text, lists, objects,
    floats or out-of-range numbers in an order: a 4xx, no order, Microsoft not asked."""
    from tests.factories import TenantAuthorizationFactory

    theirs = TenantAuthorizationFactory(organization=owner.organization, verified=True)
    their_customer = EndCustomerFactory(reseller=owner.organization)
    shaped = {
        "string": lambda v: str(v),
        "list": lambda v: [v],
        "object": lambda v: {"id": v},
        "float": lambda v: float(v),
        "negative": lambda v: -v,
        "huge": lambda v: 2**70,
    }[shape]
    body = {
        "lines": [{"product": product.pk, "quantity": 3}],
        "customer_agreement": {
            "accepted": True,
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@contoso.example",
            "phone": "4255550101",
        },
        "end_customer": shaped(their_customer.pk),
        "authorization": shaped(theirs.pk),
    }
    response = api_client_for(outsider).post(
        "/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"hostile-{shape}"
    )
    assert 400 <= response.status_code < 500, response.content
    assert Order.objects.count() == 0
    assert microsoft_requests(sandbox) == 0


def test_a_webhook_naming_a_tenant_does_not_verify_a_direct_link_for_an_existing_customer(
    direct_user, sandbox
):
    """Attack: a direct buyer asks for Alpine Ski House (already the distributor's customer through Fabrikam) and
    waits for a webhook naming the tenant (in upper case) or the polling pass: neither verifies it."""
    created = (
        api_client_for(direct_user)
        .post("/api/v1/authorizations/", {"domain_prefix": "alpineskihouse"}, format="json")
        .json()
    )
    assert polling.authorizations_recheck_tenant(tenant_id=ALPINE_TENANT.upper()) == 0
    polling.authorizations_poll_pass(due_only=False)
    authorization = TenantAuthorization.objects.get(pk=created["id"])
    assert authorization.status == "pending"
    assert "already a customer" in authorization.last_message
    assert not TenantHolding.objects.filter(organization=direct_user.organization).exists()


def test_a_sign_in_answer_for_another_flow_proves_nothing(client, direct_user, sandbox):
    """Attack (login CSRF / replay): the victim's browser is sent to the signed-in page with the attacker's own
    Microsoft answer (its code and state). The state does not match the victim's flow, so nothing is proved."""
    from django.urls import reverse

    created = (
        api_client_for(direct_user)
        .post("/api/v1/authorizations/", {"domain_prefix": "alpineskihouse"}, format="json")
        .json()
    )
    client.force_login(direct_user)
    client.post(reverse("checkout:authorization_sign_in", args=[created["id"]]))
    forged = client.get(
        reverse("checkout:authorization_signed_in"),
        {"code": "attackers-code", "state": "attackers-state"},
        follow=True,
    )
    assert "did not complete" in forged.content.decode()
    assert TenantAuthorization.objects.get(pk=created["id"]).status == "pending"
    again = client.get(reverse("checkout:authorization_signed_in"), {"code": "x", "state": "y"}, follow=True)
    assert "already been used" in again.content.decode()
    assert not TenantHolding.objects.filter(organization=direct_user.organization).exists()


@pytest.mark.parametrize("forged", ["other_organisation", "other_end_customer"])
def test_a_draft_pointing_at_an_authorization_that_is_not_its_own_places_no_order(
    owner, outsider, reseller, product, contoso, sandbox, forged
):
    """Attack (draft manipulation): the buyer's checkout draft is made to point at Adatum's verified authorization,
    or at Fabrikam's own authorization given for another of its customers; Place order refuses both."""
    from storefront.checkout.services import AgreementAcceptance, checkout_draft_get, checkout_place_order
    from tests.factories import TenantAuthorizationFactory

    if forged == "other_organisation":
        authorization = TenantAuthorizationFactory(
            organization=outsider.organization, verified=True, domain_prefix="contoso"
        )
    else:
        other = EndCustomerFactory(reseller=reseller, company_name="Another customer")
        authorization = TenantAuthorizationFactory(
            organization=reseller, end_customer=other, verified=True, domain_prefix="contoso"
        )
    draft = checkout_draft_get(user=owner)
    draft.lines = {str(product.pk): 3}
    draft.end_customer = contoso
    draft.domain_prefix = "contoso"
    draft.existing_tenant = True
    draft.mpn_id = reseller.mpn_id
    draft.authorization = authorization
    draft.service_details_done = True
    draft.save()
    agreement = AgreementAcceptance(
        accepted=True, first_name="Jane", last_name="Doe", email="jane@contoso.example", phone="4255550101"
    )
    with pytest.raises(StorefrontError):
        checkout_place_order(draft=draft, agreement=agreement)
    assert Order.objects.count() == 0
    contoso.refresh_from_db()
    assert contoso.tenant_id != authorization.customer_tenant_id


def test_an_expired_authorization_cannot_be_verified_and_microsoft_is_not_asked(owner, reseller, sandbox):
    """Attack (reuse): verifying an authorization past its expiry date, hoping the customer accepted late."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import TenantAuthorizationFactory

    authorization = TenantAuthorizationFactory(
        organization=reseller, domain_prefix="contoso", expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = api_client_for(owner).post(
        f"/api/v1/authorizations/{authorization.pk}/verify/", {"default_domain": "contoso.com"}, format="json"
    )
    assert response.status_code == 400, response.content
    authorization.refresh_from_db()
    assert authorization.status == "expired"
    assert microsoft_requests(sandbox) == 0


@pytest.mark.parametrize("raw_id", ["abc", "99999999999999999999", "-1", "1%00"])
def test_odd_authorization_ids_in_the_url_are_unknown(owner, raw_id, sandbox):
    """Attack: non-numeric, huge or negative authorization ids in the API paths: 404, never a 500."""
    response = api_client_for(owner).post(
        f"/api/v1/authorizations/{raw_id}/verify/", {"default_domain": "contoso.com"}, format="json"
    )
    assert response.status_code == 404, response.content
    assert microsoft_requests(sandbox) == 0
