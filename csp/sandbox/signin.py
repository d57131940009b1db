"""Sign-in host (login.microsoftonline.com): OpenID discovery and the token endpoints (v1 and v2)."""

from __future__ import annotations

import base64
import time
import uuid
from typing import TYPE_CHECKING

from csp.sandbox.state import now_iso
from csp.sandbox.web import SIGNIN, Request, Response, Route, json_response

if TYPE_CHECKING:
    from csp.sandbox.server import SandboxApp

MULTI_TENANT_ALIASES = {"common", "organizations", "consumers"}


def aad_error(status: int, error: str, code: int, text: str) -> Response:
    """Entra ID's OAuth error body, with the AADSTS code in the text and in error_codes."""
    trace = f" Trace ID: {uuid.uuid4()} Correlation ID: {uuid.uuid4()} Timestamp: {now_iso()}"
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {text}{trace}",
        "error_codes": [code],
        "timestamp": now_iso(),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
    return json_response(status, body)


def tenant_not_found(value: str) -> Response:
    text = (
        f"Tenant '{value}' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud. Check with your subscription administrator, this may happen if there are "
        "no active subscriptions for the tenant."
    )
    return aad_error(400, "invalid_request", 90002, text)


def _resolve(app: SandboxApp, tenant: str) -> str | None:
    if tenant.lower() in MULTI_TENANT_ALIASES:
        return "{tenantid}"
    return app.state.resolve_tenant_id(tenant)


def discovery(app: SandboxApp, req: Request, tenant: str, v2: bool = False) -> Response:
    """OpenID configuration; the issuer and token endpoint carry the tenant id a domain resolves to."""
    tenant_id = _resolve(app, tenant)
    if tenant_id is None:
        return tenant_not_found(tenant)
    base = f"{req.base_url}/{tenant_id}"
    if v2:
        issuer, oauth = f"https://login.microsoftonline.com/{tenant_id}/v2.0", f"{base}/oauth2/v2.0"
    else:
        issuer, oauth = f"https://sts.windows.net/{tenant_id}/", f"{base}/oauth2"
    body = {
        "token_endpoint": f"{oauth}/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{req.base_url}/{tenant_id}/discovery/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "authorization_endpoint": f"{oauth}/authorize",
        "device_authorization_endpoint": f"{oauth}/devicecode",
        "end_session_endpoint": f"{oauth}/logout",
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }
    return json_response(200, body)


def discovery_v2(app: SandboxApp, req: Request, tenant: str) -> Response:
    return discovery(app, req, tenant, v2=True)


def _client_from_basic(req: Request) -> tuple[str, str]:
    header = req.header("Authorization") or ""
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except ValueError:
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def token(app: SandboxApp, req: Request, tenant: str) -> Response:
    """client_credentials and refresh_token grants; any non-empty client id and secret are accepted."""
    if _resolve(app, tenant) is None:
        return tenant_not_found(tenant)
    form = req.form()
    basic_id, basic_secret = _client_from_basic(req)
    client_id = form.get("client_id") or basic_id
    secret = form.get("client_secret") or basic_secret or form.get("client_assertion")
    grant = form.get("grant_type", "")
    missing = "The request body must contain the following parameter: '{}'."
    if not grant:
        return aad_error(400, "invalid_request", 900144, missing.format("grant_type"))
    if grant not in {"client_credentials", "refresh_token"}:
        return aad_error(
            400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
        )
    if not client_id:
        return aad_error(400, "invalid_request", 900144, missing.format("client_id"))
    if not secret:
        text = "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
        return aad_error(401, "invalid_client", 7000218, text)
    refresh = None
    if grant == "refresh_token":
        presented = form.get("refresh_token", "")
        if not presented:
            return aad_error(400, "invalid_request", 900144, missing.format("refresh_token"))
        if presented.lower().startswith(("invalid", "revoked", "expired")):
            text = "The provided grant has expired due to it being revoked, a fresh auth token is needed."
            return aad_error(400, "invalid_grant", 70008, text)
    with app.state.lock:
        access, new_refresh = app.state.issue_tokens()
    if grant == "refresh_token":
        refresh = new_refresh  # refresh tokens roll on every use
    body: dict[str, object] = {
        "token_type": "Bearer",
        "expires_in": 3600,
        "ext_expires_in": 3600,
        "expires_on": int(time.time()) + 3600,
        "access_token": access,
    }
    if form.get("resource"):
        body["resource"] = form["resource"]
    if form.get("scope"):
        body["scope"] = form["scope"]
    if refresh:
        body["refresh_token"] = refresh
    return json_response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def routes() -> list[Route]:
    return [
        Route("GET", "/{tenant}/.well-known/openid-configuration", discovery, SIGNIN, auth=False),
        Route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", discovery_v2, SIGNIN, auth=False),
        Route("POST", "/{tenant}/oauth2/token", token, SIGNIN, auth=False),
        Route("POST", "/{tenant}/oauth2/v2.0/token", token, SIGNIN, auth=False),
    ]
