"""Signed webhook deliveries, fault injection and the /_sandbox control API."""

from __future__ import annotations

import base64
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import NameOID

from csp.sandbox.server import SandboxServer
from tests.csp.conftest import WebhookReceiver

from .conftest import ALPINE, CONTOSO, DISTRIBUTOR_TENANT_ID, FABRIKAM, Api, customer_body

EVENTS = [
    "indirect-reseller-relationship-accepted-by-customer",
    "reseller-relationship-accepted-by-customer",
    "granular-admin-relationship-approved",
]


def verify(headers: dict[str, str], raw: bytes) -> None:
    """What the storefront does: fetch the .cer (DER), check it was issued by the sandbox CA, then RSA-SHA256."""
    scheme, _, signature = headers["Authorization"].partition(" ")
    assert scheme == "Signature"
    assert headers["x-ms-signature-algorithm"] == "rsa-sha256"
    url = headers["x-ms-certificate-url"]
    certificate = x509.load_der_x509_certificate(requests.get(url, timeout=5).content)
    ca = x509.load_pem_x509_certificate(
        requests.get(url.split("/cert/")[0] + "/_sandbox/ca.pem", timeout=5).content
    )
    certificate.verify_directly_issued_by(ca)
    assert (
        certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        == "Microsoft Corporation"
    )
    certificate.public_key().verify(base64.b64decode(signature), raw, padding.PKCS1v15(), hashes.SHA256())


def test_acceptance_delivers_a_signed_webhook(
    api: Api, anon: Api, receiver: WebhookReceiver, server: SandboxServer
) -> None:
    api.post("/webhooks/v1/registration", json={"WebhookUrl": receiver.url, "WebhookEvents": EVENTS})
    accepted = anon.post("/_sandbox/accept", json={"domain": "contoso.com", "reseller_tenant_id": FABRIKAM})
    assert accepted.status_code == 200
    assert accepted.json()["event"] == EVENTS[0]
    headers, raw, body = receiver.next()
    assert headers["x-ms-certificate-url"] == f"{server.url}/cert/partner-center-sandbox.cer"
    verify(headers, raw)
    assert body["EventName"] == EVENTS[0]
    assert body["ResourceUri"] == f"{server.url}/v1/customers/{CONTOSO}"
    assert body["ResourceName"] == CONTOSO
    assert set(body) == {"EventName", "ResourceUri", "ResourceName", "AuditUri", "ResourceChangeUtcDate"}
    with pytest.raises(Exception):  # noqa: B017 - a tampered body must not verify
        verify(headers, raw.replace(b"contoso", b"c0ntoso") + b" ")
    deadline = time.time() + 5
    while server.state.webhook_deliveries[0]["status"] == "sending" and time.time() < deadline:
        time.sleep(0.02)
    assert server.state.webhook_deliveries[0]["status"] == "delivered"


def test_direct_acceptance_and_gdap_approval_events(api: Api, anon: Api, receiver: WebhookReceiver) -> None:
    api.post("/webhooks/v1/registration", json={"WebhookUrl": receiver.url, "WebhookEvents": EVENTS})
    anon.post("/_sandbox/accept", json={"domain": "woodgrovebank.com"})
    headers, raw, body = receiver.next()
    assert body["EventName"] == "reseller-relationship-accepted-by-customer"
    verify(headers, raw)
    rel = api.post(
        "/v1.0/tenantRelationships/delegatedAdminRelationships",
        json={
            "displayName": "gdap-1",
            "duration": "P90D",
            "customer": {"tenantId": ALPINE},
            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}]},
        },
    ).json()
    api.post(
        f"/v1.0/tenantRelationships/delegatedAdminRelationships/{rel['id']}/requests",
        json={"action": "lockForApproval"},
    )
    anon.post(f"/_sandbox/gdap/{rel['id']}/approve")
    headers, raw, body = receiver.next()
    assert body["EventName"] == "granular-admin-relationship-approved"
    assert body["ResourceName"] == rel["id"]
    verify(headers, raw)


