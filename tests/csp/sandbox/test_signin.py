"""Sign-in host: discovery resolves domains to tenant ids, tokens are issued, and APIs demand them."""

from __future__ import annotations

import pytest

from .conftest import ALPINE, CONTOSO, DISTRIBUTOR_TENANT_ID, FABRIKAM, LITWARE, Api


@pytest.mark.parametrize(
    ("name", "tenant_id"),
    [
        ("contoso.onmicrosoft.com", CONTOSO),
        ("contoso.com", CONTOSO),
        ("ALPINESKIHOUSE.COM", ALPINE),
        ("litwareinc.onmicrosoft.com", "33333333-3333-4333-8333-000000000003"),
        (CONTOSO, CONTOSO),
        (DISTRIBUTOR_TENANT_ID, DISTRIBUTOR_TENANT_ID),
        (FABRIKAM, FABRIKAM),
    ],
)
def test_discovery_resolves_initial_and_custom_domains_and_ids(anon: Api, name: str, tenant_id: str) -> None:
    answer = anon.get(f"/{name}/.well-known/openid-configuration")
    assert answer.status_code == 200
    body = answer.json()
    assert body["issuer"] == f"https://sts.windows.net/{tenant_id}/"
    assert body["token_endpoint"] == f"{anon.base_url}/{tenant_id}/oauth2/token"


def test_v2_discovery_carries_the_tenant_id(anon: Api) -> None:
    body = anon.get("/wingtiptoys.com/v2.0/.well-known/openid-configuration").json()
    assert "33333333-3333-4333-8333-000000000002" in body["issuer"]
    assert body["token_endpoint"].endswith("/33333333-3333-4333-8333-000000000002/oauth2/v2.0/token")


def test_discovery_of_unknown_domain_is_aadsts90002(anon: Api) -> None:
    answer = anon.get("/nobody-here.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_request"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith(
        "AADSTS90002: Tenant 'nobody-here.onmicrosoft.com' not found."
    )


def test_client_credentials_token_on_v1_and_v2_endpoints(anon: Api) -> None:
    for path in ("oauth2/token", "oauth2/v2.0/token"):
        answer = anon.post(
            f"/{DISTRIBUTOR_TENANT_ID}/{path}",
            data={"grant_type": "client_credentials", "client_id": "any", "client_secret": "thing"},
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["access_token"].startswith("sandbox-")


def test_refresh_token_grant_rolls_the_refresh_token(anon: Api) -> None:
    form = {
        "grant_type": "refresh_token",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "from-env",
    }
    first = anon.post(f"/{DISTRIBUTOR_TENANT_ID}/oauth2/token", data=form).json()
    second = anon.post(
        f"/{DISTRIBUTOR_TENANT_ID}/oauth2/token", data={**form, "refresh_token": first["refresh_token"]}
    ).json()
    assert first["refresh_token"] not in ("from-env", second["refresh_token"])
    assert second["access_token"] != first["access_token"]


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "client_credentials", "client_id": "c"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_secret": "s"}, 400, "invalid_request"),
        ({"grant_type": "password", "client_id": "c", "client_secret": "s"}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "client_id": "c", "client_secret": "s"}, 400, "invalid_request"),
        (
            {
                "grant_type": "refresh_token",
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "revoked-1",
            },
            400,
            "invalid_grant",
        ),
    ],
)
def test_token_errors_use_the_oauth_error_shape(anon: Api, form: dict, status: int, error: str) -> None:
    answer = anon.post(f"/{DISTRIBUTOR_TENANT_ID}/oauth2/v2.0/token", data=form)
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_codes"]


def test_token_for_unknown_tenant_is_refused(anon: Api) -> None:
    answer = anon.post(
        "/unknown.example/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"},
    )
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [90002]


@pytest.mark.parametrize("auth", [None, "Bearer not-issued-here", "Basic abc"])
def test_partner_center_requires_an_issued_bearer_token(anon: Api, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    answer = anon.get("/v1/customers", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {
        "code": 401,
        "description": "Unauthorized: the bearer token is missing, invalid or expired.",
        "data": [],
        "source": "PartnerFD",
    }
    assert anon.head("/v1/domains/contoso.onmicrosoft.com", headers=headers).status_code == 401
    assert (
        anon.get(f"/v1/compliance/csp/agreementstatus?tenantId={LITWARE}", headers=headers).status_code == 401
    )


def test_graph_requires_a_token_and_answers_in_graph_shape(anon: Api) -> None:
    answer = anon.get("/v1.0/tenantRelationships/delegatedAdminRelationships")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_response_headers_echo_request_and_correlation_ids(api: Api) -> None:
    answer = api.get("/v1/customers", headers={"MS-RequestId": "r-1", "MS-CorrelationId": "c-1"})
    assert answer.headers["MS-RequestId"] == "r-1"
    assert answer.headers["MS-CorrelationId"] == "c-1"
    assert answer.headers["MS-CV"]
    generated = api.get("/v1/customers")
    assert generated.headers["MS-RequestId"] and generated.headers["MS-CorrelationId"]
