"""Placing orders while Microsoft misbehaves, and a worker dying midway: Microsoft ends with exactly one customer,
one cart checkout and one order per storefront order."""

import pytest
from django.urls import reverse

from billing.models import Order
from csp import provisioning
from csp.connection import partner_center
from csp.partner_center.exceptions import TransientPartnerCenterError
from csp.tasks import order_place
from tests.checkout.conftest import submit_new_tenant_order
from tests.faults.conftest import request_log
from tests.sandbox_ids import FABRIKAM_TENANT

pytestmark = pytest.mark.django_db

# Five faults: the client's four attempts all fail, the task retries, and the fifth fault is used up there.
KINDS = {
    "throttle": {"throttle": {"count": 5, "retry_after": 0}},
    "fail": {"fail": {"count": 5, "status": 503}},
    "timeout": {"timeout": {"count": 5, "seconds": 0.5}},
    "reset": {"reset": {"count": 5}},
}
# The sandbox's create-customer is POST /v1/customers; every later call names /v1/customers/<id>/...
STEPS = {"customer": "/v1/customers", "cart": "/carts", "checkout": "/checkout"}


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


def deliver(order_id: int, *, times: int = 5) -> None:
    """What the broker does: hand the task to a worker again after a transient failure (acks_late, retry)."""
    for _ in range(times):
        try:
            order_place.run(order_id)
            return
        except TransientPartnerCenterError:
            continue


@pytest.mark.parametrize("step", ["customer", "cart", "checkout"])
@pytest.mark.parametrize("kind", KINDS)
def test_new_tenant_order_survives_a_fault_storm_with_one_of_everything_at_microsoft(
    kind, step, client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    prefix = f"storm{kind}{step}"
    order, _ = submit_new_tenant_order(client, owner, prefix, django_capture_on_commit_callbacks)
    faults(**KINDS[kind], path_contains=STEPS[step])
    deliver(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    assert _microsoft_counts(sandbox, prefix) == (1, 1, 1, 1)
    # every attempt of one logical call carried the same MS-RequestId
    for key in ("customer", "cart", "checkout"):
        request_id = order.progress[f"{key}_request_id"]
        sent = [r for r in request_log(sandbox) if (r["ms_request_id"] or "").lower() == request_id.lower()]
        assert sent, key
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Completed" in page or "completed" in page


@pytest.mark.parametrize("step", ["customer", "cart", "checkout"])
def test_unreadable_answer_while_placing_is_retried_with_the_same_request_id_and_creates_nothing_twice(
    step, client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    """Microsoft may have acted before its answer got garbled: the worker re-sends the same MS-RequestId."""
    prefix = f"garbled{step}"
    order, _ = submit_new_tenant_order(client, owner, prefix, django_capture_on_commit_callbacks)
    faults(malformed={"count": 1}, path_contains=STEPS[step])
    deliver(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, order.failure_reason
    assert _microsoft_counts(sandbox, prefix) == (1, 1, 1, 1)


def test_refusal_while_placing_fails_the_order_with_a_reason_in_the_buyers_terms(
    client, owner, owner_draft, sandbox, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "refusedco", django_capture_on_commit_callbacks)
    sandbox.state.resellers[FABRIKAM_TENANT].mpa_signed = False
    deliver(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert "has not accepted the Microsoft Partner Agreement" in order.failure_reason
    assert "Traceback" not in order.failure_reason
    customers, carts, _, orders = _microsoft_counts(sandbox, "refusedco")
    assert (customers, carts, orders) == (1, 0, 0)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "has not accepted the Microsoft Partner Agreement" in page.replace("&#x27;", "'")


def test_outage_longer_than_every_retry_fails_the_order_in_the_buyers_terms(
    client, owner, owner_draft, sandbox, faults, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "outageco", django_capture_on_commit_callbacks)
    faults(fail={"count": 1000, "status": 503}, path_contains="/v1/customers")
    deliver(order.pk, times=2)
    # the last retry the task allows gives up in the buyer's terms
    assert order_place.apply(args=[order.pk], retries=order_place.max_retries).get() == "failed"
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert "Microsoft did not answer" in order.failure_reason
    assert _microsoft_counts(sandbox, "outageco") == (0, 0, 0, 0)


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
