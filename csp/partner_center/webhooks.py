"""Partner Center webhook deliveries: signature verification and parsing, with no HTTP of their own."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .exceptions import PermanentPartnerCenterError
from .schemas import PartnerCenterConfig, WebhookEvent

logger = logging.getLogger(__name__)

CERTIFICATE_URL_HEADER = "x-ms-certificate-url"
LIVE_CERTIFICATE_HOSTS = ("*.microsoft.com",)


def default_certificate_hosts(config: PartnerCenterConfig) -> tuple[str, ...]:
    """Microsoft's hosts in live mode; the sandbox's own host (with and without port) in sandbox mode."""
    if config.mode == "live":
        return LIVE_CERTIFICATE_HOSTS
    parts = urlsplit(config.api_url)
    return tuple(h for h in {parts.hostname or "", parts.netloc} if h)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _host_allowed(url: str, allowed_hosts: Iterable[str], *, allow_http: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        return False
    if parts.username or parts.password or not parts.hostname:
        return False
    hostname = parts.hostname.lower()
    netloc = parts.netloc.lower()
    return any(fnmatchcase(hostname, p.lower()) or fnmatchcase(netloc, p.lower()) for p in allowed_hosts)


def _load_certificate(data: bytes) -> x509.Certificate:
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def verify_webhook_signature(
    body: bytes,
    headers: Mapping[str, str],
    *,
    fetch_certificate: Callable[[str], bytes],
    allowed_certificate_hosts: Iterable[str],
    allow_http: bool = False,
    now: datetime | None = None,
) -> bool:
    """True only for a delivery signed (RSA PKCS#1 v1.5, SHA-256 over the raw body) by a trusted certificate.

    Any problem (missing header, foreign or plain-http certificate host, expired certificate, bad signature,
    unreadable certificate) answers False, so a forged delivery can never change anything.
    """
    try:
        authorization = _header(headers, "Authorization") or ""
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "signature" or not encoded.strip():
            return False
        signature = base64.b64decode(encoded.strip(), validate=True)
        certificate_url = _header(headers, CERTIFICATE_URL_HEADER)
        if not certificate_url or not _host_allowed(
            certificate_url, list(allowed_certificate_hosts), allow_http=allow_http
        ):
            return False
        certificate = _load_certificate(fetch_certificate(certificate_url))
        moment = now or datetime.now(UTC)
        if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
            return False
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, binascii.Error):
        return False
    except Exception:
        logger.warning("webhook signature check failed", exc_info=True)
        return False


def parse_webhook_event(body: bytes | str | Mapping[str, Any]) -> WebhookEvent:
    """The typed event from a delivery's JSON body; an unreadable body is a permanent error."""
    try:
        payload = json.loads(body) if isinstance(body, (bytes, str)) else body
    except ValueError as exc:
        raise PermanentPartnerCenterError("webhook body is not JSON") from exc
    if not isinstance(payload, Mapping):
        raise PermanentPartnerCenterError("webhook body is not a JSON object")
    fields = {key.lower(): value for key, value in payload.items() if isinstance(key, str)}
    event_name = fields.get("eventname")
    if not isinstance(event_name, str) or not event_name:
        raise PermanentPartnerCenterError("webhook body has no EventName")

    def text(key: str) -> str | None:
        value = fields.get(key)
        return str(value) if value is not None and not isinstance(value, (dict, list)) else None

    changed: datetime | None = None
    raw_date = text("resourcechangeutcdate")
    if raw_date:
        try:
            changed = datetime.fromisoformat(raw_date)
        except ValueError as exc:
            raise PermanentPartnerCenterError("webhook ResourceChangeUtcDate is not a date") from exc
        if changed.tzinfo is None:
            changed = changed.replace(tzinfo=UTC)
    return WebhookEvent(
        event_name=event_name,
        resource_uri=text("resourceuri"),
        resource_name=text("resourcename"),
        audit_uri=text("audituri"),
        resource_change_utc_date=changed,
    )
