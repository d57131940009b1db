"""Placing orders while Microsoft misbehaves, and a worker dying midway: Microsoft ends with exactly one customer,
one cart checkout and one order per storefront order."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Order
from csp import provisioning
from csp.connection import partner_center
from csp.partner_center.exceptions import TransientPartnerCenterError
from csp.tasks import order_place, order_retry_countdown
from tests.checkout.conftest import submit_new_tenant_order
from tests.faults.conftest import request_log
from tests.sandbox_ids import FABRIKAM_TENANT

pytestmark = pytest.mark.django_db

# Each task run sends each call once (csp/tasks.py::on_schedule): two faults cost the order two runs.
FAULTS = 2
KINDS = {
    "throttle": {"throttle": {"count": FAULTS, "retry_after": 0}},
    "fail": {"fail": {"count": FAULTS, "status": 503}},
    "timeout": {"timeout": {"count": FAULTS, "seconds": 0.5}},
    "reset": {"reset": {"count": FAULTS}},
}
# The sandbox's create-customer is POST /v1/customers; every later call names /v1/customers/<id>/...
STEPS = {"customer": ("POST", "/v1/customers"), "cart": ("POST", "/carts"), "checkout": ("POST", "/checkout")}


def _microsoft_counts(sandbox, prefix):
    state = sandbox.state
    customers = [
        c for c in state.customers.values() if state.tenants[c.tenant_id].initial_domain.startswith(prefix)
    ]
    ids = {c.tenant_id for c in customers}
    carts = [c for c in state.carts.values() if c["_customer_id"] in ids]
    checked_out = [c for c in carts if c["status"].lower() != "active"]
    cart_ids = {c["id"] for c in carts}
    orders = [o for o in state.orders.values() if o["_cart_id"] in cart_ids]
    return len(customers), len(carts), len(checked_out), len(orders)


def _sent(sandbox, step: str) -> list[dict]:
    """The requests of one step that reached the sandbox."""
    method, path = STEPS[step]
    return [
        r
        for r in request_log(sandbox)
        if r["method"] == method
        and (r["target"] == path if step == "customer" else r["target"].endswith(path))
    ]


def deliver(order_id: int, *, times: int = 5) -> int:
    """What the broker does: hand the task to a worker again after a transient failure; returns the runs made."""
    for run in range(1, times + 1):
        try:
            order_place.run(order_id)
            return run
        except TransientPartnerCenterError:
            continue
    return times


@pytest.mark.parametrize("step", ["customer", "cart", "checkout"])
@pytest.mark.parametrize("kind", KINDS)
def test_new_tenant_order_survives_a_fault_storm_with_one_call_per_run_and_one_of_everything_at_microsoft(
    kind, step, client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    prefix = f"storm{kind}{step}"
    order, _ = submit_new_tenant_order(client, owner, prefix, django_capture_on_commit_callbacks)
    method, path = STEPS[step]
    faults(**KINDS[kind], path_contains=path)
    assert deliver(order.pk) == FAULTS + 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    assert order.attempts == FAULTS + 1
    assert _microsoft_counts(sandbox, prefix) == (1, 1, 1, 1)
    # exactly one call per run to the failing step, every one with the step's saved MS-RequestId
    request_id = order.progress[f"{step}_request_id"].lower()
    assert [(r["ms_request_id"] or "").lower() for r in _sent(sandbox, step)] == [request_id] * (FAULTS + 1)
    for other in set(STEPS) - {step}:
        assert len(_sent(sandbox, other)) == 1, other
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Completed" in page or "completed" in page


@pytest.mark.parametrize("step", ["customer", "cart", "checkout"])
def test_unreadable_answer_while_placing_is_retried_with_the_same_request_id_and_creates_nothing_twice(
    step, client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    """Microsoft may have acted before its answer got garbled: the worker's next run re-sends the same MS-RequestId."""
    prefix = f"garbled{step}"
    order, _ = submit_new_tenant_order(client, owner, prefix, django_capture_on_commit_callbacks)
    faults(malformed={"count": 1}, path_contains=STEPS[step][1])
    assert deliver(order.pk) == 2
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    assert _microsoft_counts(sandbox, prefix) == (1, 1, 1, 1)
    request_id = order.progress[f"{step}_request_id"].lower()
    assert [(r["ms_request_id"] or "").lower() for r in _sent(sandbox, step)] == [request_id] * 2


