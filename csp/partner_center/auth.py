"""Access tokens for Partner Center and Graph: msal in live mode, a plain token request for the sandbox."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urlsplit

import msal
import requests

from .deadline import attempt_timeout
from .exceptions import PartnerCenterAuthError, PartnerCenterNotConnected, TransientPartnerCenterError
from .schemas import PartnerCenterConfig

Resource = Literal["partner_center", "graph", "partner_sales"]

# Microsoft's resource ids: scopes name these, never the configured (possibly sandbox) base URL.
RESOURCE_IDS: dict[str, str] = {
    "partner_center": "https://api.partnercenter.microsoft.com",
    "graph": "https://graph.microsoft.com",
    # The price list and offer matrix host refuses a Partner Center token: it has its own audience.
    "partner_sales": "https://api.partner.microsoft.com",
}
DELEGATED_SCOPES: dict[str, list[str]] = {
    "partner_center": ["https://api.partnercenter.microsoft.com/user_impersonation"],
    "graph": ["https://graph.microsoft.com/DelegatedAdminRelationship.ReadWrite.All"],
    "partner_sales": ["https://api.partner.microsoft.com/user_impersonation"],
}
PUBLIC_LOGIN_HOST = "login.microsoftonline.com"
EXPIRY_MARGIN_SECONDS = 300
NOT_CONNECTED = (
    "Partner Center is not connected: an Admin agent must connect it in admin (Microsoft Partner Center "
    "connection), or PARTNER_CENTER_REFRESH_TOKEN must be set."
)


@dataclass(frozen=True)
class ConnectedAccount:
    """Who consented in the authorization-code flow, from the ID token Microsoft returned."""

    username: str
    name: str
    tenant_id: str | None
    mfa: bool | None  # None when the token does not say (no `amr` claim)


def _account_from_claims(claims: Mapping[str, Any] | None) -> ConnectedAccount:
    claims = claims or {}
    amr = claims.get("amr")
    return ConnectedAccount(
        username=str(claims.get("preferred_username") or claims.get("upn") or claims.get("email") or ""),
        name=str(claims.get("name") or ""),
        tenant_id=str(claims["tid"]) if claims.get("tid") else None,
        mfa=("mfa" in amr) if isinstance(amr, list) else None,
    )


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking its signature (only to report MFA; never to trust anyone)."""
    try:
        payload = token.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


class TokenProvider(Protocol):
    """What the client needs from sign-in: a bearer token per resource and a way to drop a rejected one."""

    def token(self, resource: str) -> str: ...

    def invalidate(self, resource: str | None = None) -> None: ...

    def connect_start(self, *, redirect_uri: str) -> dict[str, Any]: ...

    def connect_finish(self, *, flow: dict[str, Any], response: Mapping[str, str]) -> ConnectedAccount: ...

    def app_only_token(self, resource: str) -> str: ...

    @property
    def app_plus_user(self) -> bool: ...


class TokenCacheStore(Protocol):
    """Where the serialized msal cache lives between processes, so rolled refresh tokens survive."""

    def load(self) -> str | None: ...

    def save(self, data: str) -> None: ...


class InMemoryTokenCacheStore:
    """A process-local cache store, for tests and one-off scripts."""

    def __init__(self, data: str | None = None) -> None:
        self.data = data
        self.saves = 0

    def load(self) -> str | None:
        return self.data

    def save(self, data: str) -> None:
        self.data = data
        self.saves += 1


class PageBoundHttpClient:
    """msal's HTTP client, as msal builds its own (one retry), except that each attempt waits at most the
    configured timeout or, inside a page, what is left of its time (`deadline.answer_within`)."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(max_retries=1)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = attempt_timeout(self._timeout)
        return self._session.post(url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = attempt_timeout(self._timeout)
        return self._session.get(url, **kwargs)

    def close(self) -> None:
        self._session.close()


def _confidential_client(
    config: PartnerCenterConfig, authority: str, **options: Any
) -> msal.ConfidentialClientApplication:
    """msal's app for the distributor's registration at one authority (its tenant, or `organizations`); instance
    discovery only against Microsoft's public sign-in host."""
    host = (urlsplit(config.login_url).hostname or "").lower()
    options.setdefault("http_client", PageBoundHttpClient(config.timeout))
    try:
        return msal.ConfidentialClientApplication(
            config.client_id,
            client_credential=config.client_secret,
            authority=f"{config.login_url}/{authority}",
            instance_discovery=host == PUBLIC_LOGIN_HOST,
            **options,
        )
    except requests.RequestException as exc:
        raise TransientPartnerCenterError(f"Microsoft sign-in unreachable: {type(exc).__name__}") from exc
    except ValueError as exc:
        raise PartnerCenterAuthError(
            "Microsoft sign-in authority could not be discovered",
            error="invalid_authority",
            error_description=str(exc),
        ) from exc