def test_no_webhook_without_registration_or_for_unsubscribed_events(
    api: Api, anon: Api, receiver: WebhookReceiver, server: SandboxServer
) -> None:
    anon.post("/_sandbox/accept", json={"domain": "contoso.com"})
    api.post("/webhooks/v1/registration", json={"WebhookUrl": receiver.url, "WebhookEvents": [EVENTS[2]]})
    anon.post("/_sandbox/accept", json={"domain": "wingtiptoys.com"})
    time.sleep(0.2)
    assert receiver.received.empty()
    assert server.state.webhook_deliveries == []


def test_throttle_answers_429_with_retry_after_then_recovers(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"throttle": {"count": 1, "retry_after": 7}})
    throttled = api.get("/v1/customers")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json() == {
        "statusCode": 429,
        "message": "Rate limit is exceeded. Try again in 7 seconds.",
    }
    assert api.get("/v1/customers").status_code == 200


def test_fail_answers_5xx_with_the_error_body(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"fail": {"count": 2, "status": 503}})
    for _ in range(2):
        answer = api.head("/v1/domains/contoso.onmicrosoft.com")
        assert answer.status_code == 503
    answer = api.get("/v1/customers")
    assert answer.status_code == 200
    anon.post("/_sandbox/faults", json={"fail": {"count": 1, "status": 502}})
    failed = api.get("/v1/customers")
    assert failed.status_code == 502 and failed.json()["source"] == "PartnerFD"


def test_malformed_body(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"malformed": {"count": 1}})
    answer = api.get("/v1/customers")
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_latency_and_path_filter(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"latency_ms": 300, "path_contains": "/v1/relationships"})
    started = time.monotonic()
    api.get("/v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.get("/v1/customers")
    assert time.monotonic() - started < 0.3
    anon.delete("/_sandbox/faults")
    assert anon.get("/_sandbox/faults").json() == {"faults": {}}


def test_sign_in_discovery_answers_after_the_base_latency(anon: Api) -> None:
    anon.post("/_sandbox/config", json={"base_latency_ms": 300})
    started = time.monotonic()
    assert anon.get("/contoso.com/.well-known/openid-configuration").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_faults_spare_sign_in_and_control_unless_asked(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"fail": {"count": 1}})
    assert anon.get("/contoso.com/.well-known/openid-configuration").status_code == 200
    assert anon.get("/_sandbox/state").status_code == 200
    assert api.get("/v1/customers").status_code == 503
    anon.post("/_sandbox/faults", json={"fail": {"count": 1}, "path_contains": "openid-configuration"})
    assert anon.get("/contoso.com/.well-known/openid-configuration").status_code == 503


def test_graph_faults_use_graph_shapes(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"throttle": {"count": 1, "retry_after": 3}})
    answer = api.get("/v1.0/tenantRelationships/delegatedAdminRelationships")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert answer.json()["error"]["code"] == "TooManyRequests"


def test_timeout_then_retry_with_same_request_id_creates_one_customer(
    api: Api, anon: Api, server: SandboxServer
) -> None:
    anon.post(
        "/_sandbox/faults", json={"timeout": {"count": 1, "seconds": 1.0}, "path_contains": "/v1/customers"}
    )
    headers = {"MS-RequestId": "create-after-timeout"}
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post("/v1/customers", json=customer_body("fourthcoffee"), headers=headers, timeout=0.3)
    retry = api.post("/v1/customers", json=customer_body("fourthcoffee"), headers=headers)
    assert retry.status_code == 201
    assert len([c for c in server.state.customers.values() if c.created_via == "api"]) == 1


def test_connection_reset(api: Api, anon: Api) -> None:
    anon.post("/_sandbox/faults", json={"reset": {"count": 1}})
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/v1/customers")
    assert api.get("/v1/customers").status_code == 200


def test_state_summary_counts_and_request_counter(api: Api, anon: Api, server: SandboxServer) -> None:
    api.get("/v1/customers")
    api.get("/v1/customers")
    api.head("/v1/domains/contoso.onmicrosoft.com")
    state = anon.get("/_sandbox/state").json()
    assert state["distributor"] == {
        "name": "Northwind Distribution",
        "tenant_id": DISTRIBUTOR_TENANT_ID,
        "mpn_id": "5123456",
    }
    assert state["counts"]["tenants"] == 5 and state["counts"]["customers"] == 1
    assert state["relationships"] == [{"customer_tenant_id": ALPINE, "reseller_tenant_id": FABRIKAM}]
    assert state["request_counts"]["GET /v1/customers"] == 2
    assert server.state.count("HEAD /v1/domains/{domain}") == 1
    assert [r["mpn_id"] for r in state["resellers"]] == ["1234567", "2345678", "3456789", "4567890"]


