"""Partner Center webhook deliveries: signature verification and parsing, with no HTTP of their own."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from .exceptions import PermanentPartnerCenterError
from .schemas import PartnerCenterConfig, WebhookEvent

logger = logging.getLogger(__name__)

CERTIFICATE_URL_HEADER = "x-ms-certificate-url"
SIGNATURE_ALGORITHM_HEADER = "x-ms-signature-algorithm"
SIGNATURE_ALGORITHM = "rsa-sha256"
# Where Microsoft publishes the certificates that sign its deliveries (learn.microsoft.com partner-center-webhooks).
LIVE_CERTIFICATE_URL_PREFIX = "https://3psostorageacct.blob.core.windows.net/cert/"
CERTIFICATE_SIGNER_ORGANIZATION = "Microsoft Corporation"
_CERTIFICATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.cer$")
MAX_CHAIN_FETCHES = 2


class WebhookRejected(Exception):
    """Why a delivery is not trusted, in words an admin can act on."""


def certificate_url_prefix(config: PartnerCenterConfig) -> str:
    """The configured prefix; the sandbox's own `/cert/` in sandbox mode, Microsoft's blob store in live mode."""
    if config.webhook_certificate_url_prefix:
        return config.webhook_certificate_url_prefix
    if config.mode == "live":
        return LIVE_CERTIFICATE_URL_PREFIX
    return f"{config.api_url}/cert/"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def certificate_url_allowed(url: str, prefix: str) -> bool:
    """Scheme, host and port pinned to the prefix's, path exactly `<prefix path><name>.cer`, nothing else."""
    parts, pinned = urlsplit(url), urlsplit(prefix)
    if parts.username or parts.password or parts.query or parts.fragment or not parts.hostname:
        return False
    if (parts.scheme.lower(), parts.netloc.lower()) != (pinned.scheme.lower(), pinned.netloc.lower()):
        return False
    if not parts.path.startswith(pinned.path):
        return False
    return bool(_CERTIFICATE_NAME.match(parts.path[len(pinned.path) :]))


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates in a .cer (DER) or PEM file; a PEM file may carry the leaf and its intermediates."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _issuer_urls(certificate: x509.Certificate) -> list[str]:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in access
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and d.access_location.value.lower().startswith(("http://", "https://"))
    ]


def certificate_check(
    data: bytes,
    *,
    trusted: Sequence[x509.Certificate],
    fetch: Callable[[str], bytes] | None = None,
    now: datetime | None = None,
) -> x509.Certificate:
    """The signing certificate once it chains to a trusted root, is valid now and names Microsoft Corporation.

    Intermediates come from the file itself, else from the issuer URL the certificate names (at most two hops).
    """
    try:
        leaf, *intermediates = load_certificates(data)
    except ValueError as exc:
        raise WebhookRejected("The signing certificate could not be read.") from exc
    moment = now or datetime.now(UTC)
    if not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
        raise WebhookRejected("The signing certificate is not valid at this time (expired or not yet valid).")
    organizations = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    if organizations != [CERTIFICATE_SIGNER_ORGANIZATION]:
        raise WebhookRejected(f"The signing certificate is not issued to {CERTIFICATE_SIGNER_ORGANIZATION}.")
    if not isinstance(leaf.public_key(), rsa.RSAPublicKey):
        raise WebhookRejected("The signing certificate has no RSA key.")
    if not trusted:
        raise WebhookRejected("No trusted root certificates are configured (CA bundle is empty).")
    verifier = (
        PolicyBuilder()
        .store(Store(list(trusted)))
        .time(moment)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    pending = [leaf, *intermediates]
    for _ in range(MAX_CHAIN_FETCHES + 1):
        try:
            verifier.verify(leaf, intermediates)
            return leaf
        except VerificationError:
            urls = [u for c in pending for u in _issuer_urls(c)] if fetch else []
            if not urls:
                break
            pending = []
            for url in urls[:2]:
                try:
                    pending.extend(load_certificates(fetch(url)))  # type: ignore[misc]
                except Exception:  # an unreachable issuer URL just leaves the chain incomplete
                    logger.info("webhook certificate issuer %s could not be fetched", url)
            if not pending:
                break
            intermediates.extend(pending)
    raise WebhookRejected("The signing certificate does not chain to a trusted root certificate.")


def webhook_rejection(
    body: bytes,
    headers: Mapping[str, str],
    *,
    certificate_for: Callable[[str], x509.Certificate],
    certificate_url_prefix: str,
) -> str | None:
    """None for a delivery signed (RSA PKCS#1 v1.5, SHA-256 over the raw body) by Microsoft's certificate, else
    why not. The certificate URL is checked before anything is fetched, so a forged header fetches nothing."""
    try:
        authorization = _header(headers, "Authorization") or ""
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "signature" or not encoded.strip():
            return "The delivery carries no signature."
        algorithm = (_header(headers, SIGNATURE_ALGORITHM_HEADER) or "").strip().lower()
        if algorithm != SIGNATURE_ALGORITHM:
            return f"The signature algorithm is not {SIGNATURE_ALGORITHM}."
        try:
            signature = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            return "The signature is not base64."
        url = _header(headers, CERTIFICATE_URL_HEADER) or ""
        if not certificate_url_allowed(url, certificate_url_prefix):
            return f"The certificate URL is not under {certificate_url_prefix}."
        public_key = certificate_for(url).public_key()  # fetched, checked by `certificate_check`, cached
        if not isinstance(public_key, rsa.RSAPublicKey):
            return "The signing certificate has no RSA key."
        public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        return None
    except WebhookRejected as exc:
        return str(exc)
    except InvalidSignature:
        return "The signature does not match the body."
    except Exception:
        logger.warning("webhook signature check failed", exc_info=True)
        return "The signing certificate could not be fetched or checked."


def parse_webhook_event(body: bytes | str | Mapping[str, Any]) -> WebhookEvent:
    """The typed event from a delivery's JSON body; an unreadable body is a permanent error."""
    try:
        payload = json.loads(body) if isinstance(body, (bytes, str)) else body
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays or objects nested thousands deep
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
