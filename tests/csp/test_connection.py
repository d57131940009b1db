"""Live mode wired through Django settings: msal against the configured sign-in host, the rolling refresh token
kept in the database, and every change made at Microsoft recorded for support."""

import pytest
import responses

from csp.connection import partner_center, reset_clients
from csp.models import PartnerCenterCall, TokenCache
from csp.partner_center.schemas import CartLine
from tests.csp.partner_center.test_auth import (
    PC_DELEGATED,
    SOVEREIGN_LOGIN,
    TokenEndpoint,
    mock_sovereign_sign_in,
    user_token,
)
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN

pytestmark = pytest.mark.django_db
API = "https://partnercenter.example-sovereign.test"
TENANT = CONTOSO_TENANT


@pytest.fixture
def live(settings):
    settings.PARTNER_CENTER_MODE = "live"
    settings.PARTNER_CENTER_API_URL = API
    settings.MICROSOFT_LOGIN_URL = SOVEREIGN_LOGIN
    settings.PARTNER_CENTER_CLIENT_ID = "app-id"
    settings.PARTNER_CENTER_CLIENT_SECRET = "app-secret"
    settings.PARTNER_CENTER_REFRESH_TOKEN = "rt-from-the-environment"
    reset_clients()
    yield
    reset_clients()


def test_live_mode_uses_msal_and_keeps_the_rolled_refresh_token_in_the_database_encrypted(live, settings):
    from csp.token_cache import EncryptedTokenCacheStore

    settings.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = "q5JcFh0n3n0mB7yXJ2mI1o4c8wX3aV6bTt9rS2eU5dY="
    endpoint = TokenEndpoint([user_token("at-1", "rt-rolled", PC_DELEGATED)])
    with responses.RequestsMock() as mocked:
        mock_sovereign_sign_in(mocked, endpoint)
        mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
        assert partner_center().domain_exists("contoso.onmicrosoft.com") is True
        assert mocked.calls[-1].request.headers["Authorization"] == "Bearer at-1"
    assert endpoint.forms[0]["refresh_token"] == "rt-from-the-environment"
    stored = TokenCache.objects.get(name="partner_center").data
    assert "rt-rolled" not in stored  # encrypted at rest
    cache = EncryptedTokenCacheStore().load()
    assert "rt-rolled" in cache and "rt-from-the-environment" not in cache


def test_without_an_encryption_key_the_environment_refresh_token_works_and_nothing_is_stored(live, settings):
    settings.PARTNER_CENTER_TOKEN_ENCRYPTION_KEY = ""
    endpoint = TokenEndpoint([user_token("at-1", "rt-rolled", PC_DELEGATED)])
    with responses.RequestsMock() as mocked:
        mock_sovereign_sign_in(mocked, endpoint)
        mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
        assert partner_center().domain_exists("contoso.onmicrosoft.com") is True
    assert not TokenCache.objects.exists()


def test_changes_at_microsoft_are_recorded_without_secrets(live):
    endpoint = TokenEndpoint([user_token("at-1", "rt-rolled", PC_DELEGATED)])
    with responses.RequestsMock() as mocked:
        mock_sovereign_sign_in(mocked, endpoint)
        mocked.post(
            f"{API}/v1/customers/{TENANT}/carts",
            status=201,
            json={"id": "cart-1", "status": "Active", "lineItems": []},
        )
        cart = partner_center().create_cart(
            TENANT,
            [CartLine("CFQ7TTC0LH18:0001:CFQ7TTC0LH1K", 2, partner_id_on_record=FABRIKAM_MPN)],
            request_id="r-1",
        )
    assert cart.id == "cart-1"
    call = PartnerCenterCall.objects.get()
    assert (call.operation, call.method, call.status, call.request_id) == ("create_cart", "POST", 201, "r-1")
    assert "at-1" not in str(call.__dict__) and "app-secret" not in str(call.__dict__)
