"""Webhook registration and its signed deliveries: `register_webhook` (create, then replace on 409), and
`webhook_rejection` on what the sandbox delivers."""

from __future__ import annotations

import json

from csp.partner_center.client import PartnerCenterClient
from csp.sandbox.server import SandboxServer
from csp.sandbox.webhooks import CERTIFICATE_PATH
from tests.csp.conftest import WebhookReceiver

from .helpers import (
    API,
    body,
    load,
)
from .live import (
    CONTOSO,
    DISTRIBUTOR,
    FABRIKAM,
    WINGTIP,
    accept_invitation,
)


def test_register_webhook_posts_url_and_events(client, mocked, records):
    mocked.post(f"{API}/webhooks/v1/registration", json=load("webhook_registration.json"))
    events = load("webhook_registration.json")["WebhookEvents"]

    registration = client.register_webhook(
        "https://shop.northwind.example/csp/webhooks/partner-center/", events
    )

    assert body(mocked) == {
        "WebhookUrl": "https://shop.northwind.example/csp/webhooks/partner-center/",
        "WebhookEvents": events,
    }
    assert registration.events == tuple(events)
    assert [r.operation for r in records] == ["register_webhook"]


def test_register_webhook_updates_an_existing_registration_on_409(client, mocked, records):
    mocked.post(f"{API}/webhooks/v1/registration", status=409, json={"code": 409, "description": "exists"})
    mocked.put(f"{API}/webhooks/v1/registration", json=load("webhook_registration.json"))

    client.register_webhook("https://shop.northwind.example/csp/webhooks/partner-center/", ["test-created"])

    assert [c.request.method for c in mocked.calls] == ["POST", "PUT"]
    assert body(mocked, 1) == body(mocked, 0)
    assert [(r.operation, r.status) for r in records] == [("register_webhook", 409), ("update_webhook", 200)]


def test_register_webhook_creates_then_replaces_the_registration(
    sandbox_server: SandboxServer, live: PartnerCenterClient
) -> None:
    first = live.register_webhook(
        "https://storefront.example/csp/webhooks/partner-center/",
        ["reseller-relationship-accepted-by-customer"],
    )
    assert first.events == ("reseller-relationship-accepted-by-customer",)

    second = live.register_webhook(
        "https://storefront.example/csp/webhooks/v2/",
        ["indirect-reseller-relationship-accepted-by-customer", "granular-admin-relationship-approved"],
    )

    assert second.url == "https://storefront.example/csp/webhooks/v2/"
    assert second.events == (
        "indirect-reseller-relationship-accepted-by-customer",
        "granular-admin-relationship-approved",
    )
    assert sandbox_server.state.webhook_registration["WebhookUrl"] == second.url
    assert ("PUT", "/webhooks/v1/registration") in live.calls


def test_webhook_rejection_accepts_a_delivery_signed_by_the_sandbox_and_rejects_a_tampered_body(
    url: str, sandbox_server: SandboxServer, live: PartnerCenterClient
) -> None:
    body = json.dumps(
        {
            "EventName": "indirect-reseller-relationship-accepted-by-customer",
            "ResourceUri": f"{url}/v1/customers/{CONTOSO}",
            "ResourceName": CONTOSO,
            "AuditUri": None,
            "ResourceChangeUtcDate": "2024-05-01T12:30:00.000Z",
        }
    ).encode()
    headers = {
        "Authorization": f"Signature {sandbox_server.signer.sign(body)}",
        "x-ms-certificate-url": url + CERTIFICATE_PATH,
        "x-ms-signature-algorithm": "rsa-sha256",
    }

    assert live.webhook_rejection(body, headers) is None
    assert live.webhook_rejection(body.replace(CONTOSO.encode(), WINGTIP.encode()), headers) is not None
    foreign = {**headers, "x-ms-certificate-url": "https://attacker.example/cert.pem"}
    assert live.webhook_rejection(body, foreign) is not None
    assert (
        live.webhook_rejection(body, {**headers, "Authorization": "Signature bm90IGEgc2lnbmF0dXJl"})
        is not None
    )
    assert live.calls.count(("GET", CERTIFICATE_PATH)) == 1  # cached after the first fetch


def test_portal_acceptance_delivers_a_signed_webhook_that_the_client_verifies(
    live: PartnerCenterClient, receiver: WebhookReceiver
) -> None:
    live.register_webhook(receiver.url, ["indirect-reseller-relationship-accepted-by-customer"])
    link = live.relationship_request_link(
        indirect_reseller_tenant_id=FABRIKAM, indirect_provider_tenant_id=DISTRIBUTOR
    ).url

    accept_invitation(link, "contoso.onmicrosoft.com")
    headers, body = receiver.received.get(timeout=5)

    event = json.loads(body)
    assert event["EventName"] == "indirect-reseller-relationship-accepted-by-customer"
    assert event["ResourceName"] == CONTOSO
    assert live.webhook_rejection(body, headers) is None
    assert live.webhook_rejection(body + b" ", headers) is not None
