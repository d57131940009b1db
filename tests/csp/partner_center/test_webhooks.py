"""Webhook deliveries as Microsoft signs them: a pinned certificate URL, a certificate issued to Microsoft
Corporation that chains to a trusted root, rsa-sha256 over the raw body; and parsing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from csp.partner_center import (
    PartnerCenterClient,
    PartnerCenterConfig,
    PermanentPartnerCenterError,
    certificate_check,
    parse_webhook_event,
    webhook_rejection,
)

from .helpers import API, FIXTURES, FakeTokens, load

PREFIX = "https://3psostorageacct.blob.core.windows.net/cert/"
CERT_URL = PREFIX + "partner-center-signing.cer"
BODY = (FIXTURES / "webhook_event.json").read_bytes()
NOW = datetime.now(UTC)


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(key, name: x509.Name, *, issuer_key=None, issuer_name=None) -> x509.Certificate:
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=10))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(issuer_key or key, hashes.SHA256())
    )


class Pki:
    """A root, an intermediate and a signing key, like Microsoft's chain but made here."""

    def __init__(self) -> None:
        self.root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.root = _ca(self.root_key, _name("Test Root Authority", "Test Root CA"))
        self.intermediate_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.intermediate = _ca(
            self.intermediate_key,
            _name("Test Root Authority", "Test Issuing CA"),
            issuer_key=self.root_key,
            issuer_name=self.root.subject,
        )
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def leaf(
        self,
        *,
        organization: str = "Microsoft Corporation",
        key=None,
        issuer: str = "root",
        not_before: datetime = NOW - timedelta(days=1),
        not_after: datetime = NOW + timedelta(days=30),
        issuer_url: str | None = None,
    ) -> x509.Certificate:
        issuer_key, issuer_cert = (
            (self.root_key, self.root) if issuer == "root" else (self.intermediate_key, self.intermediate)
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(organization, "partner center webhook signing"))
            .issuer_name(issuer_cert.subject)
            .public_key((key or self.key).public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        )
        if issuer_url:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(issuer_url),
                        )
                    ]
                ),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def sign(key, body: bytes) -> str:
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(key, body: bytes = BODY, url: str = CERT_URL) -> dict[str, str]:
    return {
        "Authorization": f"Signature {sign(key, body)}",
        "X-MS-Certificate-Url": url,
        "X-MS-Signature-Algorithm": "rsa-sha256",
    }


class CertificateStore:
    """Plays the certificate host: records what was fetched, checks with the test root."""

    def __init__(self, pki: Pki, data: bytes) -> None:
        self.pki, self.data, self.fetched = pki, data, []

    def __call__(self, url: str) -> x509.Certificate:
        self.fetched.append(url)
        return certificate_check(self.data, trusted=[self.pki.root])


def why(pki: Pki, body: bytes, headers, data: bytes | None = None) -> str | None:
    store = CertificateStore(pki, data if data is not None else der(pki.leaf()))
    return webhook_rejection(body, headers, certificate_for=store, certificate_url_prefix=PREFIX)


def test_a_delivery_signed_by_microsofts_certificate_is_accepted(pki):
    assert why(pki, BODY, signed_headers(pki.key)) is None


def test_header_names_are_case_insensitive(pki):
    headers = {key.lower(): value for key, value in signed_headers(pki.key).items()}

    assert why(pki, BODY, headers) is None


def test_pem_files_carrying_the_intermediate_are_accepted(pki):
    data = pem(pki.leaf(issuer="intermediate"), pki.intermediate)

    assert why(pki, BODY, signed_headers(pki.key), data) is None


def test_the_intermediate_is_fetched_from_the_issuer_url_the_certificate_names(pki):
    issuer_url = "http://www.microsoft.com/pkiops/certs/test-issuing-ca.crt"
    leaf = pki.leaf(issuer="intermediate", issuer_url=issuer_url)
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return der(pki.intermediate)

    assert certificate_check(der(leaf), trusted=[pki.root], fetch=fetch) == leaf
    assert fetched == [issuer_url]


def test_a_certificate_without_a_path_to_a_trusted_root_is_rejected(pki):
    other = Pki()

    assert "does not chain to a trusted root" in why(pki, BODY, signed_headers(other.key), der(other.leaf()))
    assert "does not chain" in why(pki, BODY, signed_headers(pki.key), der(pki.leaf(issuer="intermediate")))


def test_a_self_signed_microsoft_corporation_certificate_is_rejected(pki):
    name = _name("Microsoft Corporation", "partner center webhook signing")
    forged = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pki.key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(pki.key, hashes.SHA256())
    )

    assert "does not chain" in why(pki, BODY, signed_headers(pki.key), der(forged))


def test_a_certificate_issued_to_another_organisation_is_rejected(pki):
    data = der(pki.leaf(organization="Contoso Ltd"))

    assert why(pki, BODY, signed_headers(pki.key), data) == (
        "The signing certificate is not issued to Microsoft Corporation."
    )


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        (NOW - timedelta(days=60), NOW - timedelta(days=1)),
        (NOW + timedelta(days=1), NOW + timedelta(days=60)),
    ],
)
def test_a_certificate_not_valid_now_is_rejected(pki, not_before, not_after):
    data = der(pki.leaf(not_before=not_before, not_after=not_after))

    assert "not valid at this time" in why(pki, BODY, signed_headers(pki.key), data)


def test_forged_body_is_rejected(pki):
    forged = BODY.replace(b"indirect-reseller", b"granular-admin")

    assert why(pki, forged, signed_headers(pki.key)) == "The signature does not match the body."


def test_signature_from_another_key_is_rejected(pki):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert why(pki, BODY, signed_headers(other)) == "The signature does not match the body."


