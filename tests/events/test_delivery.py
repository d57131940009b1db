"""Deliveries end to end against a local receiver: signed, once per event, retried with backoff, redelivered."""

import base64
import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from billing.models import Order
from csp import authorizations, signals
from csp.models import TenantAuthorization
from storefront.events import services
from storefront.events.models import DeliveryAttempt, Event, EventDelivery, EventType
from storefront.events.services import event_endpoint_create
from tests.events.conftest import Scripted
from tests.factories import OrderFactory, TenantAuthorizationFactory

pytestmark = pytest.mark.django_db


def spec_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """The Standard Webhooks algorithm written out: base64(HMAC-SHA256(base64-decoded secret, id.timestamp.body))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


TENANT = "0d6c0a1e-0000-4000-8000-00000000c0de"


def pending_authorization(organization) -> TenantAuthorization:
    """A pending authorization whose domain prefix Microsoft said belongs to TENANT."""
    return TenantAuthorizationFactory(organization=organization, expected_tenant_id=TENANT)


def verify_authorization(authorization: TenantAuthorization) -> None:
    assert authorizations.tenant_authorization_mark_verified(
        authorization=authorization,
        tenant_id=TENANT,
        actor="worker",
        answer="The customer accepted.",
    )


def make_due(delivery: EventDelivery) -> None:
    EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_verified_authorization_is_delivered_signed_the_standard_way(
    owner, reseller, endpoint_with_secret, receiver, run_on_commit
):
    endpoint, secret = endpoint_with_secret
    authorization = pending_authorization(reseller)
    with run_on_commit():
        verify_authorization(authorization)

    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    assert sent.path == "/hooks/fabrikam"
    assert sent.headers["content-type"] == "application/json"
    message_id, timestamp = sent.headers["webhook-id"], sent.headers["webhook-timestamp"]
    assert message_id.startswith("msg_") and timestamp.isdigit()
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    assert sent.headers["webhook-signature"] == spec_signature(secret, message_id, timestamp, sent.body)
    assert Webhook(secret).verify(sent.body, sent.headers)["type"] == "authorization.verified"
    body = json.loads(sent.body)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["id"] == authorization.pk
    assert body["data"]["status"] == "verified"
    assert body["data"]["customer_tenant_id"] == "0d6c0a1e-0000-4000-8000-00000000c0de"
    delivery = EventDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempt_count == 1
    attempt = delivery.attempts.get()
    assert attempt.status_code == 204 and attempt.error == ""


def test_a_forged_or_other_secret_does_not_verify(endpoint_with_secret, receiver, run_on_commit):
    endpoint, secret = endpoint_with_secret
    with run_on_commit():
        services.event_endpoint_test(endpoint=endpoint)
    sent = receiver.requests[0]
    other_secret = "whsec_" + base64.b64encode(b"x" * 32).decode()
    assert sent.headers["webhook-signature"] != spec_signature(
        other_secret, sent.headers["webhook-id"], sent.headers["webhook-timestamp"], sent.body
    )
    tampered = sent.body.replace(b"endpoint.test", b"order.completed")
    assert sent.headers["webhook-signature"] != spec_signature(
        secret, sent.headers["webhook-id"], sent.headers["webhook-timestamp"], tampered
    )


def test_signer_matches_the_published_standard_webhooks_vector():
    """The example in the Standard Webhooks spec and its reference libraries' tests."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    message_id, timestamp, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert spec_signature(secret, message_id, timestamp, body) == expected
    sent_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    assert Webhook(secret).sign(message_id, sent_at, body.decode()) == expected


def test_order_completed_and_failed_each_sent_once_whoever_announces_them(
    reseller, endpoint, receiver, run_on_commit
):
    completed = OrderFactory(organization=reseller, status=Order.Status.COMPLETED)
    failed = OrderFactory(organization=reseller, status=Order.Status.FAILED, failure_reason="Refused.")
    with run_on_commit():
        for _ in range(2):  # the worker and the fulfilment pass may both finish an order
            signals.announce(signals.order_finished, sender=Order, order_id=completed.pk)
            signals.announce(signals.order_finished, sender=Order, order_id=failed.pk)
    types = sorted(json.loads(r.body)["type"] for r in receiver.requests)
    assert types == ["order.completed", "order.failed"]
    assert Event.objects.count() == 2 and EventDelivery.objects.count() == 2


