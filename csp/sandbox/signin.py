"""Sign-in host (login.microsoftonline.com): OpenID discovery and the token endpoints (v1 and v2)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from csp.sandbox.state import DISTRIBUTOR_TENANT_ID as DISTRIBUTOR_TENANT
from csp.sandbox.state import now_iso
from csp.sandbox.web import SIGNIN, Request, Response, Route, esc, html_response, json_response, page

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


# The token's audience follows the scope asked for; the sales host checks it (catalog.SALES_AUDIENCE).
AUDIENCES = (
    "https://api.partner.microsoft.com",
    "https://graph.microsoft.com",
    "https://api.partnercenter.microsoft.com",
)


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
    if grant not in {"client_credentials", "refresh_token", "authorization_code"}:
        return aad_error(
            400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
        )
    if not client_id:
        return aad_error(400, "invalid_request", 900144, missing.format("client_id"))
    if not secret:
        text = "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
        return aad_error(401, "invalid_client", 7000218, text)
    refresh = None
    if grant == "authorization_code":
        return _redeem_code(app, form, client_id)
    if grant == "refresh_token":
        presented = form.get("refresh_token", "")
        if not presented:
            return aad_error(400, "invalid_request", 900144, missing.format("refresh_token"))
        if presented.lower().startswith(("invalid", "revoked", "expired")):
            text = "The provided grant has expired due to it being revoked, a fresh auth token is needed."
            return aad_error(400, "invalid_grant", 70008, text)
    wanted = f"{form.get('scope', '')} {form.get('resource', '')}".lower()
    audience = next((host for host in AUDIENCES if host in wanted), "https://api.partnercenter.microsoft.com")
    with app.state.lock:
        access, new_refresh = app.state.issue_tokens(audience)
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


# -- authorization code with PKCE: a sign-in page, an MFA step, the code redeemed at the token endpoint ---------

MFA_CODE = "123456"
CODE_SECONDS = 600
FLOW_FIELDS = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def _flow_error(text: str) -> Response:
    return html_response(400, page("Sign in", f'<p class="error" role="alert">{esc(text)}</p>'))


def _hidden(flow: dict[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{k}" value="{esc(v)}">' for k, v in flow.items())


def _sign_in_form(flow: dict[str, str], error: str = "") -> str:
    alert = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return f"""{alert}
<p>Microsoft sign-in sandbox: the distributor's Admin agent, or a customer tenant's administrator with an
email on one of the tenant's domains (any password).</p>
<form method="post">{_hidden(flow)}<input type="hidden" name="step" value="password">
<label for="username">Email</label><input id="username" name="username" type="email" required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>
<form method="post">{_hidden(flow)}<input type="hidden" name="step" value="cancel">
<button type="submit">Cancel</button></form>"""


def _mfa_form(flow: dict[str, str], username: str, error: str = "") -> str:
    alert = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
    return f"""{alert}
<p>Enter the code from your authenticator app for {esc(username)} (sandbox: {MFA_CODE}).</p>
<form method="post">{_hidden(flow)}<input type="hidden" name="step" value="mfa">
<input type="hidden" name="username" value="{esc(username)}">
<label for="otc">Code</label><input id="otc" name="otc" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Verify</button></form>"""


def _user_tenant(app: SandboxApp, username: str) -> str | None:
    """A multi-tenant sign-in puts the user in the tenant its email's domain belongs to (any verified domain)."""
    return app.state.resolve_tenant_id(username.rpartition("@")[2].strip().lower())


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return Response(302, b"", {"Location": f"{uri}{separator}{urlencode(params)}"}, "text/plain")


