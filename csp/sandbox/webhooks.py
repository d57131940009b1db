"""Signed Partner Center webhook deliveries: a CA and a signing certificate made at start, a thread per send.

Microsoft signs the raw body with RSA PKCS#1 v1.5 / SHA-256 and names its certificate (O=Microsoft Corporation,
chained to a public root) by URL on its blob store. The sandbox does the same with its own CA: the signing
certificate is served at /cert/partner-center-sandbox.cer (the URL it names is configurable, so tests can make
it name another place) and the CA at /_sandbox/ca.pem, which the storefront trusts in sandbox mode only.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from csp.sandbox.state import now_iso

if TYPE_CHECKING:
    from csp.sandbox.state import SandboxState

CERTIFICATE_PATH = "/cert/partner-center-sandbox.cer"
CA_PATH = "/_sandbox/ca.pem"
DELIVERY_TIMEOUT_SECONDS = 5.0
TEST_EVENT = "test-created"


def _ca_certificate(key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Partner Center Sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Partner Center Sandbox Root CA"),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


class WebhookSigner:
    """A sandbox CA and an RSA signing certificate it issued to "Microsoft Corporation", made once per server."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ca_certificate = _ca_certificate(ca_key, now)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Microsoft Corporation"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Partner Center sandbox webhook signing"),
            ]
        )
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.ca_certificate.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.certificate_pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        self.certificate_der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.ca_pem = self.ca_certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, body: bytes) -> str:
        signature = self.key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


def event_body(event: str, resource_uri: str, resource_name: str, audit_uri: str | None = None) -> bytes:
    payload = {
        "EventName": event,
        "ResourceUri": resource_uri,
        "ResourceName": resource_name,
        "AuditUri": audit_uri,
        "ResourceChangeUtcDate": now_iso(),
    }
    return json.dumps(payload).encode()


def certificate_url(state: SandboxState, base_url: str) -> str:
    """The X-MS-Certificate-Url the sandbox names: its own /cert/ file unless configured otherwise."""
    return str(state.config.get("webhook_certificate_url") or base_url + CERTIFICATE_PATH)


def deliver(
    state: SandboxState,
    signer: WebhookSigner,
    base_url: str,
    event: str,
    uri: str,
    name: str,
) -> bool:
    """Send the event in the background if a registration asks for it (a test event always goes); the outcome
    is kept in state. False when nothing was sent."""
    with state.lock:
        registration = state.webhook_registration
        if not registration or (event != TEST_EVENT and event not in registration.get("WebhookEvents", [])):
            return False
        url = registration["WebhookUrl"]
        body = event_body(event, uri, name)
        record: dict[str, Any] = {
            "event": event,
            "url": url,
            "resource_uri": uri,
            "status": "sending",
            "http_status": None,
            "error": None,
            "at": now_iso(),
            "body": json.loads(body),
        }
        state.webhook_deliveries.append(record)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Signature {signer.sign(body)}",
        "x-ms-certificate-url": certificate_url(state, base_url),
        "x-ms-signature-algorithm": "rsa-sha256",
        "MS-CorrelationId": str(uuid.uuid4()),
        "MS-RequestId": str(uuid.uuid4()),
    }

    def send() -> None:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        status, error = None, None
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, str(exc)
        except (OSError, ValueError) as exc:
            error = str(exc)
        with state.lock:
            record["http_status"] = status
            record["error"] = error
            record["status"] = "delivered" if status is not None and 200 <= status < 300 else "failed"

    threading.Thread(target=send, name="sandbox-webhook", daemon=True).start()
    return True
