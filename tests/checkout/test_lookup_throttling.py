"""The checkout's htmx checks spend the API's per-user lookup budget: N lookups pass, the next waits, on each
surface and across both; a re-render of an unchanged, already-checked value is free."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.api.conftest import api_client_for, assert_error
from tests.factories import ResellerMpnIdFactory
from tests.sandbox_ids import FABRIKAM_MPN, NO_AGREEMENT_MPN
from tests.shared import lookup_rate

pytestmark = pytest.mark.django_db
WAITS = "so this one waits: it is checked by itself in"


@pytest.fixture(params=["redis", "locmem"])
def three_lookups(request, settings):
    """A budget of 3 lookups a minute, counted in Redis (one round trip) or in a cache without it."""
    if request.param == "redis":
        if not settings.REDIS_URL.startswith("redis"):
            pytest.skip("needs Redis: set REDIS_URL=redis://...")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
            }
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    lookup_rate(settings, "3/min")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def checking(client, owner, owner_draft, sandbox):
    """The owner on Service Details (opening it asks nothing of the budget), posting htmx checks."""
    client.force_login(owner)
    assert client.get(reverse("checkout:service_details")).status_code == 200

    def check(field: str = "domain", **typed) -> str:
        data = {"check": field, "domain_prefix": "", "mpn_id": FABRIKAM_MPN, **typed}
        response = client.post(reverse("checkout:service_details_check"), data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return response.content.decode()

    return check


def test_three_prefix_checks_pass_and_the_fourth_waits_without_losing_anything(
    three_lookups, checking, owner_draft
):
    for prefix in ("freeone1", "freetwo2", "freethree3"):
        assert f"{prefix}.onmicrosoft.com is available." in checking(domain_prefix=prefix)
    page = checking(domain_prefix="freefour4")
    assert WAITS in page and 'id="domain-status"' in page
    assert 'id="id_domain_prefix"' not in page  # the field is not swapped: it keeps what the buyer typed
    assert "disabled" in page.split('id="checkout-button"')[1][:60]
    owner_draft.refresh_from_db()
    assert owner_draft.domain_prefix == "freethree3"  # nothing recorded, nothing asked

    # The value already checked re-renders for free, however often, in whatever case.
    for typed in ("freethree3", "FreeThree3 "):
        assert "freethree3.onmicrosoft.com is available." in checking(domain_prefix=typed)


def test_the_mpn_check_on_blur_waits_in_its_own_region(three_lookups, checking, reseller):
    ResellerMpnIdFactory(organization=reseller, mpn_id=NO_AGREEMENT_MPN)
    for prefix in ("freeone1", "freetwo2", "freethree3"):
        checking(domain_prefix=prefix)
    page = checking("mpn", domain_prefix="freethree3", mpn_id=NO_AGREEMENT_MPN)
    assert WAITS in page and 'id="mpn-status"' in page and 'id="domain-status"' not in page
    # The recorded MPN ID, left again unchanged, is not a new lookup.
    assert WAITS not in checking("mpn", domain_prefix="freethree3", mpn_id=FABRIKAM_MPN)
    # Neither is an ill-formed one: it is refused by the rule, not looked up.
    assert "digits only" in checking("mpn", domain_prefix="freethree3", mpn_id="12ab")


def test_ticking_the_box_on_the_checked_prefix_costs_nothing(three_lookups, checking):
    for prefix in ("freeone1", "freetwo2", "contoso"):
        checking(domain_prefix=prefix)
    page = checking("box", domain_prefix="contoso", existing_tenant="on")
    assert WAITS not in page and "invType=IndirectResellerRelationship" in page


def test_one_budget_across_the_api_and_the_htmx_checks(three_lookups, checking, owner, teammate):
    api = api_client_for(owner)
    assert "freeone1.onmicrosoft.com is available." in checking(domain_prefix="freeone1")
    assert api.get("/api/v1/domains/freetwo2/").status_code == 200
    assert "freethree3.onmicrosoft.com is available." in checking(domain_prefix="freethree3")
    response = api.get("/api/v1/domains/freefour4/")
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60
    assert_error(
        api.post("/api/v1/mpn-validations/", {"mpn_id": FABRIKAM_MPN}, format="json"), 429, "throttled"
    )
    assert WAITS in checking(domain_prefix="freefive5")
    # Per user: a teammate has a budget of its own.
    assert api_client_for(teammate).get("/api/v1/domains/freefour4/").status_code == 200


def test_the_api_alone_passes_three_lookups_and_throttles_the_fourth(three_lookups, owner, sandbox):
    api = api_client_for(owner)
    assert [api.get(f"/api/v1/domains/free{n}x/").status_code for n in range(3)] == [200, 200, 200]
    assert_error(api.get("/api/v1/domains/free3x/"), 429, "throttled")


def test_checkout_with_a_new_prefix_waits_too_and_shows_what_was_typed(
    three_lookups, checking, client, owner_draft
):
    for prefix in ("freeone1", "freetwo2", "freethree3"):
        checking(domain_prefix=prefix)
    typed = {"domain_prefix": "freefour4", "mpn_id": FABRIKAM_MPN}
    response = client.post(reverse("checkout:service_details"), typed)
    assert response.status_code == 429
    page = response.content.decode()
    assert "select Checkout again in" in page and "What you typed is kept." in page
    assert 'value="freefour4"' in page
    owner_draft.refresh_from_db()
    assert (owner_draft.domain_prefix, owner_draft.service_details_done) == ("freethree3", False)
    # The prefix already checked goes on to Review: Checkout's own re-check of it is not a new lookup.
    response = client.post(reverse("checkout:service_details"), {**typed, "domain_prefix": "freethree3"})
    assert response["Location"] == reverse("checkout:review")
