"""The rules of Service Details, against the real sandbox over HTTP."""

import pytest

from common.errors import InvalidInput
from csp import authorizations, domains, mpn_ids
from csp.connection import partner_center
from csp.errors import MpnNotInNetwork
from csp.models import AuthorizationTransition, TenantAuthorization
from tests.checkout.conftest import accept_invitation
from tests.factories import ResellerMpnIdFactory
from tests.sandbox_ids import (
    ADATUM_TENANT,
    CONTOSO_TENANT,
    FABRIKAM_MPN,
    FABRIKAM_TENANT,
    NO_AGREEMENT_MPN,
    OUTSIDE_MPN,
)

pytestmark = pytest.mark.django_db

EXACT_WARNING = (
    "There seems to be a problem with the Microsoft Partner Network ID (MPNID) you have provided. Please make sure "
    "that you have typed it correctly. If the problem insists, you have to authorize Northwind Distribution as your "
    "Microsoft Cloud Solution Provider (CSP) by accepting the Microsoft Partner Agreement on the Microsoft Partner "
    "Center."
)


@pytest.mark.parametrize("raw", ["", "with space", "dot.ted", "hy-phen", "ünïcode", "a" * 28, "<script>"])
def test_malformed_domain_prefix_says_what_is_allowed(raw):
    with pytest.raises(InvalidInput) as error:
        domains.domain_prefix_check(domain_prefix=raw)
    assert "letters (a-z) and digits (0-9)" in error.value.message


def test_domain_prefix_is_lowercased_and_a_free_one_is_available(sandbox):
    check = domains.domain_prefix_check(domain_prefix="  NewCo2026 ")
    assert check.domain == "newco2026.onmicrosoft.com"
    assert check.available
    assert check.message == "newco2026.onmicrosoft.com is available."


def test_taken_prefix_tells_reseller_it_is_registered_by_another_tenant(sandbox):
    check = domains.domain_prefix_check(domain_prefix="contoso", for_reseller=True)
    assert not check.available
    assert "already registered in Microsoft Portal by another tenant" in check.message
    assert "My customer is already using Office 365 service and he/she owns this domain" in check.message
    assert "choose another domain and retry" in check.message


def test_taken_prefix_uses_the_direct_customer_wording(sandbox):
    check = domains.domain_prefix_check(domain_prefix="contoso", for_reseller=False)
    assert "I am already using Office 365 service and I own this domain" in check.message