def _check_resource(resource: str) -> None:
    if resource not in RESOURCE_IDS:
        raise ValueError(f"unknown resource {resource!r}; expected one of {sorted(RESOURCE_IDS)}")


def _auth_error(result: dict[str, Any], what: str) -> PartnerCenterAuthError:
    error = str(result.get("error") or "unknown_error")
    description = result.get("error_description")
    return PartnerCenterAuthError(
        f"Microsoft sign-in failed while {what}: {error}",
        error=error,
        error_description=str(description) if description is not None else None,
    )


class MsalTokenProvider:
    """Live sign-in through msal: App+User from the admin's connection (authorization code with PKCE) or a
    configured refresh token. Partner Center never falls back to app-only; Graph may (its application
    permission is documented for GDAP)."""

    def __init__(
        self,
        config: PartnerCenterConfig,
        *,
        cache_store: TokenCacheStore | None = None,
        http_client: Any = None,
    ) -> None:
        self._config = config
        self._store: TokenCacheStore = cache_store or InMemoryTokenCacheStore()
        self._http_client = http_client
        self._cache = msal.SerializableTokenCache()
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.RLock()
        self._invalid: set[str] = set()

    @property
    def app_plus_user(self) -> bool:
        """Connected from admin (an account in the cache) or given a refresh token."""
        with self._lock:
            return bool(self._config.refresh_token) or bool(self._application().get_accounts())

    def connect_start(self, *, redirect_uri: str) -> dict[str, Any]:
        """Begin the authorization-code flow with PKCE; the returned flow (kept in the admin's session) holds
        `auth_uri`, where the Admin agent signs in."""
        with self._lock:
            flow = self._application().initiate_auth_code_flow(
                DELEGATED_SCOPES["partner_center"], redirect_uri=redirect_uri, prompt="select_account"
            )
        if "auth_uri" not in flow:
            raise _auth_error(flow, "starting the connection")
        return dict(flow)

    def connect_finish(self, *, flow: dict[str, Any], response: Mapping[str, str]) -> ConnectedAccount:
        """Redeem the code (msal checks state and sends the PKCE verifier); the cache keeps the rolling
        refresh token, encrypted by the store."""
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_by_auth_code_flow(flow, dict(response))
            except (ValueError, RuntimeError) as exc:  # msal: state or nonce mismatch, or a replayed flow
                raise PartnerCenterAuthError(
                    "The sign-in answer does not match the connection that was started; connect again.",
                    error="state_mismatch",
                ) from exc
            except requests.RequestException as exc:
                raise TransientPartnerCenterError(
                    f"Microsoft sign-in unreachable: {type(exc).__name__}"
                ) from exc
            finally:
                self._persist()
            if "access_token" not in result:
                raise _auth_error(result, "connecting Partner Center")
            self._invalid.clear()
            return _account_from_claims(result.get("id_token_claims"))

    def app_only_token(self, resource: str) -> str:
        """An app-only token (client credentials), for the health check and Graph; never for App+User calls."""
        _check_resource(resource)
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_for_client(scopes=[f"{RESOURCE_IDS[resource]}/.default"])
            except requests.RequestException as exc:
                raise TransientPartnerCenterError(
                    f"Microsoft sign-in unreachable: {type(exc).__name__}"
                ) from exc
            finally:
                self._persist()
            if not result or "access_token" not in result:
                raise _auth_error(result or {}, f"getting an app-only {resource} token")
            return str(result["access_token"])

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            stored = self._store.load()
            if stored:
                self._cache.deserialize(stored)
            options: dict[str, Any] = {"token_cache": self._cache}
            if self._http_client is not None:
                options["http_client"] = self._http_client
            self._app = _confidential_client(self._config, self._config.tenant_id, **options)
        return self._app

    def token(self, resource: str) -> str:
        """A valid access token for `resource`, from the cache when possible."""
        _check_resource(resource)
        with self._lock:
            app = self._application()
            try:
                result = self._acquire(app, resource)
            except requests.RequestException as exc:
                raise TransientPartnerCenterError(
                    f"Microsoft sign-in unreachable: {type(exc).__name__}"
                ) from exc
            finally:
                self._persist()
            if not result or "access_token" not in result:
                raise _auth_error(result or {}, f"getting a {resource} token")
            return str(result["access_token"])

    def _acquire(self, app: msal.ConfidentialClientApplication, resource: str) -> dict[str, Any] | None:
        force = resource in self._invalid
        self._invalid.discard(resource)
        accounts = app.get_accounts()
        if not accounts and not self._config.refresh_token:
            stored = self._store.load()  # another process may have connected since this one started
            if stored:
                self._cache.deserialize(stored)
                accounts = app.get_accounts()
        if not accounts and not self._config.refresh_token:
            if resource == "partner_center":
                raise PartnerCenterNotConnected(NOT_CONNECTED, error="not_connected")
            scopes = [f"{RESOURCE_IDS[resource]}/.default"]
            if force:
                self._drop_access_tokens()
            return app.acquire_token_for_client(scopes=scopes)
        scopes = DELEGATED_SCOPES[resource]
        result: dict[str, Any] | None = None
        for account in accounts:
            result = app.acquire_token_silent_with_error(scopes, account=account, force_refresh=force)
            if result and "access_token" in result:
                return result
        if self._config.refresh_token:
            return app.acquire_token_by_refresh_token(self._config.refresh_token, scopes=scopes)
        error = _auth_error(result or {}, f"refreshing the {resource} token")
        raise PartnerCenterNotConnected(
            f"The Partner Center connection no longer works ({error.error}); an Admin agent must connect again.",
            error=error.error,
            error_description=error.error_description,
        )

    def _drop_access_tokens(self) -> None:
        for item in list(self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            self._cache.remove_at(item)

    def _persist(self) -> None:
        if self._cache.has_state_changed:
            self._store.save(self._cache.serialize())

    def invalidate(self, resource: str | None = None) -> None:
        """Forget the access token Microsoft just rejected so the next call fetches a fresh one."""
        with self._lock:
            self._invalid.update([resource] if resource else RESOURCE_IDS)


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class SandboxTokenProvider:
    """The sandbox's sign-in by plain requests, as msal accepts only https authorities: client credentials until
    an admin connects, then the connection's refresh token (authorization code with PKCE, done by hand here)."""

    def __init__(
        self,
        config: PartnerCenterConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        cache_store: TokenCacheStore | None = None,
    ) -> None:
        self._config = config
        self._session = session or requests.Session()
        self._clock = clock
        self._store: TokenCacheStore = cache_store or InMemoryTokenCacheStore()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _token_url(self) -> str:
        return f"{self._config.login_url}/{self._config.tenant_id}/oauth2/v2.0/token"

    def _refresh_token(self) -> str | None:
        stored = self._store.load()
        if stored:
            try:
                value = json.loads(stored).get("refresh_token")
            except (ValueError, AttributeError):
                value = None
            if value:
                return str(value)
        return self._config.refresh_token

    @property
    def app_plus_user(self) -> bool:
        return bool(self._refresh_token())

    def token(self, resource: str) -> str:
        """A cached token until shortly before it expires, else a new one."""
        _check_resource(resource)
        with self._lock:
            cached = self._tokens.get(resource)
            if cached and cached[1] > self._clock():
                return cached[0]
            refresh_token = self._refresh_token()
            if refresh_token:
                payload = self._post(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": refresh_token,
                        **self._delegated(resource),
                    },
                    resource,
                )
                if payload.get("refresh_token"):  # refresh tokens roll on every use
                    self._store.save(json.dumps({"refresh_token": payload["refresh_token"]}))
            else:
                payload = self._post(
                    {"grant_type": "client_credentials", "scope": f"{RESOURCE_IDS[resource]}/.default"},
                    resource,
                )
            access_token, expires_in = self._read(payload)
            margin = min(EXPIRY_MARGIN_SECONDS, expires_in / 2)
            self._tokens[resource] = (access_token, self._clock() + expires_in - margin)
            return access_token

    @staticmethod
    def _delegated(resource: str) -> dict[str, str]:
        return {"scope": " ".join([*DELEGATED_SCOPES[resource], "offline_access"])}

    def app_only_token(self, resource: str) -> str:
        """A client-credentials token from the sandbox, for the health check."""
        _check_resource(resource)
        payload = self._post(
            {"grant_type": "client_credentials", "scope": f"{RESOURCE_IDS[resource]}/.default"}, resource
        )
        return self._read(payload)[0]

    def connect_start(self, *, redirect_uri: str) -> dict[str, Any]:
        """The authorization-code flow with PKCE, as msal builds it: state, nonce and the S256 challenge."""
        verifier, challenge = _pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        scope = " ".join([*DELEGATED_SCOPES["partner_center"], "openid", "profile", "offline_access"])
        query = {
            "client_id": self._config.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        auth_uri = (
            f"{self._config.login_url}/{self._config.tenant_id}/oauth2/v2.0/authorize?{urlencode(query)}"
        )
        return {
            "auth_uri": auth_uri,
            "state": state,
            "nonce": nonce,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "scope": scope,
        }

    def connect_finish(self, *, flow: dict[str, Any], response: Mapping[str, str]) -> ConnectedAccount:
        """Check the state, redeem the code with the PKCE verifier, keep the refresh token."""
        if not flow.get("state") or response.get("state") != flow["state"]:
            raise PartnerCenterAuthError(
                "The sign-in answer does not match the connection that was started; connect again.",
                error="state_mismatch",
            )
        if response.get("error"):
            raise _auth_error(dict(response), "connecting Partner Center")
        payload = self._post(
            {
                "grant_type": "authorization_code",
                "code": response.get("code", ""),
                "redirect_uri": flow["redirect_uri"],
                "code_verifier": flow["code_verifier"],
                "scope": flow["scope"],
            },
            "partner_center",
        )
        if not payload.get("refresh_token"):
            raise PartnerCenterAuthError("The sandbox issued no refresh token", error="invalid_response")
        claims = token_claims(str(payload.get("id_token") or ""))
        if claims.get("nonce") != flow["nonce"]:
            raise PartnerCenterAuthError(
                "The ID token does not carry the nonce we sent", error="nonce_mismatch"
            )
        with self._lock:
            self._store.save(json.dumps({"refresh_token": payload["refresh_token"]}))
            self._tokens.clear()
        return _account_from_claims(claims)

    def _post(self, form: dict[str, str], resource: str) -> dict[str, Any]:
        data = {"client_id": self._config.client_id, "client_secret": self._config.client_secret, **form}
        try:
            response = self._session.post(
                self._token_url(), data=data, timeout=attempt_timeout(self._config.timeout)
            )
        except requests.RequestException as exc:
            raise TransientPartnerCenterError(f"sandbox sign-in unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientPartnerCenterError("sandbox sign-in failed", status=response.status_code)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise PartnerCenterAuthError(
                f"sandbox sign-in answered HTTP {response.status_code} without JSON", error="invalid_response"
            )
        if response.status_code != 200 or "access_token" not in payload:
            error = _auth_error(payload, f"getting a {resource} token from the sandbox")
            if form["grant_type"] == "refresh_token" and error.error == "invalid_grant":
                raise PartnerCenterNotConnected(
                    "The Partner Center connection no longer works (invalid_grant); an Admin agent must connect "
                    "again.",
                    error=error.error,
                    error_description=error.error_description,
                )
            raise error
        return payload

    @staticmethod
    def _read(payload: dict[str, Any]) -> tuple[str, float]:
        try:
            expires_in = float(payload.get("expires_in", 3600))
        except (TypeError, ValueError):
            expires_in = 3600.0
        return str(payload["access_token"]), expires_in

    def invalidate(self, resource: str | None = None) -> None:
        """Forget a token the sandbox rejected."""
        with self._lock:
            if resource is None:
                self._tokens.clear()
            else:
                self._tokens.pop(resource, None)


def token_provider_for(
    config: PartnerCenterConfig,
    *,
    cache_store: TokenCacheStore | None = None,
    session: requests.Session | None = None,
) -> TokenProvider:
    """The provider that fits the configured mode."""
    if config.mode == "sandbox":
        return SandboxTokenProvider(config, session=session, cache_store=cache_store)
    return MsalTokenProvider(config, cache_store=cache_store)


# Tenant administrators proving a tenant is theirs ----------------------------------------------------------------

TENANT_SIGN_IN_AUTHORITY = "organizations"


class TenantSignIn(Protocol):
    """OpenID Connect sign-in of a customer tenant's administrator: who signed in, and in which tenant."""

    def start(self, *, redirect_uri: str, login_hint: str = "") -> dict[str, Any]: ...

    def finish(self, *, flow: dict[str, Any], response: Mapping[str, str]) -> ConnectedAccount: ...


def _sign_in_answer_refused(response: Mapping[str, str], flow: Mapping[str, Any]) -> None:
    if not flow.get("state") or response.get("state") != flow.get("state"):
        raise PartnerCenterAuthError(
            "The sign-in answer does not match the sign-in that was started; sign in again.",
            error="state_mismatch",
        )
    if response.get("error"):
        raise _auth_error(dict(response), "signing in the tenant's administrator")


class MsalTenantSignIn:
    """Live: msal's authorization-code flow with PKCE against the multi-tenant (`organizations`) authority; the
    ID token comes straight from Microsoft's token endpoint, so its `tid` names the signed-in user's tenant."""

    def __init__(self, config: PartnerCenterConfig) -> None:
        self._config = config

    def _application(self) -> msal.ConfidentialClientApplication:
        return _confidential_client(self._config, TENANT_SIGN_IN_AUTHORITY)

    def start(self, *, redirect_uri: str, login_hint: str = "") -> dict[str, Any]:
        """The flow to keep in the buyer's session; `auth_uri` is where the administrator signs in."""
        flow = self._application().initiate_auth_code_flow(
            [], redirect_uri=redirect_uri, prompt="select_account", login_hint=login_hint or None
        )
        if "auth_uri" not in flow:
            raise _auth_error(flow, "starting the tenant administrator's sign-in")
        return dict(flow)

    def finish(self, *, flow: dict[str, Any], response: Mapping[str, str]) -> ConnectedAccount:
        """msal checks state and nonce and sends the PKCE verifier."""
        try:
            result = self._application().acquire_token_by_auth_code_flow(flow, dict(response))
        except (ValueError, RuntimeError) as exc:
            raise PartnerCenterAuthError(
                "The sign-in answer does not match the sign-in that was started; sign in again.",
                error="state_mismatch",
            ) from exc
        except requests.RequestException as exc:
            raise TransientPartnerCenterError(f"Microsoft sign-in unreachable: {type(exc).__name__}") from exc
        if "id_token_claims" not in result:
            raise _auth_error(result, "signing in the tenant's administrator")
        return _account_from_claims(result["id_token_claims"])


class SandboxTenantSignIn:
    """The sandbox's sign-in by plain requests (msal accepts only https authorities), the same flow by hand."""

    def __init__(self, config: PartnerCenterConfig, *, session: requests.Session | None = None) -> None:
        self._config = config
        self._session = session or requests.Session()

    def start(self, *, redirect_uri: str, login_hint: str = "") -> dict[str, Any]:
        verifier, challenge = _pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        query = {
            "client_id": self._config.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "select_account",
            **({"login_hint": login_hint} if login_hint else {}),
        }
        base = f"{self._config.login_url}/{TENANT_SIGN_IN_AUTHORITY}/oauth2/v2.0"
        return {
            "auth_uri": f"{base}/authorize?{urlencode(query)}",
            "state": state,
            "nonce": nonce,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        }

    def finish(self, *, flow: dict[str, Any], response: Mapping[str, str]) -> ConnectedAccount:
        _sign_in_answer_refused(response, flow)
        url = f"{self._config.login_url}/{TENANT_SIGN_IN_AUTHORITY}/oauth2/v2.0/token"
        form = {
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret,
            "grant_type": "authorization_code",
            "code": response.get("code", ""),
            "redirect_uri": flow["redirect_uri"],
            "code_verifier": flow["code_verifier"],
            "scope": "openid profile",
        }
        try:
            answer = self._session.post(url, data=form, timeout=attempt_timeout(self._config.timeout))
            payload = answer.json()
        except requests.RequestException as exc:
            raise TransientPartnerCenterError(f"sandbox sign-in unreachable: {type(exc).__name__}") from exc
        except ValueError:
            payload = {}
        if not isinstance(payload, dict) or "id_token" not in payload:
            raise _auth_error(
                payload if isinstance(payload, dict) else {}, "signing in the tenant's administrator"
            )
        claims = token_claims(str(payload["id_token"]))
        if claims.get("nonce") != flow["nonce"] or claims.get("aud") != self._config.client_id:
            raise PartnerCenterAuthError(
                "The ID token was not issued for this sign-in", error="nonce_mismatch"
            )
        return _account_from_claims(claims)


def tenant_sign_in_for(config: PartnerCenterConfig) -> TenantSignIn:
    """The tenant administrator's sign-in that fits the configured mode."""
    if config.mode == "sandbox":
        return SandboxTenantSignIn(config)
    return MsalTenantSignIn(config)