def test_refusal_while_placing_fails_the_order_with_a_reason_in_the_buyers_terms(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "refusedco", django_capture_on_commit_callbacks)
    sandbox.state.resellers[FABRIKAM_TENANT].mpa_signed = False
    assert deliver(order.pk) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert "has not accepted the Microsoft Partner Agreement" in order.failure_reason
    assert "Traceback" not in order.failure_reason
    customers, carts, _, orders = _microsoft_counts(sandbox, "refusedco")
    assert (customers, carts, orders) == (1, 0, 0)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "has not accepted the Microsoft Partner Agreement" in page.replace("&#x27;", "'")


def test_microsoft_down_for_n_runs_gets_exactly_n_calls_then_the_last_retry_gives_up_in_the_buyers_terms(
    client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "outageco", django_capture_on_commit_callbacks)
    faults(fail={"count": 1000, "status": 503}, path_contains="/v1/customers")
    runs = 3
    assert deliver(order.pk, times=runs) == runs
    request_id = Order.objects.get(pk=order.pk).progress["customer_request_id"]
    assert [r["ms_request_id"] for r in _sent(sandbox, "customer")] == [request_id] * runs
    order.refresh_from_db()
    assert (order.status, order.attempts) == (Order.Status.PROVISIONING, runs)
    # the last retry the task allows makes its one call, then gives up in the buyer's terms
    assert order_place.apply(args=[order.pk], retries=order_place.max_retries).get() == "failed"
    assert len(_sent(sandbox, "customer")) == runs + 1
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert "Microsoft did not answer" in order.failure_reason
    assert _microsoft_counts(sandbox, "outageco") == (0, 0, 0, 0)


def test_a_throttled_run_retries_after_microsofts_retry_after(
    client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "throttledco", django_capture_on_commit_callbacks)
    faults(throttle={"count": 1, "retry_after": 45}, path_contains="/v1/customers")
    before = timezone.now()
    with pytest.raises(TransientPartnerCenterError) as raised:
        order_place.run(order.pk)
    assert raised.value.status == 429 and raised.value.retry_after == 45
    assert len(_sent(sandbox, "customer")) == 1  # nobody slept 45 s inside the call: the task waits instead
    order.refresh_from_db()
    assert before + timedelta(seconds=45) <= order.next_attempt_at <= timezone.now() + timedelta(seconds=45)
    assert order_retry_countdown(retries=0, error=raised.value) == 45
    assert order_retry_countdown(retries=0, error=TransientPartnerCenterError("x", retry_after=3600)) == 600
    assert 0 <= order_retry_countdown(retries=2, error=TransientPartnerCenterError("x")) <= 40


def test_a_retry_after_of_zero_does_not_burn_the_orders_retries_in_seconds():
    """Microsoft throttling with `Retry-After: 0` (or a date already past) must not spend the 8 retries at once and
    fail the order within seconds: Retry-After is the earliest retry, the task's own backoff still spreads them."""
    now = TransientPartnerCenterError("throttled", status=429, retry_after=0.0)
    waits = [order_retry_countdown(retries=5, error=now) for _ in range(200)]
    assert sum(waits) / len(waits) > 100  # full jitter up to 320 s, as without a Retry-After
    assert max(waits) <= 320


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the code can catch it and carry on."""


@pytest.mark.parametrize(
    "dies_after", ["create_customer", "accept_customer_agreement", "create_cart", "checkout_cart"]
)
def test_worker_killed_after_microsoft_acted_then_redelivered_makes_one_of_everything(
    dies_after, client, owner, owner_draft, sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(
        client, owner, f"killed{dies_after.replace('_', '')[:18]}", django_capture_on_commit_callbacks
    )
    prefix = order.domain_prefix
    pc = partner_center()
    real = getattr(pc, dies_after)

    def acts_then_dies(*args, **kwargs):
        real(*args, **kwargs)  # Microsoft has done it; the answer never reaches our database
        raise WorkerKilled

    monkeypatch.setattr(pc, dies_after, acts_then_dies)
    with pytest.raises(WorkerKilled):
        order_place.run(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING
    monkeypatch.setattr(pc, dies_after, real)
    # acks_late: the broker hands the unacknowledged message to another worker
    assert order_place.acks_late
    order_place.run(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    assert _microsoft_counts(sandbox, prefix) == (1, 1, 1, 1)
    # and a third delivery of the same message changes nothing
    calls = pc.call_count
    assert provisioning.order_provision(order_id=order.pk).status == Order.Status.COMPLETED
    assert pc.call_count == calls
