"""After the checkout Microsoft may still be fulfilling the order: the storefront keeps the subscriptions it
creates and says "completed" only when Microsoft does, following pending orders in the background."""

import time
from datetime import datetime, timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from billing.models import Order
from csp import provisioning
from csp.connection import partner_center
from csp.partner_center.schemas import PartnerOrder
from csp.tasks import order_place
from storefront.checkout import emails
from tests.checkout.conftest import submit_new_tenant_order
from tests.sandbox_ids import CONTOSO_TENANT, FABRIKAM_MPN

pytestmark = pytest.mark.django_db


def _place(client, owner, prefix, capture) -> Order:
    order, _ = submit_new_tenant_order(client, owner, prefix, capture)
    order_place.run(order.pk)
    order.refresh_from_db()
    return order


def _microsoft_lines(sandbox, order: Order) -> list[dict]:
    ids = {o["id"] for o in order.progress["microsoft_orders"]}
    return [line for o in sandbox.state.orders.values() if o["id"] in ids for line in o["lineItems"]]


def _make_due(order: Order) -> None:
    progress = dict(order.progress, fulfilment_next_check=(timezone.now() - timedelta(seconds=1)).isoformat())
    Order.objects.filter(pk=order.pk).update(progress=progress)


def test_each_order_line_keeps_the_subscription_microsoft_created(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks
):
    order = _place(client, owner, "subsco", django_capture_on_commit_callbacks)
    assert order.status == Order.Status.COMPLETED
    (microsoft_line,) = _microsoft_lines(sandbox, order)
    (line,) = order.lines.all()
    assert line.subscription_id == microsoft_line["subscriptionId"] != ""
    assert microsoft_line["partnerIdOnRecord"] == FABRIKAM_MPN
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f"Subscription {line.subscription_id}" in page
    api = client.get(f"/api/v1/orders/{order.pk}/").json()
    assert api["lines"][0]["subscription_id"] == line.subscription_id