def test_endpoint_only_gets_the_events_it_chose(owner, reseller, receiver, loopback_allowed, run_on_commit):
    event_endpoint_create(
        organization_id=reseller.pk,
        user_id=owner.pk,
        url=f"{receiver.url}/orders-only",
        event_types=[EventType.ORDER_COMPLETED],
    )
    with run_on_commit():
        verify_authorization(pending_authorization(reseller))
        signals.announce(
            signals.order_finished,
            sender=Order,
            order_id=OrderFactory(organization=reseller, status=Order.Status.COMPLETED).pk,
        )
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["order.completed"]


def test_another_organisations_endpoint_never_receives_our_events(
    reseller, outsider, endpoint, receiver, loopback_allowed, run_on_commit
):
    event_endpoint_create(
        organization_id=outsider.organization_id,
        user_id=outsider.pk,
        url=f"{receiver.url}/adatum",
        event_types=list(EventType.values),
    )
    with run_on_commit():
        verify_authorization(pending_authorization(reseller))
        signals.announce(
            signals.order_finished,
            sender=Order,
            order_id=OrderFactory(organization=reseller, status=Order.Status.COMPLETED).pk,
        )
    assert {r.path for r in receiver.requests} == {"/hooks/fabrikam"}
    assert not EventDelivery.objects.filter(endpoint__organization=outsider.organization).exists()


def test_the_storefronts_work_only_queues_the_delivery(reseller, endpoint, receiver, monkeypatch):
    """Verifying commits at once; the POST waits for the events worker (a slow endpoint delays nobody)."""
    from storefront.events import tasks

    queued = []
    monkeypatch.setattr(tasks.delivery_attempt, "delay", queued.append)
    verify_authorization(pending_authorization(reseller))
    assert receiver.requests == []
    delivery = EventDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempt_count == 0