def test_add_tenants_and_reset(api: Api, anon: Api, server: SandboxServer) -> None:
    created = anon.post(
        "/_sandbox/tenants", json={"domain_prefix": "fabrikamfood", "default_domain": "fabrikamfood.com"}
    )
    assert created.status_code == 201
    tenant_id = created.json()["tenant_id"]
    discovery = anon.get("/fabrikamfood.com/.well-known/openid-configuration").json()
    assert tenant_id in discovery["issuer"]
    assert api.head("/v1/domains/fabrikamfood.onmicrosoft.com").status_code == 200
    assert api.get(f"/v1/customers/{tenant_id}").status_code == 404
    assert anon.post("/_sandbox/tenants", json={"domain_prefix": "fabrikamfood"}).status_code == 409
    assert anon.post("/_sandbox/tenants", json={"domain_prefix": "bad prefix"}).status_code == 400
    bulk = anon.post("/_sandbox/tenants/bulk", json={"count": 25, "prefix": "load"}).json()
    assert bulk["created"] == 25 and bulk["tenants"][0]["domain"] == "load1.onmicrosoft.com"
    more = anon.post("/_sandbox/tenants/bulk", json={"count": 2, "prefix": "load"}).json()
    assert [t["domain"] for t in more["tenants"]] == ["load26.onmicrosoft.com", "load27.onmicrosoft.com"]
    assert len(server.state.tenants) == 5 + 1 + 27
    assert anon.post("/_sandbox/reset").json() == {"status": "reset"}
    assert len(server.state.tenants) == 5
    assert api.head("/v1/domains/fabrikamfood.onmicrosoft.com").status_code == 404


def test_control_accept_errors(anon: Api) -> None:
    assert anon.post("/_sandbox/accept", json={"domain": "nobody.example"}).status_code == 404
    outside = anon.post(
        "/_sandbox/accept",
        json={"domain": "contoso.com", "reseller_tenant_id": "22222222-2222-4222-8222-555555555555"},
    )
    assert outside.status_code == 400


def test_concurrent_creates_are_safe(api: Api, server: SandboxServer, token: str) -> None:
    errors: list[int] = []

    def create(index: int) -> None:
        with requests.Session() as session:
            answer = session.post(
                f"{server.url}/v1/customers",
                json=customer_body(f"parallel{index}"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            if answer.status_code != 201:
                errors.append(answer.status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(server.state.customers) == 21


def test_the_certificate_url_the_sandbox_names_is_configurable(
    api: Api, anon: Api, receiver: WebhookReceiver
) -> None:
    elsewhere = "https://3psostorageacct.blob.core.windows.net/cert/sandbox.cer"
    assert anon.post("/_sandbox/config", json={"webhook_certificate_url": elsewhere}).status_code == 200
    api.post("/webhooks/v1/registration", json={"WebhookUrl": receiver.url, "WebhookEvents": EVENTS})
    anon.post("/_sandbox/accept", json={"domain": "contoso.com", "reseller_tenant_id": FABRIKAM})

    headers, _, _ = receiver.next()

    assert headers["x-ms-certificate-url"] == elsewhere
    assert anon.post("/_sandbox/config", json={"webhook_certificate_url": 5}).status_code == 400


def test_validation_event_delivers_a_signed_test_created_event(
    api: Api, receiver: WebhookReceiver, server: SandboxServer
) -> None:
    assert api.post("/webhooks/v1/registration/validationEvents").status_code == 404  # nothing registered
    api.post("/webhooks/v1/registration", json={"WebhookUrl": receiver.url, "WebhookEvents": EVENTS[:1]})

    answer = api.post("/webhooks/v1/registration/validationEvents")

    assert answer.status_code == 200
    correlation_id = answer.json()["correlationId"]
    headers, raw, body = receiver.next()
    verify(headers, raw)
    assert body["EventName"] == "test-created"
    assert body["ResourceUri"] == f"{server.url}/webhooks/v1/registration/validationEvents/{correlation_id}"
