"""While Microsoft does not answer, the buyer's order page says so and support sees the retries; beat resumes an
order no worker has advanced (its worker died), once, and leaves alone the orders a worker or a retry still holds."""

import time
from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import Order
from csp import provisioning
from csp.partner_center.exceptions import TransientPartnerCenterError
from csp.tasks import order_place, orders_resume_stalled
from tests.checkout.conftest import submit_new_tenant_order
from tests.faults.conftest import request_log
from tests.sandbox_ids import FABRIKAM_MPN

pytestmark = pytest.mark.django_db
WAITING = "Microsoft is not answering; we keep trying and will email you."


def _page(client, order) -> str:
    return client.get(reverse("orders:detail", args=[order.pk])).content.decode().replace("&#x27;", "'")


def test_an_order_waiting_on_microsoft_says_so_and_support_sees_the_retries(
    client, owner, owner_draft, staff_user, sandbox, faults, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "downco", django_capture_on_commit_callbacks)
    faults(fail={"count": 1000, "status": 503}, path_contains="/v1/customers")
    with pytest.raises(TransientPartnerCenterError):
        order_place.run(order.pk)
    order.refresh_from_db()
    assert (order.status, order.attempts) == (Order.Status.PROVISIONING, 1)
    assert order.waiting_on_microsoft
    assert "503" in order.last_error or "Microsoft" in order.last_error
    # the task's backoff: up to 10 s after the first failure (full jitter), then doubling to 10 minutes
    assert order.next_attempt_at <= timezone.now() + timedelta(seconds=11)

    page = _page(client, order)
    assert WAITING in page
    assert "<strong>Status:</strong> Provisioning" not in page
    # the live update swaps the message in while the status itself stays "provisioning"
    progress = reverse("orders:progress", args=[order.pk])
    assert client.get(progress, {"status": "provisioning", "waiting": "0"}).status_code == 200
    assert WAITING in client.get(progress, {"status": "provisioning", "waiting": "0"}).content.decode()
    assert client.get(progress, {"status": "provisioning", "waiting": "1"}).status_code == 204

    client.force_login(staff_user)
    admin_page = client.get(reverse("admin:billing_order_change", args=[order.pk])).content.decode()
    for label in ("Attempts with Microsoft", "Last error from Microsoft", "Next try"):
        assert label in admin_page
    assert order.last_error.split(":")[0] in admin_page
    client.force_login(owner)

    faults()  # Microsoft answers again; the retry the task planned completes the order and emails the buyer
    with django_capture_on_commit_callbacks(execute=True):
        order_place.run(order.pk)
    order.refresh_from_db()
    assert (order.status, order.attempts, order.waiting_on_microsoft) == (Order.Status.COMPLETED, 2, False)
    assert order.last_error  # kept for support
    assert WAITING not in _page(client, order)
    assert [m.to for m in mail.outbox] == [[owner.email]]


def _stalled(order: Order, *, seconds: int, **fields) -> None:
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds), **fields)


def test_beat_resumes_an_order_a_dead_worker_left_half_placed_once(
    client, owner, owner_draft, sandbox, settings, eager_worker, django_capture_on_commit_callbacks
):
    settings.ORDER_STALL_SECONDS = 60
    order, _ = submit_new_tenant_order(client, owner, "halfco", django_capture_on_commit_callbacks)
    # The worker created the customer, saved the cart's request id, and died in the cart call.
    with pytest.raises(RuntimeError):
        real = provisioning._cart_and_checkout
        provisioning._cart_and_checkout = lambda o: (provisioning._progress_step(o, "cart"), 1 / 0)
        try:
            provisioning.order_provision(order_id=order.pk)
        except ZeroDivisionError as error:
            raise RuntimeError("worker died") from error
        finally:
            provisioning._cart_and_checkout = real
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING and order.progress["customer_created"]

    assert orders_resume_stalled() == 0  # a worker may still be on it
    _stalled(order, seconds=61)
    assert orders_resume_stalled() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    assert orders_resume_stalled() == 0
    customers = [r for r in request_log(sandbox) if r["method"] == "POST" and r["target"] == "/v1/customers"]
    checkouts = [r for r in request_log(sandbox) if r["target"].endswith("/checkout")]
    assert (len(customers), len(checkouts)) == (1, 1)