def test_on_commit_queues_on_the_events_queue(
    reseller, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    from storefront.celery import app
    from storefront.events import tasks

    assert app.amqp.router.route({}, tasks.delivery_attempt.name)["queue"].name == "events"
    queued = []
    monkeypatch.setattr(tasks.delivery_attempt, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        verify_authorization(pending_authorization(reseller))
    assert queued == [EventDelivery.objects.get().pk]


def test_failed_attempt_is_retried_with_backoff_and_every_attempt_is_a_row(
    endpoint, receiver, reseller, run_on_commit
):
    receiver.answer(Scripted(status=500), Scripted(status=503))
    before = timezone.now()
    with run_on_commit():
        services.event_record(organization_id=reseller.pk, event_type="order.completed", key="k:0", data={})
    delivery = EventDelivery.objects.get()
    assert delivery.status == "pending" and delivery.retries_left == len(services.BACKOFF) - 1
    assert before + timedelta(seconds=5) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=5)
    assert services.delivery_attempt(delivery_id=delivery.pk) == "not-due"  # not before its time

    make_due(delivery)
    assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
    make_due(delivery)
    with run_on_commit():
        assert services.deliveries_due_enqueue() == 1  # the beat's pass
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.last_status_code == 204
    codes = list(delivery.attempts.order_by("number").values_list("number", "status_code"))
    assert codes == [(1, 500), (2, 503), (3, 204)]
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # a retry is the same message


def test_retries_follow_the_schedule_for_about_a_day_then_stop(endpoint, receiver, reseller):
    receiver.answer(*[Scripted(status=500)] * 10)
    services.event_record(
        organization_id=reseller.pk, event_type="order.completed", key="k:1", data={"id": 1}
    )
    delivery = EventDelivery.objects.get()
    waits = []
    while delivery.status == "pending":
        make_due(delivery)
        finished = timezone.now()
        services.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append(round((delivery.next_attempt_at - finished).total_seconds()))
    assert waits == [5, 60, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600]
    assert 20 * 3600 < sum(waits) < 24 * 3600
    assert delivery.status == "failed" and delivery.attempt_count == 8
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 8


def test_a_slow_endpoint_times_out_fast_and_is_retried(settings, endpoint, receiver, reseller):
    settings.EVENT_DELIVERY_TIMEOUT = 0.5
    receiver.answer(Scripted(status=200, delay=2))
    services.event_record(organization_id=reseller.pk, event_type="order.completed", key="k:2", data={})
    delivery = EventDelivery.objects.get()
    assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
    attempt = delivery.attempts.get()
    assert attempt.status_code is None
    assert attempt.error == "No answer within 0.5 seconds."


def test_a_redirect_is_not_followed(endpoint, receiver, reseller):
    receiver.answer(Scripted(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    services.event_record(organization_id=reseller.pk, event_type="order.completed", key="k:3", data={})
    delivery = EventDelivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.pk)
    attempt = delivery.attempts.get()
    assert attempt.status_code == 302
    assert "redirects are not followed" in attempt.error
    assert len(receiver.requests) == 1


def test_dead_endpoint_records_the_connection_error(owner, loopback_allowed, reseller):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint, _ = event_endpoint_create(
        organization_id=reseller.pk,
        user_id=owner.pk,
        url=f"http://127.0.0.1:{port}/",
        event_types=["order.completed"],
    )
    services.event_record(organization_id=reseller.pk, event_type="order.completed", key="k:4", data={})
    delivery = EventDelivery.objects.get()
    assert services.delivery_attempt(delivery_id=delivery.pk) == "pending"
    assert delivery.attempts.get().error.startswith("Could not connect to 127.0.0.1")


def test_redelivery_sends_the_same_message_again(endpoint, receiver, run_on_commit):
    with run_on_commit():
        delivery = services.event_endpoint_test(endpoint=endpoint)
    with run_on_commit():
        services.delivery_redeliver(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempt_count == 2
    assert len(receiver.requests) == 2
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_redelivery_of_a_failed_delivery_is_one_attempt(endpoint, receiver, run_on_commit):
    receiver.answer(Scripted(status=500), Scripted(status=500))
    with run_on_commit():
        delivery = services.event_endpoint_test(endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    with run_on_commit():
        services.delivery_redeliver(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempt_count == 2 and delivery.next_attempt_at is None


def test_a_paused_endpoint_gets_no_new_events(endpoint, receiver, reseller, run_on_commit):
    services.event_endpoint_update(endpoint=endpoint, is_active=False)
    with run_on_commit():
        services.event_record(organization_id=reseller.pk, event_type="order.completed", key="k:5", data={})
    assert receiver.requests == [] and not EventDelivery.objects.exists()


def test_a_broken_listener_never_breaks_csp(reseller, monkeypatch):
    from storefront.events import receivers

    def broken(**kwargs):
        raise RuntimeError("listener down")

    monkeypatch.setattr(receivers, "event_record", broken)
    authorization = pending_authorization(reseller)
    verify_authorization(authorization)
    authorization.refresh_from_db()
    assert authorization.status == "verified"


def test_expired_authorization_and_active_gdap_are_announced(reseller, endpoint, receiver, run_on_commit):
    authorization = TenantAuthorizationFactory(organization=reseller, expires_at=timezone.now())
    with run_on_commit():
        assert authorizations.tenant_authorizations_expire_due() == 1
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["authorization.expired"]
    assert json.loads(receiver.requests[0].body)["data"]["id"] == authorization.pk


def test_gdap_relationship_becoming_active_is_announced(
    reseller, endpoint, receiver, helpdesk, monkeypatch, run_on_commit
):
    from csp import gdap
    from csp.models import GdapRequest

    gdap_request = GdapRequest.objects.create(
        organization=reseller,
        customer_tenant_id="0d6c0a1e-0000-4000-8000-00000000c0de",
        customer_name="Contoso Ltd",
        role_template=helpdesk,
        display_name="fabrikam-contoso-1",
        status=GdapRequest.Status.APPROVAL_PENDING,
        relationship_id="rel-1",
        request_id="req-1",
    )
    active = SimpleNamespace(status="active", etag="e2", end_date_time=None)
    monkeypatch.setattr(
        gdap, "partner_center", lambda: SimpleNamespace(get_gdap_relationship=lambda _: active)
    )
    with run_on_commit():
        gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk)
        gdap.gdap_request_refresh(gdap_request_id=gdap_request.pk)  # already active: no second event
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["gdap.active"]
    assert json.loads(receiver.requests[0].body)["data"]["status"] == "active"
