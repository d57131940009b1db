"""Sign-in: msal in live mode against mocked sovereign endpoints, a plain token request in sandbox mode."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from csp.partner_center import (
    InMemoryTokenCacheStore,
    MsalTokenProvider,
    PartnerCenterAuthError,
    PartnerCenterClient,
    PartnerCenterConfig,
    PartnerCenterNotConnected,
    SandboxTokenProvider,
    TransientPartnerCenterError,
    token_provider_for,
)

from .helpers import API, DISTRIBUTOR_TENANT_ID
from .live import DISTRIBUTOR, logged_requests

SOVEREIGN_LOGIN = "https://login.example-sovereign.test"
AUTHORITY = f"{SOVEREIGN_LOGIN}/{DISTRIBUTOR_TENANT_ID}"
TOKEN_URL = f"{AUTHORITY}/oauth2/v2.0/token"
SANDBOX = "http://127.0.0.1:8765"
SANDBOX_TOKEN_URL = f"{SANDBOX}/{DISTRIBUTOR_TENANT_ID}/oauth2/v2.0/token"
PC_DELEGATED = "https://api.partnercenter.microsoft.com/user_impersonation"
GRAPH_DELEGATED = "https://graph.microsoft.com/DelegatedAdminRelationship.ReadWrite.All"


def live_config(**overrides) -> PartnerCenterConfig:
    values = dict(
        mode="live",
        tenant_id=DISTRIBUTOR_TENANT_ID,
        client_id="app-id",
        client_secret="app-secret",
        login_url=SOVEREIGN_LOGIN,
    )
    values.update(overrides)
    return PartnerCenterConfig(**values)


def client_info() -> str:
    raw = json.dumps({"uid": "admin-agent-oid", "utid": DISTRIBUTOR_TENANT_ID}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TokenEndpoint:
    """Plays Entra's token endpoint: records each form it receives and answers the next queued reply."""

    def __init__(self, replies: list[tuple[int, dict]]) -> None:
        self.replies = replies
        self.forms: list[dict[str, str]] = []

    def __call__(self, request):
        self.forms.append({k: v[0] for k, v in parse_qs(request.body).items()})
        status, payload = self.replies.pop(0)
        return status, {"Content-Type": "application/json"}, json.dumps(payload)


def mock_sovereign_sign_in(mocked: responses.RequestsMock, endpoint: TokenEndpoint) -> None:
    mocked.get(
        f"{AUTHORITY}/v2.0/.well-known/openid-configuration",
        json={
            "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
            "token_endpoint": TOKEN_URL,
            "issuer": f"{AUTHORITY}/v2.0",
        },
    )
    mocked.add_callback(responses.POST, TOKEN_URL, callback=endpoint)


def user_token(access_token: str, refresh_token: str, scope: str) -> tuple[int, dict]:
    return 200, {
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": 3600,
        "ext_expires_in": 3600,
        "access_token": access_token,
        "refresh_token": refresh_token,
        "client_info": client_info(),
    }


def test_app_plus_user_redeems_the_refresh_token_and_persists_the_rolled_one(mocked):
    endpoint = TokenEndpoint([user_token("at-pc-1", "rt-rolled-1", PC_DELEGATED)])
    mock_sovereign_sign_in(mocked, endpoint)
    store = InMemoryTokenCacheStore()
    provider = MsalTokenProvider(live_config(refresh_token="rt-initial"), cache_store=store)

    assert provider.token("partner_center") == "at-pc-1"

    [form] = endpoint.forms
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "rt-initial"
    assert form["client_id"] == "app-id"
    assert form["client_secret"] == "app-secret"
    assert PC_DELEGATED in form["scope"].split()
    assert store.saves == 1
    assert "rt-rolled-1" in store.data
    assert "rt-initial" not in store.data
    assert {urlsplit(call.request.url).hostname for call in mocked.calls} == {"login.example-sovereign.test"}


def test_app_plus_user_uses_the_cached_account_and_rolled_token_in_a_new_process(mocked):
    endpoint = TokenEndpoint(
        [
            user_token("at-pc-1", "rt-rolled-1", PC_DELEGATED),
            user_token("at-graph-1", "rt-rolled-2", GRAPH_DELEGATED),
        ]
    )
    mock_sovereign_sign_in(mocked, endpoint)
    store = InMemoryTokenCacheStore()
    MsalTokenProvider(live_config(refresh_token="rt-initial"), cache_store=store).token("partner_center")

    later = MsalTokenProvider(live_config(refresh_token="rt-initial"), cache_store=store)

    assert later.token("partner_center") == "at-pc-1"
    assert len(endpoint.forms) == 1
    assert later.token("graph") == "at-graph-1"
    assert endpoint.forms[1]["grant_type"] == "refresh_token"
    assert endpoint.forms[1]["refresh_token"] == "rt-rolled-1"
    assert GRAPH_DELEGATED in endpoint.forms[1]["scope"].split()
    assert "rt-rolled-2" in store.data


