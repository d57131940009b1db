"""Microsoft throttles, fails, times out, resets or garbles: the buyer gets a clear message and keeps what they typed."""

import time

import pytest
from django.urls import reverse

from csp.connection import partner_center
from storefront.checkout.models import CheckoutDraft
from tests.factories import ResellerMpnIdFactory
from tests.sandbox_ids import FABRIKAM_MPN

pytestmark = pytest.mark.django_db

# More faults than the client's four attempts, so the failure reaches the buyer.
STORMS = {
    "throttle": {"throttle": {"count": 20, "retry_after": 0}},
    "fail": {"fail": {"count": 20, "status": 503}},
    "timeout": {"timeout": {"count": 20, "seconds": 0.5}},
    "reset": {"reset": {"count": 20}},
    "malformed": {"malformed": {"count": 20}},
}
COULD_NOT = ("We could not reach Microsoft", "Microsoft could not")


def _check(client, prefix, check="domain", mpn_id=FABRIKAM_MPN):
    return client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": prefix, "mpn_id": mpn_id, "check": check},
        HTTP_HX_REQUEST="true",
    )


def test_domain_check_waits_out_a_short_429_storm_and_answers(client, owner, owner_draft, faults):
    client.force_login(owner)
    faults(throttle={"count": 2, "retry_after": 1}, path_contains="/domains/")
    before = partner_center().call_count
    started = time.monotonic()
    response = _check(client, "stormfreeco")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert "stormfreeco.onmicrosoft.com is available" in response.content.decode()
    assert elapsed >= 2.0, "the client honours Retry-After"
    # domain check (twice throttled, then answered) and sign-in discovery
    assert partner_center().call_count - before == 4


@pytest.mark.parametrize("kind", STORMS)
def test_domain_check_under_a_storm_says_microsoft_is_unreachable_and_keeps_the_prefix(
    kind, client, owner, owner_draft, faults
):
    client.force_login(owner)
    # A HEAD answer has no body to garble: the malformed answer comes from sign-in discovery instead.
    path = "openid-configuration" if kind == "malformed" else "/domains/"
    faults(**STORMS[kind], path_contains=path)
    response = _check(client, "Tailspinco")
    assert response.status_code == 200
    page = response.content.decode()
    assert any(text in page for text in COULD_NOT), page
    assert "Traceback" not in page and "sandbox fault" not in page
    owner_draft.refresh_from_db()
    assert owner_draft.domain_prefix == "Tailspinco"
    assert not owner_draft.service_details_done


@pytest.mark.parametrize("kind", ["fail", "timeout", "reset"])
def test_checkout_button_under_a_storm_refuses_with_a_message_then_works_when_microsoft_is_back(
    kind, client, owner, owner_draft, faults
):
    client.force_login(owner)
    faults(**STORMS[kind], path_contains="/domains/")
    data = {"domain_prefix": "tailspinco", "mpn_id": FABRIKAM_MPN}
    response = client.post(reverse("checkout:service_details"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "We could not reach Microsoft" in page and 'value="tailspinco"' in page
    faults()
    response = client.post(reverse("checkout:service_details"), data)
    assert response["Location"] == reverse("checkout:review")


def test_mpn_check_with_microsoft_down_and_an_empty_network_cache_says_so(client, owner, owner_draft, faults):
    ResellerMpnIdFactory(
        organization=owner.organization, mpn_id="7654321"
    )  # its own, not yet in the network cache
    client.force_login(owner)
    faults(**STORMS["fail"])
    response = _check(client, "", check="mpn", mpn_id="7654321")
    assert response.status_code == 200
    assert "We could not reach Microsoft" in response.content.decode()
    assert CheckoutDraft.objects.get(pk=owner_draft.pk).mpn_id == "7654321"


def test_service_details_page_renders_while_microsoft_is_down(client, owner, owner_draft, faults):
    owner_draft.domain_prefix = "downtimeco"
    owner_draft.save()
    client.force_login(owner)
    faults(**STORMS["fail"])
    response = client.get(reverse("checkout:service_details"))
    assert response.status_code == 200
    assert 'value="downtimeco"' in response.content.decode()
