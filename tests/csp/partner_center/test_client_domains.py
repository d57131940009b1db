"""Domains and tenants: `domain_exists`, `tenant_id_for_domain`, `domain_availability` (both asked at once), against
documented answers and the sandbox."""

from __future__ import annotations

import json
import threading

import pytest
import responses

from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import PermanentPartnerCenterError

from .helpers import (
    API,
    CONTOSO_TENANT,
    LOGIN,
    load,
    sent,
)
from .live import (
    CONTOSO,
    WOODGROVE,
    control,
)

DOMAIN = "freshprefix.onmicrosoft.com"
UNKNOWN = (400, {"Content-Type": "application/json"}, json.dumps(load("openid_unknown_tenant.json")))


def _mock_both(mocked: responses.RequestsMock, partner_center_status: int) -> None:
    """Each lookup answers only once the other has also been sent: made one after the other, the first would
    wait for the second, and the barrier breaks after its timeout (the test fails) instead of answering."""
    barrier = threading.Barrier(2, timeout=10)

    def answer(response):
        def callback(request):
            barrier.wait()
            return response

        return callback

    mocked.add_callback(responses.HEAD, f"{API}/v1/domains/{DOMAIN}", answer((partner_center_status, {}, "")))
    mocked.add_callback(responses.GET, f"{LOGIN}/{DOMAIN}/.well-known/openid-configuration", answer(UNKNOWN))


@pytest.mark.parametrize("prefix", ["con-toso", "-", "contoso.com", "a" * 28, ""])
def test_domain_availability_follows_the_forms_prefix_rule(client, mocked, prefix):
    with pytest.raises(ValueError):
        client.domain_availability(prefix)
    assert client.call_count == 0


def test_domain_exists_reads_200_as_taken_and_404_as_free(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
    mocked.head(f"{API}/v1/domains/freshprefix.onmicrosoft.com", status=404)

    assert client.domain_exists("contoso.onmicrosoft.com") is True
    assert client.domain_exists("freshprefix.onmicrosoft.com") is False


@pytest.mark.parametrize("status", [400, 403])
def test_domain_exists_never_reads_an_error_as_available(client, mocked, status):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=status)

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.domain_exists("contoso.onmicrosoft.com")
    assert info.value.status == status


def test_tenant_id_for_domain_parses_the_issuer_without_a_token(client, mocked):
    mocked.get(
        f"{LOGIN}/contoso.com/.well-known/openid-configuration", json=load("openid_configuration.json")
    )

    assert client.tenant_id_for_domain("contoso.com") == CONTOSO_TENANT
    assert "Authorization" not in sent(mocked).headers


def test_tenant_id_for_domain_falls_back_to_the_token_endpoint(client, mocked):
    payload = load("openid_configuration.json")
    del payload["issuer"]
    mocked.get(f"{LOGIN}/contoso.com/.well-known/openid-configuration", json=payload)

    assert client.tenant_id_for_domain("contoso.com") == CONTOSO_TENANT


def test_tenant_id_for_unknown_domain_is_none(client, mocked):
    mocked.get(
        f"{LOGIN}/freshprefix.onmicrosoft.com/.well-known/openid-configuration",
        status=400,
        json=load("openid_unknown_tenant.json"),
    )

    assert client.tenant_id_for_domain("freshprefix.onmicrosoft.com") is None


def test_tenant_discovery_other_400_raises(client, mocked):
    mocked.get(
        f"{LOGIN}/contoso.com/.well-known/openid-configuration",
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "AADSTS50000: something else",
            "error_codes": [50000],
        },
    )

    with pytest.raises(PermanentPartnerCenterError) as info:
        client.tenant_id_for_domain("contoso.com")
    assert info.value.status == 400


def test_tenant_discovery_without_a_guid_is_a_permanent_error(client, mocked):
    mocked.get(f"{LOGIN}/contoso.com/.well-known/openid-configuration", json={"issuer": "https://sts/"})

    with pytest.raises(PermanentPartnerCenterError, match="no tenant id"):
        client.tenant_id_for_domain("contoso.com")