def authorize(app: SandboxApp, req: Request, tenant: str) -> Response:
    """GET: the sign-in page for a valid request (code flow, PKCE with S256 required); POST: its steps."""
    if _resolve(app, tenant) is None:
        return tenant_not_found(tenant)
    flow = {k: v for k, v in (req.query if req.method == "GET" else req.form()).items() if k in FLOW_FIELDS}
    if req.method == "GET" and req.query.get("response_type") != "code":
        return _flow_error("AADSTS900144: response_type must be 'code'.")
    if not flow.get("client_id") or urlsplit(flow.get("redirect_uri", "")).scheme not in ("http", "https"):
        return _flow_error("AADSTS900144: client_id and an http(s) redirect_uri are required.")
    if flow.get("code_challenge_method") != "S256" or not flow.get("code_challenge"):
        return _flow_error("AADSTS9002325: Proof Key for Code Exchange (S256) is required.")
    if req.method == "GET":
        return html_response(200, page("Sign in to your account", _sign_in_form(flow)))
    form = req.form()
    step, username = form.get("step"), form.get("username", "").strip()
    state = {"state": flow["state"]} if flow.get("state") else {}
    if step == "cancel":
        return _redirect(
            flow["redirect_uri"],
            {
                "error": "access_denied",
                "error_description": "AADSTS65004: User declined to consent.",
                **state,
            },
        )
    if step == "password":
        if "@" not in username or not form.get("password"):
            return html_response(
                200, page("Sign in to your account", _sign_in_form(flow, "Enter your email and password."))
            )
        if tenant.lower() in MULTI_TENANT_ALIASES and _user_tenant(app, username) is None:
            error = "AADSTS50034: This account does not exist in any Microsoft tenant. Use a work account."
            return html_response(200, page("Sign in to your account", _sign_in_form(flow, error)))
        return html_response(200, page("Verify your identity", _mfa_form(flow, username)))
    if step == "mfa" and "@" in username:
        if form.get("otc", "").strip() != MFA_CODE:
            return html_response(
                200, page("Verify your identity", _mfa_form(flow, username, "That code is not right."))
            )
        code = secrets.token_urlsafe(24)
        signed_in_tenant = DISTRIBUTOR_TENANT
        if tenant.lower() in MULTI_TENANT_ALIASES:
            signed_in_tenant = _user_tenant(app, username) or DISTRIBUTOR_TENANT
        with app.state.lock:
            app.state.auth_codes[code] = {
                **flow,
                "username": username,
                "tid": signed_in_tenant,
                "expires": time.time() + CODE_SECONDS,
            }
        return _redirect(flow["redirect_uri"], {"code": code, **state})
    return _flow_error("AADSTS90014: the sign-in form is incomplete.")


def _id_token(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'typ': 'JWT', 'alg': 'none'})}.{part(claims)}."


def _redeem_code(app: SandboxApp, form: dict[str, str], client_id: str) -> Response:
    """The code once, for the same client and redirect URI, with the verifier whose S256 is the challenge."""
    with app.state.lock:
        grant = app.state.auth_codes.pop(form.get("code", ""), None)
    if grant is None or grant["expires"] < time.time():
        return aad_error(
            400, "invalid_grant", 70008, "The provided authorization code is invalid or has expired."
        )
    if grant["client_id"] != client_id or grant["redirect_uri"] != form.get("redirect_uri"):
        return aad_error(
            400, "invalid_grant", 50148, "The redirect URI or client does not match the request."
        )
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    if not verifier or challenge != grant["code_challenge"]:
        return aad_error(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge.")
    with app.state.lock:
        access, refresh = app.state.issue_tokens()
    now = int(time.time())
    username = grant["username"]
    claims = {
        "aud": client_id,
        "iss": f"https://login.microsoftonline.com/{grant.get('tid', DISTRIBUTOR_TENANT)}/v2.0",
        "tid": grant.get("tid", DISTRIBUTOR_TENANT),
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, username)),
        "preferred_username": username,
        "name": username.split("@")[0].replace(".", " ").title(),
        "nonce": grant.get("nonce", ""),
        "amr": ["pwd", "mfa"],
        "iat": now,
        "exp": now + 3600,
    }
    body = {
        "token_type": "Bearer",
        "scope": grant.get("scope", ""),
        "expires_in": 3600,
        "ext_expires_in": 3600,
        "access_token": access,
        "refresh_token": refresh,
        "id_token": _id_token(claims),
    }
    return json_response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def routes() -> list[Route]:
    return [
        Route("GET", "/{tenant}/oauth2/v2.0/authorize", authorize, SIGNIN, auth=False),
        Route("POST", "/{tenant}/oauth2/v2.0/authorize", authorize, SIGNIN, auth=False),
        Route("GET", "/{tenant}/.well-known/openid-configuration", discovery, SIGNIN, auth=False),
        Route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", discovery_v2, SIGNIN, auth=False),
        Route("POST", "/{tenant}/oauth2/token", token, SIGNIN, auth=False),
        Route("POST", "/{tenant}/oauth2/v2.0/token", token, SIGNIN, auth=False),
    ]
