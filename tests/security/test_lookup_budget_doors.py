"""Attacks on the per-user lookup budget through the doors other than the lookups themselves: each one tells a buyer
whether a Microsoft tenant uses a prefix or a domain, so each spends the same budget (`LOOKUP_THROTTLE_RATE`)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from csp.models import TenantAuthorization
from tests.api.conftest import api_client_for, assert_error
from tests.factories import TenantAuthorizationFactory
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN
from tests.shared import API_AGREEMENT, lookup_rate

pytestmark = pytest.mark.django_db
AGREEMENT = API_AGREEMENT


@pytest.fixture(autouse=True)
def two_lookups(settings):
    """A budget of 2 lookups a minute, in a cache of this process."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    lookup_rate(settings, "2/min")
    cache.clear()
    yield
    cache.clear()


def test_api_authorization_requests_spend_the_budget(owner, sandbox):
    """A refusal ("No Microsoft tenant uses this domain yet", 400) or a pending authorization (201) says whether a tenant uses
    the prefix: the third prefix of the minute waits."""
    api = api_client_for(owner)
    answers = [
        api.post("/api/v1/authorizations/", {"domain_prefix": prefix}, format="json").status_code
        for prefix in ("contoso", "nosuchtenant1")
    ]
    assert answers == [201, 400]
    response = api.post("/api/v1/authorizations/", {"domain_prefix": "nosuchtenant2"}, format="json")
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    # One budget: the domain lookup waits too.
    assert_error(api.get("/api/v1/domains/nosuchtenant3/"), 429, "throttled")


def test_api_verify_spends_the_budget_whatever_domain_is_named(owner, sandbox):
    """Verify resolves any default domain at Microsoft ("Microsoft does not know the domain" or "belongs to a
    different tenant"): one pending authorization must not answer for every domain in the world."""
    authorization = TenantAuthorizationFactory(
        organization=owner.organization, domain_prefix="contoso", expected_tenant_id=CONTOSO_TENANT
    )
    api = api_client_for(owner)
    url = f"/api/v1/authorizations/{authorization.pk}/verify/"
    for domain in ("fabrikam.com", "nosuchdomain1.com"):
        assert api.post(url, {"default_domain": domain}, format="json").status_code == 200
    assert_error(api.post(url, {"default_domain": "nosuchdomain2.com"}, format="json"), 429, "throttled")