def test_beat_leaves_alone_orders_a_retry_or_the_fulfilment_pass_holds(
    client, owner, owner_draft, sandbox, settings, eager_worker, django_capture_on_commit_callbacks
):
    settings.ORDER_STALL_SECONDS = 60
    order, _ = submit_new_tenant_order(client, owner, "heldco", django_capture_on_commit_callbacks)
    _stalled(order, seconds=3600, status=Order.Status.PROVISIONING, next_attempt_at=timezone.now())
    assert orders_resume_stalled() == 0  # the planned retry is not overdue
    _stalled(order, seconds=3600, progress={"checked_out": True})
    assert orders_resume_stalled() == 0  # Microsoft accepted it: the fulfilment pass follows
    _stalled(order, seconds=3600, status=Order.Status.FAILED, progress={})
    assert orders_resume_stalled() == 0
    _stalled(order, seconds=3600, status=Order.Status.SUBMITTED, next_attempt_at=None)
    assert orders_resume_stalled() == 1  # never picked up (say the broker lost it)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_place_order_with_the_broker_down_keeps_the_order_and_beat_places_it(
    client,
    owner,
    owner_draft,
    sandbox,
    settings,
    monkeypatch,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    """The buyer sees the order page, not an error; what they ordered waits for the resume pass."""

    def broker_down(order_id):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(order_place, "delay", broker_down)
    order, _ = submit_new_tenant_order(
        client, owner, "brokerdown", lambda: django_capture_on_commit_callbacks(execute=True)
    )
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED
    monkeypatch.undo()
    settings.ORDER_STALL_SECONDS = 60
    _stalled(order, seconds=3600, status=Order.Status.SUBMITTED, next_attempt_at=None)
    assert orders_resume_stalled() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_a_slow_microsoft_answers_the_page_within_its_time(client, owner, owner_draft, sandbox, settings):
    """The page's calls together get PARTNER_CENTER_PAGE_SECONDS (csp/middleware.py): the buyer is told to try
    again, with what they typed kept, long before the web server would kill the request."""
    settings.PARTNER_CENTER_TIMEOUT = 10  # the worker's patience, not the 0.3 s of these fault tests
    settings.PARTNER_CENTER_PAGE_SECONDS = 1
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"latency_ms": 4000, "path_contains": "/v1/domains"},
        timeout=10,
    )
    client.force_login(owner)

    started = time.monotonic()
    response = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "slowco", "mpn_id": FABRIKAM_MPN},
        HTTP_HX_REQUEST="true",
    )

    assert time.monotonic() - started < 3
    text = response.content.decode()
    assert "We could not reach Microsoft" in text and "nothing you entered has been lost" in text
    owner_draft.refresh_from_db()
    assert owner_draft.domain_prefix == "slowco"


def test_the_default_stall_and_beat_interval_resume_within_two_minutes(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["resume-stalled-orders"]
    assert schedule["task"] == "csp.tasks.orders_resume_stalled"
    assert settings.ORDER_STALL_SECONDS + schedule["schedule"] <= 90
    assert order_place.acks_late and order_place.reject_on_worker_lost


def test_an_order_whose_checkout_went_unanswered_is_never_given_up_as_not_charged(
    client, owner, owner_draft, sandbox, settings, faults, eager_worker, django_capture_on_commit_callbacks
):
    """The checkout was sent and Microsoft never answered it (it may well have placed the order): after the last
    retry the order is not failed with "Nothing was charged" (the buyer would order again, and pay twice); it
    keeps waiting on Microsoft, beat resumes it with the same MS-RequestId, and Microsoft gets one order."""
    settings.ORDER_STALL_SECONDS = 60
    order, _ = submit_new_tenant_order(client, owner, "lostco", django_capture_on_commit_callbacks)
    faults(fail={"count": 1000, "status": 503}, path_contains="/checkout")
    with pytest.raises(TransientPartnerCenterError):
        order_place.run(order.pk)
    order.refresh_from_db()
    assert order.progress.get("checkout_request_id") and not order.progress.get("checked_out")

    with django_capture_on_commit_callbacks(execute=True):
        order_place.apply(args=[order.pk], retries=order_place.max_retries)  # the last retry fails too
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING, order.failure_reason
    assert order.waiting_on_microsoft and not mail.outbox
    assert WAITING in _page(client, order)

    faults()  # Microsoft answers again: beat resumes the order once it is stalled
    _stalled(order, seconds=3600, next_attempt_at=timezone.now() - timedelta(seconds=3600))
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_resume_stalled() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    checkouts = [r for r in request_log(sandbox) if r["target"].endswith("/checkout")]
    assert len({r["ms_request_id"] for r in checkouts}) == 1
    assert [m.subject for m in mail.outbox] == [f"Order {order.number} is complete"]


def test_an_order_given_up_before_its_checkout_was_sent_fails_and_says_nothing_was_charged(
    client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "neverco", django_capture_on_commit_callbacks)
    faults(fail={"count": 1000, "status": 503}, path_contains="/v1/customers")
    with django_capture_on_commit_callbacks(execute=True):
        order_place.apply(args=[order.pk], retries=order_place.max_retries)
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED and "Nothing was charged" in order.failure_reason
    assert [m.to for m in mail.outbox] == [[owner.email]]


@pytest.mark.parametrize("code", [800060, 800064])
def test_microsoft_still_processing_the_checkout_is_waited_for_not_failed(
    code, client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    """409 800060 ("an order is already in progress") or 800064 ("cart being processed by another request") answer
    a checkout retried while Microsoft still works on the first one: in progress, not refused (partner-center-api.md
    section 9). Failing the order would have the buyer order, and pay, again."""
    order, _ = submit_new_tenant_order(client, owner, f"busy{code}", django_capture_on_commit_callbacks)
    faults(fail={"count": 1, "status": 409, "code": code}, path_contains="/checkout")
    with pytest.raises(TransientPartnerCenterError):
        order_place.run(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING and order.waiting_on_microsoft, order.failure_reason

    with django_capture_on_commit_callbacks(execute=True):
        order_place.run(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    checkouts = [r for r in request_log(sandbox) if r["target"].endswith("/checkout")]
    assert len({r["ms_request_id"] for r in checkouts}) == 1
