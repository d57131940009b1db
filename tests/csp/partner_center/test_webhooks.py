"""Webhook deliveries: signatures checked with a locally generated key and certificate, and parsing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from csp.partner_center import (
    PartnerCenterClient,
    PartnerCenterConfig,
    PermanentPartnerCenterError,
    parse_webhook_event,
    verify_webhook_signature,
)

from .helpers import FIXTURES, load

CERT_URL = "https://api.partnercenter.microsoft.com/webhooks/v1/certificate/signing.cer"
LIVE_HOSTS = ["*.microsoft.com"]
BODY = (FIXTURES / "webhook_event.json").read_bytes()


def make_certificate(key, *, not_before: datetime, not_after: datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.partnercenter.microsoft.com")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certificate(key) -> bytes:
    now = datetime.now(UTC)
    return make_certificate(key, not_before=now - timedelta(days=1), not_after=now + timedelta(days=30))


def sign(key, body: bytes) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(key, body: bytes = BODY, url: str = CERT_URL) -> dict[str, str]:
    return {"Authorization": f"Signature {sign(key, body)}", "x-ms-certificate-url": url}


class CertificateServer:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.data


def verify(body: bytes, headers, certificate: bytes, hosts=LIVE_HOSTS, **options) -> bool:
    return verify_webhook_signature(
        body,
        headers,
        fetch_certificate=CertificateServer(certificate),
        allowed_certificate_hosts=hosts,
        **options,
    )


def test_valid_signature_from_a_microsoft_host_is_accepted(key, certificate):
    assert verify(BODY, signed_headers(key), certificate) is True


def test_header_names_are_case_insensitive(key, certificate):
    headers = {"authorization": signed_headers(key)["Authorization"], "X-MS-Certificate-Url": CERT_URL}

    assert verify(BODY, headers, certificate) is True


def test_der_certificates_are_accepted(key, certificate):
    der = x509.load_pem_x509_certificate(certificate).public_bytes(serialization.Encoding.DER)

    assert verify(BODY, signed_headers(key), der) is True


def test_forged_body_is_rejected(key, certificate):
    forged = BODY.replace(b"indirect-reseller", b"granular-admin")

    assert verify(forged, signed_headers(key), certificate) is False


def test_signature_from_another_key_is_rejected(certificate):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert verify(BODY, signed_headers(other), certificate) is False


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/cert.cer",
        "https://microsoft.com.evil.example/cert.cer",
        "https://api.partnercenter.microsoft.com@evil.example/cert.cer",
        "http://api.partnercenter.microsoft.com/cert.cer",
        "file:///etc/passwd",
    ],
)
def test_certificate_from_a_host_that_is_not_allowed_is_rejected_without_fetching(key, certificate, url):
    server = CertificateServer(certificate)

    result = verify_webhook_signature(
        BODY, signed_headers(key, url=url), fetch_certificate=server, allowed_certificate_hosts=LIVE_HOSTS
    )

    assert result is False
    assert server.fetched == []


@pytest.mark.parametrize("missing", ["Authorization", "x-ms-certificate-url"])
def test_missing_header_is_rejected(key, certificate, missing):
    headers = signed_headers(key)
    del headers[missing]

    assert verify(BODY, headers, certificate) is False


@pytest.mark.parametrize("authorization", ["Bearer abc", "Signature", "Signature not-base64!!", ""])
def test_malformed_authorization_is_rejected(certificate, authorization):
    headers = {"Authorization": authorization, "x-ms-certificate-url": CERT_URL}

    assert verify(BODY, headers, certificate) is False


def test_expired_certificate_is_rejected(key):
    now = datetime.now(UTC)
    expired = make_certificate(key, not_before=now - timedelta(days=60), not_after=now - timedelta(days=1))

    assert verify(BODY, signed_headers(key), expired) is False


def test_unreadable_certificate_or_failed_fetch_is_rejected(key):
    def failing(url: str) -> bytes:
        raise PermanentPartnerCenterError("404")

    assert verify(BODY, signed_headers(key), b"not a certificate") is False
    assert (
        verify_webhook_signature(
            BODY, signed_headers(key), fetch_certificate=failing, allowed_certificate_hosts=LIVE_HOSTS
        )
        is False
    )


def test_non_rsa_certificate_is_rejected(key):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ec_certificate = make_certificate(
        ec_key, not_before=now - timedelta(days=1), not_after=now + timedelta(days=1)
    )

    assert verify(BODY, signed_headers(key), ec_certificate) is False


def test_sandbox_client_trusts_only_the_sandbox_host_over_http(key, certificate, mocked):
    client = PartnerCenterClient(
        PartnerCenterConfig.for_sandbox("http://127.0.0.1:8765"), token_provider=object()
    )
    sandbox_url = "http://127.0.0.1:8765/webhooks/v1/certificate"
    mocked.get(sandbox_url, body=certificate)

    assert client.verify_webhook(BODY, signed_headers(key, url=sandbox_url)) is True
    assert client.verify_webhook(BODY, signed_headers(key, url=sandbox_url)) is True
    assert client.verify_webhook(BODY, signed_headers(key, url=CERT_URL)) is False
    assert client.call_count == 1
    assert "Authorization" not in mocked.calls[0].request.headers


def test_live_client_fetches_the_microsoft_certificate_once(key, certificate, client, mocked):
    mocked.get(CERT_URL, body=certificate)

    assert client.verify_webhook(BODY, signed_headers(key)) is True
    assert client.verify_webhook(BODY.replace(b"Customer", b"Order"), signed_headers(key)) is False
    assert client.call_count == 1
    assert "Authorization" not in mocked.calls[0].request.headers


def test_parse_webhook_event():
    event = parse_webhook_event(BODY)

    assert event.event_name == "indirect-reseller-relationship-accepted-by-customer"
    assert event.resource_uri.endswith("/v1/customers/33333333-3333-4333-8333-000000000001")
    assert event.resource_name == "Customer"
    assert event.audit_uri.startswith("https://api.partnercenter.microsoft.com/v1/auditrecords")
    assert event.resource_change_utc_date == datetime(2025, 3, 1, 16, 19, 6, 352027, tzinfo=UTC)


def test_parse_webhook_event_accepts_a_mapping_with_any_key_case():
    event = parse_webhook_event({"eventName": "test-created", "resourceUri": "https://x"})

    assert event.event_name == "test-created"
    assert event.resource_change_utc_date is None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"ResourceUri": "x"}).encode(),
        json.dumps(load("webhook_event.json") | {"ResourceChangeUtcDate": "yesterday"}).encode(),
    ],
)
def test_unreadable_webhook_body_is_a_permanent_error(body):
    with pytest.raises(PermanentPartnerCenterError):
        parse_webhook_event(body)