def test_app_plus_user_invalidate_forces_a_refresh(mocked):
    endpoint = TokenEndpoint(
        [
            user_token("at-pc-1", "rt-rolled-1", PC_DELEGATED),
            user_token("at-pc-2", "rt-rolled-2", PC_DELEGATED),
        ]
    )
    mock_sovereign_sign_in(mocked, endpoint)
    provider = MsalTokenProvider(live_config(refresh_token="rt-initial"))

    assert provider.token("partner_center") == "at-pc-1"
    provider.invalidate("partner_center")

    assert provider.token("partner_center") == "at-pc-2"
    assert endpoint.forms[1]["refresh_token"] == "rt-rolled-1"


def test_live_mode_without_a_connection_never_falls_back_to_app_only_for_partner_center(mocked):
    endpoint = TokenEndpoint(
        [
            (200, {"token_type": "Bearer", "expires_in": 3600, "access_token": "at-app-graph"}),
            (200, {"token_type": "Bearer", "expires_in": 3600, "access_token": "at-app-pc"}),
        ]
    )
    mock_sovereign_sign_in(mocked, endpoint)
    provider = MsalTokenProvider(live_config(api_url="https://pc.example-sovereign.test"))

    with pytest.raises(PartnerCenterNotConnected) as info:
        provider.token("partner_center")
    assert "connect it in admin" in info.value.message
    assert endpoint.forms == []
    assert provider.app_plus_user is False
    # Graph's GDAP application permission is documented, and the health check asks for app-only on purpose.
    assert provider.token("graph") == "at-app-graph"
    assert provider.app_only_token("partner_center") == "at-app-pc"

    assert [f["grant_type"] for f in endpoint.forms] == ["client_credentials"] * 2
    assert [f["scope"] for f in endpoint.forms] == [
        "https://graph.microsoft.com/.default",
        "https://api.partnercenter.microsoft.com/.default",
    ]


def _id_token(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


def test_connecting_runs_the_authorization_code_flow_with_pkce_through_msal(mocked):
    endpoint = TokenEndpoint([])
    mock_sovereign_sign_in(mocked, endpoint)
    store = InMemoryTokenCacheStore()
    provider = MsalTokenProvider(live_config(), cache_store=store)
    redirect_uri = "https://shop.example/admin/csp/partnercenterconnection/callback/"

    flow = provider.connect_start(redirect_uri=redirect_uri)

    query = {k: v[0] for k, v in parse_qs(urlsplit(flow["auth_uri"]).query).items()}
    assert flow["auth_uri"].startswith(f"{AUTHORITY}/oauth2/v2.0/authorize?")
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == redirect_uri
    assert query["code_challenge_method"] == "S256"
    assert PC_DELEGATED in query["scope"].split() and "offline_access" in query["scope"].split()
    claims = {
        "aud": "app-id",
        "iss": f"{AUTHORITY}/v2.0",
        "tid": DISTRIBUTOR_TENANT_ID,
        "oid": "admin-agent-oid",
        "preferred_username": "agent@northwind.example",
        "name": "Admin Agent",
        "nonce": query["nonce"],  # msal sends a hash of the flow's nonce and checks the ID token carries it
        "amr": ["pwd", "mfa"],
        "iat": 1_900_000_000 - 60,
        "exp": 4_000_000_000,
    }
    endpoint.replies.append(
        (200, user_token("at-pc-1", "rt-consented", PC_DELEGATED)[1] | {"id_token": _id_token(claims)})
    )

    account = provider.connect_finish(flow=flow, response={"code": "the-code", "state": query["state"]})

    assert (account.username, account.name, account.mfa) == ("agent@northwind.example", "Admin Agent", True)
    [form] = endpoint.forms
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == redirect_uri
    assert form["code_verifier"] == flow["code_verifier"]
    assert "rt-consented" in store.data
    assert provider.app_plus_user is True
    assert provider.token("partner_center") == "at-pc-1"  # from the cache: no second request
    assert len(endpoint.forms) == 1


def test_a_sign_in_answer_with_another_state_is_refused(mocked):
    mocked.get(
        f"{AUTHORITY}/v2.0/.well-known/openid-configuration",
        json={"authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize", "token_endpoint": TOKEN_URL},
    )
    provider = MsalTokenProvider(live_config())
    flow = provider.connect_start(redirect_uri="https://shop.example/callback/")

    with pytest.raises(PartnerCenterAuthError) as info:
        provider.connect_finish(flow=flow, response={"code": "c", "state": "forged"})
    assert info.value.error == "state_mismatch"


def test_msal_error_becomes_a_permanent_auth_error(mocked):
    endpoint = TokenEndpoint(
        [
            (
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "AADSTS700082: The refresh token has expired due to inactivity.",
                    "error_codes": [700082],
                },
            )
        ]
    )
    mock_sovereign_sign_in(mocked, endpoint)
    provider = MsalTokenProvider(live_config(refresh_token="rt-expired"))

    with pytest.raises(PartnerCenterAuthError) as info:
        provider.token("partner_center")

    assert info.value.error == "invalid_grant"
    assert info.value.error_description.startswith("AADSTS700082")
    assert "rt-expired" not in str(info.value)


