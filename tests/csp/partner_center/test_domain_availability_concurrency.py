"""A new prefix costs the buyer one Microsoft round trip, not two: the client asks both questions at once."""

from __future__ import annotations

import json
import threading

import pytest
import responses

from csp.partner_center import PartnerCenterClient
from csp.partner_center.exceptions import PermanentPartnerCenterError

from .helpers import API, LOGIN, load

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
