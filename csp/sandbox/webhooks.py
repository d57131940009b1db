"""Signed Partner Center webhook deliveries: key and self-signed certificate made at start, a thread per send.

Microsoft signs the raw body with RSA PKCS#1 v1.5 / SHA-256 and names the certificate by URL; the sandbox
serves its certificate at /_sandbox/webhook-certificate.pem so receivers can verify exactly as in production.
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

CERTIFICATE_PATH = "/_sandbox/webhook-certificate.pem"
DELIVERY_TIMEOUT_SECONDS = 5.0


class WebhookSigner:
    """An RSA key with a self-signed certificate, generated once per sandbox server."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Partner Center sandbox webhook signing")])
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        self.certificate_pem = self.certificate.public_bytes(serialization.Encoding.PEM)

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


def deliver(
    state: SandboxState, signer: WebhookSigner, base_url: str, event: str, uri: str, name: str
) -> None:
    """Send the event in the background if a registration asks for it; the outcome is kept in state."""
    with state.lock:
        registration = state.webhook_registration
        if not registration or event not in registration.get("WebhookEvents", []):
            return
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
        "x-ms-certificate-url": base_url + CERTIFICATE_PATH,
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