def test_the_verify_dialog_spends_the_same_budget_and_keeps_the_typed_domain(owner, client, sandbox):
    authorization = TenantAuthorizationFactory(
        organization=owner.organization, domain_prefix="contoso", expected_tenant_id=CONTOSO_TENANT
    )
    client.force_login(owner)
    api = api_client_for(owner)
    assert api.get("/api/v1/domains/nosuchtenant1/").status_code == 200
    assert api.get("/api/v1/domains/nosuchtenant2/").status_code == 200
    url = reverse("checkout:authorization_verify", args=[authorization.pk])
    response = client.post(url, {"default_domain": "nosuchdomain3.com"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "You have checked many" in page and "select Verify Authorization again in" in page
    authorization.refresh_from_db()
    assert authorization.last_checked_at is None  # nothing was asked of Microsoft


def test_api_orders_for_a_new_prefix_spend_the_budget(owner, contoso, product, sandbox):
    """A new-tenant order checks its prefix with Microsoft afresh (409 `domain_taken` when taken): placing orders
    for taken prefixes must not enumerate tenants past the budget. A replayed key asks nothing and still answers."""
    api = api_client_for(owner)
    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "customer_agreement": AGREEMENT,
        "end_customer": contoso.pk,
        "mpn_id": FABRIKAM_MPN,
    }

    def place(prefix: str, key: str):
        return api.post(
            "/api/v1/orders/", {**body, "domain_prefix": prefix}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )

    assert_error(place("contoso", "k1"), 409, "domain_taken")
    assert place("freeprefix77", "k2").status_code == 201
    assert_error(place("wingtiptoys", "k3"), 429, "throttled")
    assert place("freeprefix77", "k2").status_code == 200  # the same order, nothing asked
    assert not TenantAuthorization.objects.exists()


def _microsoft_requests(sandbox) -> int:
    from tests.pc_sandbox import sandbox_state

    return sum(sandbox_state(sandbox)["request_counts"].values())


def test_checkout_resent_on_one_prefix_does_not_ask_microsoft_without_bound(
    owner, owner_draft, client, sandbox
):
    """Checkout and Place order re-check the recorded prefix with Microsoft afresh. Resent in a loop on a taken prefix
    (nothing is ever created), they spend the budget; once it is spent, the answer Microsoft gave the last seconds
    stands in, so Microsoft hears of the prefix at most once per cache period, however often they are sent."""
    client.force_login(owner)
    typed = {"domain_prefix": "contoso", "mpn_id": FABRIKAM_MPN}
    assert client.post(reverse("checkout:service_details"), typed).status_code == 400  # taken: 1 lookup
    before = _microsoft_requests(sandbox)
    for _ in range(10):
        page = client.post(reverse("checkout:service_details"), typed).content.decode()
        assert "already registered in Microsoft Portal by another tenant" in page
    # one more fresh re-check within the budget (2/min), then the cached answer: two domain checks at most
    assert _microsoft_requests(sandbox) - before <= 2 * 2


def test_place_order_resent_on_a_prefix_taken_since_checkout_does_not_ask_microsoft_without_bound(
    owner, owner_draft, client, sandbox
):
    client.force_login(owner)
    typed = {"domain_prefix": "freeprefix88", "mpn_id": FABRIKAM_MPN}
    assert client.post(reverse("checkout:service_details"), typed)["Location"] == reverse("checkout:review")
    type(owner_draft).objects.filter(pk=owner_draft.pk).update(domain_prefix="contoso")  # taken meanwhile
    before = _microsoft_requests(sandbox)
    agreement = {"first_name": "Jane", "last_name": "Doe", "email": "jane@contoso.example", "accepted": "on"}
    for _ in range(10):
        page = client.post(reverse("checkout:review"), agreement).content.decode()
        assert "already registered in Microsoft Portal by another tenant" in page
    assert _microsoft_requests(sandbox) - before <= 2 * 2


def test_an_mpn_id_whose_agreement_microsoft_cannot_tell_is_not_asked_again_on_every_re_render(
    owner, owner_draft, client, sandbox
):
    """Re-rendering the recorded MPN ID is free of the budget; when Microsoft fails to say whether its reseller
    signed the agreement, each re-render must not re-read the whole network from Microsoft."""
    from tests.api.conftest import sandbox_faults

    client.force_login(owner)
    sandbox_faults(sandbox, {"fail": {"count": 1000, "status": 400}, "path_contains": "agreementstatus"})
    asked = []
    for _ in range(6):
        response = client.post(
            reverse("checkout:service_details_check"),
            {"check": "mpn", "domain_prefix": "", "mpn_id": FABRIKAM_MPN},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
        asked.append(_microsoft_requests(sandbox))
    # the network and the agreement, once (19 calls before)
    assert asked[0] > 0 and asked[1:] == [asked[0]] * 5


def _address(n: int) -> dict:
    return {
        "company_name": f"Contoso {n}",
        "first_name": "Megan",
        "last_name": "Bowen",
        "email": "megan.bowen@contoso.com",
        "address_line1": f"{n} Microsoft Way",
        "city": "Redmond",
        "state": "WA",
        "postal_code": "98052",
        "country": "US",
    }


def test_addresses_checked_with_microsoft_spend_the_budget_in_the_api_and_the_customer_step(
    owner, owner_draft, client, sandbox
):
    """Each complete billing address is validated at Microsoft: creating end-customers (or failing to) in a loop
    must not ask Microsoft without bound. The wizard keeps what was typed and says when to continue."""
    api = api_client_for(owner)
    assert [api.post("/api/v1/end-customers/", _address(n), format="json").status_code for n in (1, 2)] == [
        201,
        201,
    ]
    assert_error(api.post("/api/v1/end-customers/", _address(3), format="json"), 429, "throttled")
    assert api.get("/api/v1/end-customers/").status_code == 200  # reading them spends nothing

    client.force_login(owner)
    typed = {"end_customer": "new", **{f"new-{name}": value for name, value in _address(4).items()}}
    response = client.post(reverse("checkout:customer"), typed)
    page = response.content.decode()
    assert response.status_code == 200 and "select Continue again in" in page
    assert 'value="4 Microsoft Way"' in page
    assert not owner.organization.end_customers.filter(company_name="Contoso 4").exists()


def test_alternating_two_prefixes_spends_the_budget_each_time_in_any_spelling(
    owner, owner_draft, client, sandbox
):
    """Only the value the draft holds is "unchanged": going back to a prefix checked two values ago is a new lookup,
    whatever its case, spaces or `.onmicrosoft.com`; a second session of the same user shares the budget."""
    client.force_login(owner)
    url = reverse("checkout:service_details_check")

    def check(session, prefix: str) -> str:
        data = {"check": "domain", "domain_prefix": prefix, "mpn_id": FABRIKAM_MPN}
        return session.post(url, data, HTTP_HX_REQUEST="true").content.decode()

    from django.test import Client

    other_session = Client()
    other_session.force_login(owner)
    assert "is available" in check(client, "freeone1")
    assert "is available" in check(other_session, " FreeTwo2.onmicrosoft.com ")
    assert "so this one waits" in check(client, "FREEONE1")
    assert "so this one waits" in check(other_session, "freeone1.onmicrosoft.com")
    assert "so this one waits" not in check(client, "freetwo2")  # the value the draft holds: free


def test_the_dashboards_check_now_spends_the_budget(owner, client, sandbox):
    """Check now asks Microsoft about the authorization's last default domain (whatever Verify was last given):
    a loop of clicks must not ask Microsoft without bound."""
    authorization = TenantAuthorizationFactory(
        organization=owner.organization, domain_prefix="contoso", expected_tenant_id=CONTOSO_TENANT
    )
    client.force_login(owner)
    url = reverse("dashboard:check_now", args=[authorization.pk])
    before = _microsoft_requests(sandbox)
    for _ in range(2):
        client.post(url)
    spent = _microsoft_requests(sandbox)
    assert spent > before
    response = client.post(url, follow=True)
    assert "select Check now again in" in response.content.decode()
    assert _microsoft_requests(sandbox) == spent
