"""The sandbox's authorization endpoint: sign-in page, MFA step, code redeemed once with the PKCE verifier."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from csp.partner_center.auth import SandboxTokenProvider
from csp.partner_center.exceptions import PartnerCenterAuthError, PartnerCenterNotConnected
from csp.partner_center.schemas import PartnerCenterConfig
from csp.sandbox.server import SandboxServer

REDIRECT = "https://shop.example/admin/csp/partnercenterconnection/callback/"


def hidden_fields(html: str) -> dict[str, str]:
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    }


def sign_in(
    auth_uri: str, *, username: str = "agent@northwind.example", otc: str = "123456"
) -> requests.Response:
    """What the Admin agent does in the browser: the sign-in page, then the MFA page."""
    page = requests.get(auth_uri, timeout=10)
    assert page.status_code == 200 and "Sign in" in page.text
    fields = hidden_fields(page.text.split("</form>")[0])
    mfa = requests.post(
        auth_uri.split("?")[0], data={**fields, "username": username, "password": "pw"}, timeout=10
    )
    assert "Verify your identity" in mfa.text
    fields = hidden_fields(mfa.text)
    return requests.post(
        auth_uri.split("?")[0], data={**fields, "otc": otc}, allow_redirects=False, timeout=10
    )


@pytest.fixture
def provider(server: SandboxServer) -> SandboxTokenProvider:
    return SandboxTokenProvider(PartnerCenterConfig.for_sandbox(server.url))


def test_the_admin_signs_in_with_mfa_and_the_code_is_redeemed_with_the_pkce_verifier(provider, server):
    flow = provider.connect_start(redirect_uri=REDIRECT)
    assert provider.app_plus_user is False

    answer = sign_in(flow["auth_uri"])

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["state"] == flow["state"]
    account = provider.connect_finish(flow=flow, response=params)
    assert (account.username, account.mfa) == ("agent@northwind.example", True)
    assert provider.app_plus_user is True
    assert provider.token("partner_center").startswith("sandbox-")
    # the code is single use
    with pytest.raises(PartnerCenterAuthError) as info:
        provider.connect_finish(flow=flow, response=params)
    assert info.value.error == "invalid_grant"


def test_a_wrong_mfa_code_gets_the_mfa_page_again(provider):
    flow = provider.connect_start(redirect_uri=REDIRECT)

    answer = sign_in(flow["auth_uri"], otc="000000")

    assert answer.status_code == 200
    assert "That code is not right." in answer.text


def test_a_code_redeemed_without_the_right_verifier_is_refused(provider, server):
    flow = provider.connect_start(redirect_uri=REDIRECT)
    params = {
        k: v[0] for k, v in parse_qs(urlsplit(sign_in(flow["auth_uri"]).headers["Location"]).query).items()
    }

    with pytest.raises(PartnerCenterAuthError) as info:
        provider.connect_finish(flow={**flow, "code_verifier": "x" * 64}, response=params)
    assert info.value.error == "invalid_grant"


def test_the_authorization_endpoint_requires_pkce(provider):
    flow = provider.connect_start(redirect_uri=REDIRECT)
    without_pkce = re.sub(r"&code_challenge=[^&]+", "", flow["auth_uri"])

    answer = requests.get(without_pkce, timeout=10)

    assert answer.status_code == 400
    assert "PKCE" in answer.text or "Proof Key" in answer.text


def test_declining_comes_back_as_access_denied_and_a_forged_state_is_refused(provider):
    flow = provider.connect_start(redirect_uri=REDIRECT)
    page = requests.get(flow["auth_uri"], timeout=10)
    cancel = hidden_fields(page.text.split("</form>")[1])
    answer = requests.post(flow["auth_uri"].split("?")[0], data=cancel, allow_redirects=False, timeout=10)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}

    assert params["error"] == "access_denied"
    with pytest.raises(PartnerCenterAuthError):
        provider.connect_finish(flow=flow, response=params)
    with pytest.raises(PartnerCenterAuthError) as info:
        provider.connect_finish(flow=flow, response={"code": "x", "state": "forged"})
    assert info.value.error == "state_mismatch"


def test_a_revoked_connection_says_connect_again(server):
    from csp.partner_center.auth import InMemoryTokenCacheStore

    store = InMemoryTokenCacheStore('{"refresh_token": "revoked-by-admin"}')
    provider = SandboxTokenProvider(PartnerCenterConfig.for_sandbox(server.url), cache_store=store)

    with pytest.raises(PartnerCenterNotConnected) as info:
        provider.token("partner_center")
    assert "connect again" in info.value.message
