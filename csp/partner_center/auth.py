"""Access tokens for Partner Center and Graph: msal in live mode, a plain token request for the sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import msal
import requests

from .exceptions import PartnerCenterAuthError, TransientPartnerCenterError
from .schemas import PartnerCenterConfig

Resource = Literal["partner_center", "graph"]

# Microsoft's resource ids: scopes name these, never the configured (possibly sandbox) base URL.
RESOURCE_IDS: dict[str, str] = {
    "partner_center": "https://api.partnercenter.microsoft.com",
    "graph": "https://graph.microsoft.com",
}
DELEGATED_SCOPES: dict[str, list[str]] = {
    "partner_center": ["https://api.partnercenter.microsoft.com/user_impersonation"],
    "graph": ["https://graph.microsoft.com/DelegatedAdminRelationship.ReadWrite.All"],
}
PUBLIC_LOGIN_HOST = "login.microsoftonline.com"
EXPIRY_MARGIN_SECONDS = 300


class TokenProvider(Protocol):
    """What the client needs from sign-in: a bearer token per resource and a way to drop a rejected one."""

    def token(self, resource: str) -> str: ...

    def invalidate(self, resource: str | None = None) -> None: ...


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
    """Live sign-in through msal: App+User from a refresh token when configured, app-only otherwise."""

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
        return bool(self._config.refresh_token)

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            stored = self._store.load()
            if stored:
                self._cache.deserialize(stored)
            host = (urlsplit(self._config.login_url).hostname or "").lower()
            options: dict[str, Any] = {}
            if self._http_client is not None:
                options["http_client"] = self._http_client
            try:
                self._app = msal.ConfidentialClientApplication(
                    self._config.client_id,
                    client_credential=self._config.client_secret,
                    authority=f"{self._config.login_url}/{self._config.tenant_id}",
                    token_cache=self._cache,
                    timeout=self._config.timeout,
                    instance_discovery=host == PUBLIC_LOGIN_HOST,
                    **options,
                )
            except requests.RequestException as exc:
                raise TransientPartnerCenterError(
                    f"Microsoft sign-in unreachable: {type(exc).__name__}"
                ) from exc
            except ValueError as exc:
                raise PartnerCenterAuthError(
                    "Microsoft sign-in authority could not be discovered",
                    error="invalid_authority",
                    error_description=str(exc),
                ) from exc
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
        if not self.app_plus_user:
            scopes = [f"{RESOURCE_IDS[resource]}/.default"]
            if force:
                self._drop_access_tokens()
            return app.acquire_token_for_client(scopes=scopes)
        scopes = DELEGATED_SCOPES[resource]
        for account in app.get_accounts():
            result = app.acquire_token_silent_with_error(scopes, account=account, force_refresh=force)
            if result and "access_token" in result:
                return result
        return app.acquire_token_by_refresh_token(self._config.refresh_token, scopes=scopes)

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


class SandboxTokenProvider:
    """Client-credentials token from the sandbox by plain POST, as msal accepts only https authorities."""

    def __init__(
        self,
        config: PartnerCenterConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._session = session or requests.Session()
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, resource: str) -> str:
        """A cached token until shortly before it expires, else a new one."""
        _check_resource(resource)
        with self._lock:
            cached = self._tokens.get(resource)
            if cached and cached[1] > self._clock():
                return cached[0]
            access_token, expires_in = self._request(resource)
            margin = min(EXPIRY_MARGIN_SECONDS, expires_in / 2)
            self._tokens[resource] = (access_token, self._clock() + expires_in - margin)
            return access_token

    def _request(self, resource: str) -> tuple[str, float]:
        url = f"{self._config.login_url}/{self._config.tenant_id}/oauth2/v2.0/token"
        data = {
            "grant_type": "client_credentials",
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret,
            "scope": f"{RESOURCE_IDS[resource]}/.default",
        }
        try:
            response = self._session.post(url, data=data, timeout=self._config.timeout)
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
            raise _auth_error(payload, f"getting a {resource} token from the sandbox")
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
        return SandboxTokenProvider(config, session=session)
    return MsalTokenProvider(config, cache_store=cache_store)