def test_prefix_known_only_to_sign_in_discovery_counts_as_taken(sandbox, settings):
    """A tenant the Partner Center domain check does not report is still taken when sign-in knows it."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(f"{sandbox.url}/d1570b00")
        mock.add(responses.HEAD, f"{sandbox.url}/v1/domains/hidden.onmicrosoft.com", status=404)
        mock.add(
            responses.GET,
            f"{sandbox.url}/hidden.onmicrosoft.com/.well-known/openid-configuration",
            json={"issuer": f"https://sts.windows.net/{CONTOSO_TENANT}/", "token_endpoint": "x"},
        )
        check = domains.domain_prefix_check(domain_prefix="hidden")
    assert not check.available
    assert check.tenant_id == CONTOSO_TENANT


def test_mpn_outside_the_network_gets_the_exact_yellow_warning(sandbox):
    check = mpn_ids.mpn_id_check(mpn_id=OUTSIDE_MPN)
    assert not check.valid
    assert check.message == EXACT_WARNING


def test_mpn_in_network_without_signed_agreement_is_refused(sandbox):
    assert not mpn_ids.mpn_id_check(mpn_id=NO_AGREEMENT_MPN).valid


def test_mpn_in_network_is_valid_and_names_the_reseller(sandbox):
    check = mpn_ids.mpn_id_check(mpn_id=FABRIKAM_MPN)
    assert check.valid
    assert check.reseller_name == "Fabrikam IT Services"
    assert check.reseller_tenant_id == FABRIKAM_TENANT


def test_mpn_check_on_a_warm_cache_makes_no_partner_center_call(sandbox):
    mpn_ids.mpn_id_check(mpn_id=FABRIKAM_MPN)
    before = partner_center().call_count
    mpn_ids.mpn_id_check(mpn_id=FABRIKAM_MPN)
    assert partner_center().call_count == before


@pytest.mark.parametrize("raw", ["12a4567", "", " ", "١٢٣", FABRIKAM_MPN * 3])
def test_mpn_id_must_be_digits(raw):
    with pytest.raises(InvalidInput):
        mpn_ids.mpn_id_check(mpn_id=raw)


def test_authorization_request_needs_an_mpn_in_the_network(sandbox, owner):
    ResellerMpnIdFactory(organization=owner.organization, mpn_id=OUTSIDE_MPN)
    with pytest.raises(MpnNotInNetwork) as error:
        authorizations.tenant_authorization_request(
            organization_id=owner.organization_id,
            user_id=owner.pk,
            domain_prefix="contoso",
            mpn_id=OUTSIDE_MPN,
        )
    assert error.value.message == EXACT_WARNING


def test_reseller_authorization_carries_the_indirect_link_and_is_reused(sandbox, owner):
    first = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    assert first.kind == TenantAuthorization.Kind.INDIRECT_RESELLER
    assert first.status == "pending"
    assert "invType=IndirectResellerRelationship" in first.authorization_link
    assert f"partnerId={FABRIKAM_TENANT}" in first.authorization_link
    assert "msppId=1234567" in first.authorization_link
    assert "indirectCSPId=d1570b00-0000-4000-8000-000000000001" in first.authorization_link
    assert first.expected_tenant_id == CONTOSO_TENANT
    assert first.default_domain == "contoso.onmicrosoft.com"
    again = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    assert again.pk == first.pk
    assert list(first.transitions.values_list("to_status", "actor")) == [("pending", "user")]


def test_direct_authorization_link_makes_the_distributor_the_csp(sandbox, direct_user):
    authorization = authorizations.tenant_authorization_request(
        organization_id=direct_user.organization_id, user_id=direct_user.pk, domain_prefix="woodgrove"
    )
    assert authorization.kind == TenantAuthorization.Kind.DIRECT
    assert "invType=ResellerRelationship" in authorization.authorization_link
    assert "partnerId=d1570b00-0000-4000-8000-000000000001" in authorization.authorization_link


def test_verify_before_acceptance_says_not_completed_yet(sandbox, owner):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    result = authorizations.tenant_authorization_verify(
        authorization_id=authorization.pk, default_domain="contoso.com"
    )
    assert not result.verified
    assert result.message.startswith("The authorization has not been completed yet")
    authorization.refresh_from_db()
    assert authorization.status == "pending"
    assert authorization.default_domain == "contoso.com"


def test_verify_with_custom_default_domain_after_acceptance_verifies(sandbox, owner, contoso):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id,
        user_id=owner.pk,
        domain_prefix="contoso",
        mpn_id=FABRIKAM_MPN,
        end_customer_id=contoso.pk,
    )
    accept_invitation(sandbox, domain="contoso.com")
    result = authorizations.tenant_authorization_verify(
        authorization_id=authorization.pk, default_domain="Contoso.com", user_id=owner.pk
    )
    assert result.verified
    authorization.refresh_from_db()
    assert authorization.status == "verified"
    assert authorization.customer_tenant_id == CONTOSO_TENANT
    contoso.refresh_from_db()
    assert contoso.tenant_id == CONTOSO_TENANT
    transition = authorization.transitions.last()
    assert (transition.from_status, transition.to_status, transition.actor) == ("pending", "verified", "user")
    assert CONTOSO_TENANT in transition.microsoft_answer


def test_customer_of_the_distributor_without_this_reseller_is_not_verified(sandbox, owner):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    accept_invitation(sandbox, domain="contoso.com", reseller_tenant_id=ADATUM_TENANT)
    result = authorizations.tenant_authorization_verify(
        authorization_id=authorization.pk, default_domain="contoso.com"
    )
    assert not result.verified
    assert result.message.startswith("The authorization has not been completed yet")
    assert "not yet accepted you as its reseller" in result.message


def test_default_domain_of_another_tenant_is_refused(sandbox, owner):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    accept_invitation(sandbox, domain="alpineskihouse.com")
    result = authorizations.tenant_authorization_verify(
        authorization_id=authorization.pk, default_domain="alpineskihouse.com"
    )
    assert not result.verified
    assert "different Microsoft tenant" in result.message


def test_verify_with_an_unknown_domain_explains_the_spelling(sandbox, owner):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    result = authorizations.tenant_authorization_verify(
        authorization_id=authorization.pk, default_domain="nobody.example"
    )
    assert not result.verified
    assert "does not know the domain nobody.example" in result.message


@pytest.mark.parametrize("bad", ["", "https://contoso.com", "admin@contoso.com", "contoso", "x" * 300])
def test_verify_rejects_what_is_not_a_domain(sandbox, owner, bad):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    with pytest.raises(InvalidInput):
        authorizations.tenant_authorization_verify(authorization_id=authorization.pk, default_domain=bad)


def test_expired_authorization_cannot_be_verified_and_records_the_transition(sandbox, owner):
    from datetime import timedelta

    from django.utils import timezone

    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    TenantAuthorization.objects.filter(pk=authorization.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(InvalidInput) as error:
        authorizations.tenant_authorization_verify(
            authorization_id=authorization.pk, default_domain="contoso.com"
        )
    assert "expired" in error.value.message
    assert (
        AuthorizationTransition.objects.filter(authorization=authorization, to_status="expired").count() == 1
    )


def test_guarded_transition_refuses_leaving_a_final_state(sandbox, owner):
    authorization = authorizations.tenant_authorization_request(
        organization_id=owner.organization_id, user_id=owner.pk, domain_prefix="contoso", mpn_id=FABRIKAM_MPN
    )
    assert authorizations.tenant_authorization_cancel(authorization_id=authorization.pk, user_id=owner.pk)
    authorization.refresh_from_db()
    with pytest.raises(InvalidInput):
        authorizations.tenant_authorization_expire(authorization=authorization)


def test_cold_mpn_check_asks_the_network_pages_and_one_agreement(sandbox):
    before = partner_center().call_count
    assert mpn_ids.mpn_id_check(mpn_id=FABRIKAM_MPN).valid
    assert partner_center().call_count - before == 2 + 1


def test_unknown_mpn_is_remembered_so_typos_do_not_enumerate_the_network_again(sandbox):
    before = partner_center().call_count
    assert not mpn_ids.mpn_id_check(mpn_id="7654321").valid
    assert partner_center().call_count - before == 2
    assert not mpn_ids.mpn_id_check(mpn_id="7654321").valid
    assert partner_center().call_count - before == 2