def test_unknown_authority_is_an_auth_error(mocked):
    mocked.get(
        f"{AUTHORITY}/v2.0/.well-known/openid-configuration", status=400, json={"error": "invalid_tenant"}
    )

    with pytest.raises(PartnerCenterAuthError) as info:
        MsalTokenProvider(live_config()).token("partner_center")
    assert info.value.error == "invalid_authority"


def test_live_client_sends_the_msal_token_to_partner_center(mocked):
    endpoint = TokenEndpoint([user_token("at-pc-1", "rt-rolled-1", PC_DELEGATED)])
    mock_sovereign_sign_in(mocked, endpoint)
    mocked.head(f"{API}/v1/domains/contoso.onmicrosoft.com", status=200)
    store = InMemoryTokenCacheStore()
    client = PartnerCenterClient(live_config(refresh_token="rt-initial"), token_cache_store=store)

    assert client.domain_exists("contoso.onmicrosoft.com") is True

    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer at-pc-1"
    assert client.call_count == 1
    assert "rt-rolled-1" in store.data


def test_unknown_resource_is_refused():
    with pytest.raises(ValueError):
        MsalTokenProvider(live_config()).token("azure")


def test_secrets_never_appear_in_the_config_repr():
    config = live_config(refresh_token="rt-secret-value")

    assert "app-secret" not in repr(config)
    assert "rt-secret-value" not in repr(config)


def sandbox_token_reply(access_token: str, expires_in: int = 3600) -> dict:
    return {"token_type": "Bearer", "expires_in": expires_in, "access_token": access_token}


def test_sandbox_gets_a_client_credentials_token_with_a_plain_post(mocked):
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("sandbox-at-1"))
    provider = SandboxTokenProvider(PartnerCenterConfig.for_sandbox(SANDBOX))

    assert provider.token("partner_center") == "sandbox-at-1"

    form = {k: v[0] for k, v in parse_qs(mocked.calls[0].request.body).items()}
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
        "scope": "https://api.partnercenter.microsoft.com/.default",
    }


def test_sandbox_token_is_cached_until_shortly_before_expiry(mocked):
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("sandbox-at-1", expires_in=3600))
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("sandbox-at-2", expires_in=3600))
    now = [1000.0]
    provider = SandboxTokenProvider(PartnerCenterConfig.for_sandbox(SANDBOX), clock=lambda: now[0])

    assert provider.token("partner_center") == "sandbox-at-1"
    now[0] += 3000
    assert provider.token("partner_center") == "sandbox-at-1"
    now[0] += 400
    assert provider.token("partner_center") == "sandbox-at-2"
    assert len(mocked.calls) == 2


def test_sandbox_tokens_are_per_resource_and_invalidate_drops_them(mocked):
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("pc-1"))
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("graph-1"))
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("pc-2"))
    provider = SandboxTokenProvider(PartnerCenterConfig.for_sandbox(SANDBOX))

    assert provider.token("partner_center") == "pc-1"
    assert provider.token("graph") == "graph-1"
    provider.invalidate("partner_center")
    assert provider.token("partner_center") == "pc-2"
    assert provider.token("graph") == "graph-1"
    scopes = [parse_qs(c.request.body)["scope"][0] for c in mocked.calls]
    assert scopes[1] == "https://graph.microsoft.com/.default"


def test_sandbox_sign_in_refusal_is_an_auth_error(mocked):
    mocked.post(
        SANDBOX_TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": "bad secret"}
    )

    with pytest.raises(PartnerCenterAuthError) as info:
        SandboxTokenProvider(PartnerCenterConfig.for_sandbox(SANDBOX)).token("partner_center")
    assert info.value.error == "invalid_client"


def test_sandbox_sign_in_down_is_transient(mocked):
    mocked.post(SANDBOX_TOKEN_URL, status=503)

    with pytest.raises(TransientPartnerCenterError):
        SandboxTokenProvider(PartnerCenterConfig.for_sandbox(SANDBOX)).token("partner_center")


