"""Wires the Partner Center client to Django: configuration from settings, token cache and audit trail in the DB."""

import logging
import threading

from django.conf import settings

from csp import signals
from csp.models import PartnerCenterCall
from csp.partner_center.auth import TenantSignIn, TokenProvider, tenant_sign_in_for, token_provider_for
from csp.partner_center.client import PartnerCenterClient
from csp.partner_center.exceptions import PartnerCenterNotConnected
from csp.partner_center.schemas import CallRecord, PartnerCenterConfig
from csp.token_cache import EncryptedTokenCacheStore

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_clients: dict[PartnerCenterConfig, PartnerCenterClient] = {}


class WatchedTokens:
    """The token provider, announcing when Microsoft refuses the App+User sign-in (`csp/connect.py` listens)."""

    def __init__(self, inner: TokenProvider) -> None:
        self._inner = inner

    def token(self, resource: str) -> str:
        try:
            return self._inner.token(resource)
        except PartnerCenterNotConnected as error:
            if error.error != "not_connected":  # a connection existed and no longer works
                signals.announce(
                    signals.partner_center_sign_in_refused, sender=type(self), reason=error.message
                )
            raise

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def record_call(record: CallRecord) -> None:
    """Writes one change made at Microsoft to the support trail; never lets a DB hiccup break the caller."""
    try:
        PartnerCenterCall.objects.create(
            operation=record.operation,
            method=record.method,
            path=record.path[:500],
            request_id=record.request_id or "",
            correlation_id=record.correlation_id or "",
            status=record.status,
            duration_ms=record.duration_ms,
            error_code="" if record.error_code is None else str(record.error_code),
            error_description=record.error_description or "",
            ids=dict(record.ids),
        )
    except Exception:
        logger.exception("Could not record Partner Center call %s", record.operation)


def partner_center_config() -> PartnerCenterConfig:
    """The client configuration for the current settings (sandbox points all three hosts at the sandbox)."""
    common = {
        "tenant_id": settings.PARTNER_CENTER_TENANT_ID,
        "client_id": settings.PARTNER_CENTER_CLIENT_ID,
        "client_secret": settings.PARTNER_CENTER_CLIENT_SECRET or "sandbox-secret",
        "refresh_token": settings.PARTNER_CENTER_REFRESH_TOKEN or None,
        "timeout": settings.PARTNER_CENTER_TIMEOUT,
    }
    if settings.PARTNER_CENTER_MODE == "sandbox":
        return PartnerCenterConfig.for_sandbox(settings.PARTNER_CENTER_SANDBOX_URL, **common)
    return PartnerCenterConfig(
        mode="live",
        api_url=settings.PARTNER_CENTER_API_URL,
        sales_api_url=settings.PARTNER_CENTER_SALES_API_URL,
        login_url=settings.MICROSOFT_LOGIN_URL,
        graph_url=settings.MICROSOFT_GRAPH_URL,
        webhook_certificate_url_prefix=settings.PARTNER_CENTER_WEBHOOK_CERTIFICATE_URL_PREFIX,
        **common,
    )


def partner_center() -> PartnerCenterClient:
    """One client per configuration and process, so MSAL's app and token cache are reused."""
    config = partner_center_config()
    with _lock:
        client = _clients.get(config)
        if client is None:
            provider = WatchedTokens(token_provider_for(config, cache_store=EncryptedTokenCacheStore()))
            client = PartnerCenterClient(config, token_provider=provider, recorder=record_call)
            _clients[config] = client
        return client


def tenant_sign_in() -> TenantSignIn:
    """The customer tenant administrator's sign-in (OpenID Connect) for the configured Microsoft."""
    return tenant_sign_in_for(partner_center_config())


def reset_clients() -> None:
    """Forgets cached clients (tests that switch configuration)."""
    with _lock:
        _clients.clear()