def test_a_pending_order_is_followed_until_microsoft_completes_it(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks, mailoutbox
):
    requests.post(f"{sandbox.url}/_sandbox/config", json={"order_completion_seconds": 0.3}, timeout=10)
    order = _place(client, owner, "pendingco", django_capture_on_commit_callbacks)
    assert order.status == Order.Status.PROVISIONING
    assert [o["status"] for o in order.progress["microsoft_orders"]] == ["pending"]
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Microsoft has accepted the order and is setting up the subscriptions" in page
    assert 'hx-trigger="every 2s"' in page

    pc = partner_center()
    calls = pc.call_count
    assert provisioning.orders_follow_fulfilment_pass() == 0  # the first check is 15 seconds away
    assert pc.call_count == calls

    time.sleep(0.35)
    _make_due(order)
    with django_capture_on_commit_callbacks(execute=True):
        assert provisioning.orders_follow_fulfilment_pass() == 1
    assert pc.call_count == calls + 1  # one read of the one pending Microsoft order
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert order.lines.get().subscription_id == _microsoft_lines(sandbox, order)[0]["subscriptionId"]
    assert len(mailoutbox) == 1 and order.number in mailoutbox[0].subject + mailoutbox[0].body
    # the open page's poll gets the news, with the lines and their subscription swapped in beside it
    progress = client.get(
        reverse("orders:progress", args=[order.pk]), {"status": "provisioning"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-status="completed"' in progress
    assert 'id="order-lines" hx-swap-oob="true"' in progress
    assert f"Subscription {order.lines.get().subscription_id}" in progress
    assert provisioning.orders_follow_fulfilment_pass() == 0


def test_still_pending_orders_are_checked_less_and_less_often(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks
):
    requests.post(f"{sandbox.url}/_sandbox/config", json={"order_completion_seconds": 3600}, timeout=10)
    order = _place(client, owner, "slowco", django_capture_on_commit_callbacks)
    waits = []
    for _ in range(8):
        order.refresh_from_db()
        next_check = timezone.datetime.fromisoformat(order.progress["fulfilment_next_check"])
        waits.append(round((next_check - timezone.now()).total_seconds() / 15))
        _make_due(order)
        assert provisioning.orders_follow_fulfilment_pass() == 1
    assert waits == [1, 2, 4, 8, 16, 32, 64, 120]  # in 15-second steps, at most every 30 minutes
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING and order.progress["fulfilment_checks"] == 8


def test_an_order_microsoft_cancels_fails_in_the_buyers_terms(
    client, owner, owner_draft, sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    requests.post(f"{sandbox.url}/_sandbox/config", json={"order_completion_seconds": 3600}, timeout=10)
    order = _place(client, owner, "cancelco", django_capture_on_commit_callbacks)
    monkeypatch.setattr(
        partner_center(),
        "get_order",
        lambda tenant_id, order_id: PartnerOrder(id=order_id, status="cancelled"),
    )
    _make_due(order)
    provisioning.orders_follow_fulfilment_pass()
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.failure_reason == provisioning.CANCELLED_REASON


def test_an_outage_while_following_never_fails_an_order_microsoft_accepted(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks
):
    requests.post(f"{sandbox.url}/_sandbox/config", json={"order_completion_seconds": 0.2}, timeout=10)
    order = _place(client, owner, "outagefollow", django_capture_on_commit_callbacks)
    outage = {"fail": {"count": 1000, "status": 503}, "path_contains": "/orders/"}
    requests.post(f"{sandbox.url}/_sandbox/faults", json=outage, timeout=10).raise_for_status()
    _make_due(order)
    assert provisioning.orders_follow_fulfilment_pass() == 1  # tried, Microsoft unavailable: logged, kept
    assert order_place.apply(args=[order.pk], retries=order_place.max_retries).get() == "provisioning"
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING and not order.failure_reason
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10)
    time.sleep(0.25)
    _make_due(order)
    provisioning.orders_follow_fulfilment_pass()
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_two_passes_reading_the_same_order_follow_it_up_once(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks
):
    requests.post(f"{sandbox.url}/_sandbox/config", json={"order_completion_seconds": 3600}, timeout=10)
    order = _place(client, owner, "twopasses", django_capture_on_commit_callbacks)
    _make_due(order)
    first_read = Order.objects.only("pk", "progress", "updated_at").get(pk=order.pk)
    second_read = Order.objects.only("pk", "progress", "updated_at").get(pk=order.pk)
    assert provisioning._claim_for_follow_up(first_read)
    assert not provisioning._claim_for_follow_up(second_read)


def test_the_buyer_is_told_once_whoever_finishes_the_order(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks, mailoutbox
):
    order = _place(client, owner, "toldonce", django_capture_on_commit_callbacks)
    assert order.status == Order.Status.COMPLETED
    assert mailoutbox == []  # the worker's on-commit notification did not run in this test
    for _ in range(3):  # the task, a redelivery and the fulfilment pass all finishing it
        emails.order_finished(sender=Order, order_id=order.pk)
    assert len(mailoutbox) == 1 and mailoutbox[0].subject == f"Order {order.number} is complete"


def test_orders_due_later_never_crowd_out_a_due_one(sandbox):
    from tests.factories import OrderFactory

    later = timezone.now() + timedelta(minutes=20)
    for _ in range(3):  # the oldest rows, all due later
        OrderFactory(
            status=Order.Status.PROVISIONING,
            progress={"checked_out": True, "fulfilment_next_check": later.isoformat(timespec="microseconds")},
        )
    due = OrderFactory(
        status=Order.Status.PROVISIONING,
        customer_tenant_id=CONTOSO_TENANT,
        progress={
            "agreement_accepted": True,
            "checked_out": True,
            "microsoft_orders": [],
            "fulfilment_next_check": timezone.now().isoformat(timespec="microseconds"),
        },
    )
    assert provisioning.orders_follow_fulfilment_pass(limit=1) == 1
    due.refresh_from_db()
    assert due.status == Order.Status.COMPLETED  # no Microsoft order left pending: completed


@pytest.mark.parametrize("status", [403, 404])
def test_a_refusal_while_following_never_fails_an_order_microsoft_accepted(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks, status
):
    """Microsoft placed the order (and bills it): a 403 or 404 on reading it back (a permission hiccup, a read
    before Microsoft's own copy caught up) is not "Microsoft refused the order", which tells the buyer nothing
    was placed. The order stays accepted, support sees the error, and it is followed again later."""
    requests.post(f"{sandbox.url}/_sandbox/config", json={"order_completion_seconds": 0.2}, timeout=10)
    order = _place(client, owner, f"refusedfollow{status}", django_capture_on_commit_callbacks)
    refusal = {"fail": {"count": 1, "status": status}, "path_contains": "/orders/"}
    requests.post(f"{sandbox.url}/_sandbox/faults", json=refusal, timeout=10).raise_for_status()
    _make_due(order)

    assert provisioning.orders_follow_fulfilment_pass() == 1

    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING and not order.failure_reason
    assert str(status) in order.last_error
    assert datetime.fromisoformat(order.progress["fulfilment_next_check"]) > timezone.now()
    time.sleep(0.25)
    _make_due(order)
    provisioning.orders_follow_fulfilment_pass()
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
