"""The webhook receiver: forged or unsigned deliveries are refused and recorded; signed ones trigger a re-check."""

import json

import pytest
from django.urls import reverse

from csp import tasks
from csp.models import AuthorizationTransition, TenantAuthorization, WebhookDelivery
from csp.sandbox.webhooks import CERTIFICATE_PATH, WebhookSigner
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN, FABRIKAM_TENANT

from .conftest import pending

pytestmark = pytest.mark.django_db
URL = "/csp/webhooks/partner-center/"
ACCEPTED = "indirect-reseller-relationship-accepted-by-customer"


def post(client, body: bytes, headers: dict[str, str]):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(URL, data=body, content_type="application/json", **extra)


@pytest.fixture
def contoso_pending(reseller, owner, contoso):
    return pending(
        reseller,
        prefix="contoso",
        tenant_id=CONTOSO_TENANT,
        end_customer=contoso,
        requested_by=owner,
        reseller_tenant_id=FABRIKAM_TENANT,
        reseller_mpn_id=FABRIKAM_MPN,
    )


def test_webhook_url_is_the_one_in_the_spec():
    assert reverse("csp:partner-center-webhook") == URL


def test_unsigned_delivery_gets_401_is_recorded_and_changes_nothing(client, sandbox, contoso_pending):
    body = json.dumps({"EventName": ACCEPTED, "ResourceUri": f"x/v1/customers/{CONTOSO_TENANT}"}).encode()

    answer = post(client, body, {})

    assert answer.status_code == 401
    delivery = WebhookDelivery.objects.get()
    assert (delivery.signature_valid, delivery.status) == (False, WebhookDelivery.Status.REJECTED)
    assert delivery.headers["Authorization"] == "absent"
    contoso_pending.refresh_from_db()
    assert contoso_pending.status == TenantAuthorization.Status.PENDING


def test_forged_delivery_gets_401(client, sandbox, signed_delivery, contoso_pending):
    body, headers = signed_delivery(ACCEPTED, f"{sandbox.url}/v1/customers/{CONTOSO_TENANT}", CONTOSO_TENANT)
    forged = {**headers, "Authorization": f"Signature {WebhookSigner().sign(body)}"}
    tampered = body.replace(b"indirect-", b"")

    assert post(client, body, forged).status_code == 401
    assert post(client, tampered, headers).status_code == 401
    assert (
        post(
            client, body, {**headers, "x-ms-certificate-url": "https://evil.example" + CERTIFICATE_PATH}
        ).status_code
        == 401
    )
    assert WebhookDelivery.objects.filter(signature_valid=False).count() == 3
    assert not WebhookDelivery.objects.filter(signature_valid=True).exists()
    assert contoso_pending.transitions.count() == 0


def test_signed_delivery_triggers_a_recheck_that_verifies(
    client,
    sandbox,
    control,
    signed_delivery,
    contoso_pending,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    control("accept", {"domain": "contoso.onmicrosoft.com", "reseller_tenant_id": FABRIKAM_TENANT})
    body, headers = signed_delivery(ACCEPTED, f"{sandbox.url}/v1/customers/{CONTOSO_TENANT}", CONTOSO_TENANT)

    with django_capture_on_commit_callbacks(execute=True):
        answer = post(client, body, headers)

    assert answer.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.signature_valid, delivery.status, delivery.event_name) == (
        True,
        WebhookDelivery.Status.PROCESSED,
        ACCEPTED,
    )
    contoso_pending.refresh_from_db()
    assert contoso_pending.status == TenantAuthorization.Status.VERIFIED
    assert contoso_pending.transitions.last().actor == AuthorizationTransition.Actor.WEBHOOK


def test_signed_delivery_is_only_a_hint(
    client, sandbox, signed_delivery, contoso_pending, eager_worker, django_capture_on_commit_callbacks
):
    """Microsoft says nothing was accepted: the webhook alone verifies nothing."""
    body, headers = signed_delivery(ACCEPTED, f"{sandbox.url}/v1/customers/{CONTOSO_TENANT}", CONTOSO_TENANT)

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body, headers).status_code == 200

    contoso_pending.refresh_from_db()
    assert contoso_pending.status == TenantAuthorization.Status.PENDING
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PROCESSED


def test_sandbox_acceptance_webhook_reaches_the_receiver(
    sandbox, control, contoso_pending, live_server, eager_worker
):
    """End to end: registered with the sandbox, which signs and sends on acceptance."""
    import time

    from django.core.management import call_command

    call_command("register_partner_center_webhook", url=live_server.url + URL)
    control("accept", {"domain": "contoso.onmicrosoft.com", "reseller_tenant_id": FABRIKAM_TENANT})
    for _ in range(50):
        if WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PROCESSED).exists():
            break
        time.sleep(0.1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.signature_valid
    contoso_pending.refresh_from_db()
    assert contoso_pending.status == TenantAuthorization.Status.VERIFIED


def test_a_signed_delivery_is_kept_when_the_broker_is_down(
    client, sandbox, signed_delivery, contoso_pending, monkeypatch, django_capture_on_commit_callbacks
):
    """Microsoft gets its 200 and the delivery stays received: the polling pass checks the tenant anyway."""

    def broker_down(delivery_id):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.webhook_process, "delay", broker_down)
    body, headers = signed_delivery(ACCEPTED, f"{sandbox.url}/v1/customers/{CONTOSO_TENANT}", CONTOSO_TENANT)

    with django_capture_on_commit_callbacks(execute=True):
        answer = post(client, body, headers)

    assert answer.status_code == 200
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.RECEIVED


def test_a_delivery_naming_a_certificate_outside_the_pinned_location_is_refused_with_the_reason(
    client, sandbox, signed_delivery
):
    body, headers = signed_delivery(ACCEPTED, f"{sandbox.url}/v1/customers/{CONTOSO_TENANT}", CONTOSO_TENANT)
    elsewhere = {**headers, "x-ms-certificate-url": f"{sandbox.url}/_sandbox/ca.pem"}
    weak = {**headers, "x-ms-signature-algorithm": "rsa-sha1"}

    assert post(client, body, elsewhere).status_code == 401
    assert post(client, body, weak).status_code == 401

    first, second = WebhookDelivery.objects.order_by("pk")
    assert f"The certificate URL is not under {sandbox.url}/cert/." in first.result
    assert "The signature algorithm is not rsa-sha256." in second.result


def test_admin_sends_microsofts_test_event_and_sees_it_arrive(
    client, sandbox, staff_user, eager_worker, django_capture_on_commit_callbacks
):
    from tests.csp.conftest import WebhookReceiver

    receiver = WebhookReceiver()
    try:
        client.force_login(staff_user)
        page = reverse("admin:csp_partnercenterconnection_changelist")
        # the sandbox delivers to a local receiver; the test hands what arrived to the storefront's endpoint
        from csp.connection import partner_center

        partner_center().register_webhook(receiver.url, ["test-created"])
        answer = client.post(reverse("admin:csp_partnercenterconnection_test_event"), follow=True)
        assert "Microsoft is sending a test-created event" in answer.content.decode()
        headers, raw, event = receiver.next()
    finally:
        receiver.close()
    assert event["EventName"] == "test-created"

    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, raw, dict(headers)).status_code == 200

    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_name, delivery.status) == ("test-created", WebhookDelivery.Status.PROCESSED)
    assert "test event arrived" in delivery.result
    assert (
        "Microsoft&#x27;s test event arrived and its signature is valid" in client.get(page).content.decode()
    )