def test_sandbox_mode_client_sends_every_host_to_the_sandbox(mocked):
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("pc-1"))
    mocked.post(SANDBOX_TOKEN_URL, json=sandbox_token_reply("graph-1"))
    mocked.head(f"{SANDBOX}/v1/domains/contoso.onmicrosoft.com", status=200)
    mocked.get(
        f"{SANDBOX}/contoso.onmicrosoft.com/.well-known/openid-configuration",
        json={"issuer": "https://sts.windows.net/33333333-3333-4333-8333-000000000001/"},
    )
    mocked.get(
        f"{SANDBOX}/v1.0/tenantRelationships/delegatedAdminRelationships/rel-1",
        json={"id": "rel-1", "status": "approvalPending"},
    )
    client = PartnerCenterClient(PartnerCenterConfig.for_sandbox(SANDBOX), sleep=lambda s: None)

    availability = client.domain_availability("contoso")
    relationship = client.get_gdap_relationship("rel-1")

    assert availability.available is False
    assert availability.tenant_id == "33333333-3333-4333-8333-000000000001"
    assert relationship.status == "approvalPending"
    # sign-in discovery runs alongside the domain check, so the calls are found by what they asked for
    head = next(c for c in mocked.calls if c.request.method == "HEAD")
    assert head.request.headers["Authorization"] == "Bearer pc-1"
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer graph-1"
    assert client.call_count == 3


ORGANIZATIONS = f"{SOVEREIGN_LOGIN}/organizations"
ALPINE_TENANT_ID = "33333333-3333-4333-8333-000000000005"


def test_a_tenant_administrator_signs_in_through_msal_and_the_id_token_names_the_tenant(mocked):
    """Live mode: OpenID Connect with PKCE against the multi-tenant authority; `tid` is the signed-in user's tenant."""
    from csp.partner_center.auth import MsalTenantSignIn

    mocked.get(
        f"{ORGANIZATIONS}/v2.0/.well-known/openid-configuration",
        json={
            "authorization_endpoint": f"{ORGANIZATIONS}/oauth2/v2.0/authorize",
            "token_endpoint": f"{ORGANIZATIONS}/oauth2/v2.0/token",
            "issuer": f"{SOVEREIGN_LOGIN}/{{tenantid}}/v2.0",
        },
    )
    endpoint = TokenEndpoint([])
    mocked.add_callback(responses.POST, f"{ORGANIZATIONS}/oauth2/v2.0/token", callback=endpoint)
    sign_in = MsalTenantSignIn(live_config())
    redirect_uri = "https://shop.example/checkout/authorizations/signed-in/"

    flow = sign_in.start(redirect_uri=redirect_uri, login_hint="admin@alpineskihouse.onmicrosoft.com")

    query = {k: v[0] for k, v in parse_qs(urlsplit(flow["auth_uri"]).query).items()}
    assert flow["auth_uri"].startswith(f"{ORGANIZATIONS}/oauth2/v2.0/authorize?")
    assert (query["response_type"], query["code_challenge_method"]) == ("code", "S256")
    assert "openid" in query["scope"].split() and PC_DELEGATED not in query["scope"]
    assert query["login_hint"] == "admin@alpineskihouse.onmicrosoft.com"
    claims = {
        "aud": "app-id",
        "iss": f"{SOVEREIGN_LOGIN}/{ALPINE_TENANT_ID}/v2.0",
        "tid": ALPINE_TENANT_ID,
        "sub": "pairwise-subject",
        "oid": "alpine-admin-oid",
        "preferred_username": "admin@alpineskihouse.com",
        "nonce": query["nonce"],
        "iat": 1_900_000_000 - 60,
        "exp": 4_000_000_000,
    }
    endpoint.replies.append(
        (200, {"token_type": "Bearer", "id_token": _id_token(claims), "expires_in": 3600})
    )

    account = sign_in.finish(flow=flow, response={"code": "the-code", "state": query["state"]})

    assert (account.tenant_id, account.username) == (ALPINE_TENANT_ID, "admin@alpineskihouse.com")
    [form] = endpoint.forms
    assert (form["grant_type"], form["code"], form["redirect_uri"]) == (
        "authorization_code",
        "the-code",
        redirect_uri,
    )
    assert form["code_verifier"] == flow["code_verifier"]
    with pytest.raises(PartnerCenterAuthError):
        sign_in.finish(flow=flow, response={"code": "other", "state": "forged"})


def test_sandbox_config_builds_a_token_provider_that_gets_tokens_from_the_sandbox(url: str) -> None:
    config = PartnerCenterConfig.for_sandbox(url)
    provider = token_provider_for(config)
    assert isinstance(provider, SandboxTokenProvider)

    partner_center = provider.token("partner_center")
    graph = provider.token("graph")

    assert partner_center.startswith("sandbox-") and graph.startswith("sandbox-")
    assert provider.token("partner_center") == partner_center  # cached, not asked again
    token_requests = logged_requests(url, f"/{DISTRIBUTOR}/oauth2/v2.0/token")
    assert [r["method"] for r in token_requests] == ["POST", "POST"]