def test_domain_is_available_only_when_both_checks_say_free(client, mocked):
    mocked.head(f"{API}/v1/domains/freshprefix.onmicrosoft.com", status=404)
    mocked.get(
        f"{LOGIN}/freshprefix.onmicrosoft.com/.well-known/openid-configuration",
        status=400,
        json=load("openid_unknown_tenant.json"),
    )

    result = client.domain_availability("FreshPrefix")

    assert result.domain_prefix == "freshprefix"
    assert result.domain == "freshprefix.onmicrosoft.com"
    assert result.available is True
    assert result.tenant_id is None


def test_domain_is_taken_when_discovery_knows_the_tenant_even_if_partner_center_does_not(client, mocked):
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=404)
    mocked.get(
        f"{LOGIN}/contoso.onmicrosoft.com/.well-known/openid-configuration",
        json=load("openid_configuration.json"),
    )

    result = client.domain_availability("contoso")

    assert result.available is False
    assert result.tenant_id == CONTOSO_TENANT


def test_domain_availability_rejects_a_malformed_prefix_without_calling(client, mocked):
    with pytest.raises(ValueError):
        client.domain_availability("bad/prefix")
    assert client.call_count == 0


def test_partner_center_and_sign_in_discovery_are_asked_concurrently(
    client: PartnerCenterClient, mocked: responses.RequestsMock
) -> None:
    _mock_both(mocked, 404)

    result = client.domain_availability("freshprefix")

    assert result.available is True and result.tenant_id is None
    assert client.call_count == 2
    assert sorted(call.request.method for call in mocked.calls) == ["GET", "HEAD"]


def test_a_refused_domain_check_still_lets_discovery_finish_and_counts_both_calls(
    client: PartnerCenterClient, mocked: responses.RequestsMock
) -> None:
    _mock_both(mocked, 403)

    with pytest.raises(PermanentPartnerCenterError):
        client.domain_availability("freshprefix")

    assert client.call_count == 2
    assert len(mocked.calls) == 2


def test_domain_exists_for_initial_and_custom_domains_and_not_for_unknown_ones(
    live: PartnerCenterClient,
) -> None:
    assert live.domain_exists("contoso.onmicrosoft.com") is True
    assert live.domain_exists("contoso.com") is True
    assert live.domain_exists("nobody-here-42.onmicrosoft.com") is False


def test_tenant_id_for_domain_resolves_initial_and_custom_default_domains_and_none_for_unknown(
    live: PartnerCenterClient,
) -> None:
    assert live.tenant_id_for_domain("contoso.onmicrosoft.com") == CONTOSO
    assert live.tenant_id_for_domain("woodgrovebank.com") == WOODGROVE
    assert live.tenant_id_for_domain("nobody-here-42.onmicrosoft.com") is None


def test_domain_availability_says_taken_for_an_existing_initial_domain(live: PartnerCenterClient) -> None:
    taken = live.domain_availability("Contoso")

    assert taken.available is False
    assert taken.domain == "contoso.onmicrosoft.com"
    assert taken.tenant_id == CONTOSO


def test_domain_availability_says_free_for_an_unused_prefix(live: PartnerCenterClient) -> None:
    free = live.domain_availability("fourthcoffee2024")

    assert free.available is True
    assert free.domain == "fourthcoffee2024.onmicrosoft.com"
    assert free.tenant_id is None


def test_domain_availability_sees_a_tenant_added_to_the_sandbox_after_start(
    url: str, live: PartnerCenterClient
) -> None:
    added = control(
        url, "POST", "tenants", {"domain_prefix": "fourthcoffee", "default_domain": "fourthcoffee.com"}
    )

    assert live.domain_availability("fourthcoffee").available is False
    assert live.tenant_id_for_domain("fourthcoffee.com") == added["tenant_id"]