@pytest.mark.parametrize("algorithm", [None, "", "rsa-sha1", "hmac-sha256"])
def test_any_other_signature_algorithm_is_rejected(pki, algorithm):
    headers = signed_headers(pki.key)
    if algorithm is None:
        del headers["X-MS-Signature-Algorithm"]
    else:
        headers["X-MS-Signature-Algorithm"] = algorithm

    assert why(pki, BODY, headers) == "The signature algorithm is not rsa-sha256."


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/cert/signing.cer",
        "https://3psostorageacct.blob.core.windows.net.evil.example/cert/signing.cer",
        "https://3psostorageacct.blob.core.windows.net@evil.example/cert/signing.cer",
        "https://x@3psostorageacct.blob.core.windows.net/cert/signing.cer",
        "http://3psostorageacct.blob.core.windows.net/cert/signing.cer",
        "https://3psostorageacct.blob.core.windows.net:8443/cert/signing.cer",
        "https://otheraccount.blob.core.windows.net/cert/signing.cer",
        "https://3psostorageacct.blob.core.windows.net/other/signing.cer",
        "https://3psostorageacct.blob.core.windows.net/cert/../other/signing.cer",
        "https://3psostorageacct.blob.core.windows.net/cert/sub/signing.cer",
        "https://3psostorageacct.blob.core.windows.net/cert/signing.pem",
        "https://3psostorageacct.blob.core.windows.net/cert/signing.cer?sig=x",
        "https://3psostorageacct.blob.core.windows.net/cert/",
        "https://api.partnercenter.microsoft.com/webhooks/v1/certificate/signing.cer",
        "file:///etc/passwd",
        "",
    ],
)
def test_a_certificate_url_outside_the_pinned_location_is_rejected_without_fetching(pki, url):
    store = CertificateStore(pki, der(pki.leaf()))

    rejection = webhook_rejection(
        BODY, signed_headers(pki.key, url=url), certificate_for=store, certificate_url_prefix=PREFIX
    )

    assert rejection == f"The certificate URL is not under {PREFIX}."
    assert store.fetched == []


@pytest.mark.parametrize("authorization", ["Bearer abc", "Signature", "Signature not-base64!!", ""])
def test_malformed_authorization_is_rejected(pki, authorization):
    headers = {**signed_headers(pki.key), "Authorization": authorization}

    assert why(pki, BODY, headers) is not None


def test_unreadable_certificate_or_failed_fetch_is_rejected(pki):
    def failing(url: str) -> x509.Certificate:
        raise PermanentPartnerCenterError("404")

    assert why(pki, BODY, signed_headers(pki.key), b"not a certificate") == (
        "The signing certificate could not be read."
    )
    assert "could not be fetched" in webhook_rejection(
        BODY, signed_headers(pki.key), certificate_for=failing, certificate_url_prefix=PREFIX
    )


def test_non_rsa_certificate_is_rejected(pki):
    ec_key = ec.generate_private_key(ec.SECP256R1())

    assert why(pki, BODY, signed_headers(pki.key), der(pki.leaf(key=ec_key))) == (
        "The signing certificate has no RSA key."
    )


@pytest.fixture
def live_client(pki, tmp_path) -> PartnerCenterClient:
    """A live-mode client whose CA bundle (as for every other call) holds the test root."""
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_bytes(pem(pki.root))
    session = requests.Session()
    session.verify = str(bundle)
    config = PartnerCenterConfig(mode="live", tenant_id="t", client_id="c", client_secret="s")
    return PartnerCenterClient(config, token_provider=FakeTokens(), session=session)


def test_live_client_fetches_microsofts_certificate_once_without_our_token(pki, live_client, mocked):
    mocked.get(CERT_URL, body=der(pki.leaf()))

    assert live_client.webhook_rejection(BODY, signed_headers(pki.key)) is None
    assert (
        live_client.webhook_rejection(BODY.replace(b"Customer", b"Order"), signed_headers(pki.key))
        is not None
    )
    assert live_client.call_count == 1
    sent = mocked.calls[0].request
    assert "Authorization" not in sent.headers
    assert "MS-Contract-Version" not in sent.headers


def test_live_client_refuses_a_redirected_certificate(pki, live_client, mocked):
    mocked.get(CERT_URL, status=302, headers={"Location": "https://evil.example/cert.cer"})

    assert live_client.webhook_rejection(BODY, signed_headers(pki.key)) == (
        "The signing certificate could not be fetched or checked."
    )
    assert len(mocked.calls) == 1


def test_live_client_does_not_trust_a_certificate_from_another_root(pki, live_client, mocked):
    other = Pki()
    mocked.get(CERT_URL, body=der(other.leaf()))

    assert "does not chain" in live_client.webhook_rejection(BODY, signed_headers(other.key))


def test_the_certificate_location_is_configurable(pki, tmp_path, mocked):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(pem(pki.root))
    session = requests.Session()
    session.verify = str(bundle)
    prefix = "https://certs.partner.example/cert/"
    config = PartnerCenterConfig(
        mode="live", tenant_id="t", client_id="c", client_secret="s", webhook_certificate_url_prefix=prefix
    )
    client = PartnerCenterClient(config, token_provider=FakeTokens(), session=session)
    mocked.get(prefix + "a.cer", body=der(pki.leaf()))

    assert client.webhook_rejection(BODY, signed_headers(pki.key, url=prefix + "a.cer")) is None
    assert client.webhook_rejection(BODY, signed_headers(pki.key)) is not None


def test_test_event_is_requested_and_answers_its_correlation_id(client, mocked):
    mocked.post(f"{API}/webhooks/v1/registration/validationEvents", json={"correlationId": "c0ffee"})

    assert client.send_test_webhook_event() == "c0ffee"
    assert mocked.calls[0].request.headers["MS-Contract-Version"] == "v1"


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
