"""A real Celery worker killed with SIGKILL while Microsoft is answering: the order is redelivered (acks_late) to
another worker, handed back at once when only the pool process died (reject_on_worker_lost), or queued again by beat
when the whole worker died; each rerun re-sends the same MS-RequestIds, so Microsoft ends with one of everything."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from billing.models import Order
from storefront.checkout.services import AgreementAcceptance, order_submit
from tests.sandbox_ids import FABRIKAM_MPN

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _worker(
    sandbox_url: str, name: str, pool: str, *, beat_dir: Path | None = None, **extra: str
) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PARTNER_CENTER_MODE": "sandbox",
        "PARTNER_CENTER_SANDBOX_URL": sandbox_url,
        "CELERY_VISIBILITY_TIMEOUT": "3",
        **extra,
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    args = [sys.executable, "-m", "celery", "-A", "storefront", "worker", "--pool", pool, "-c", "1"]
    if beat_dir is not None:  # the worker runs beat too, with its schedule file out of the way
        env["CELERY_BEAT_SCHEDULE_FILENAME"] = str(beat_dir / "celerybeat-schedule")
        args.append("--beat")
    args += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "info"]
    return subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(what: str, condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_worker_killed_during_the_cart_call_then_redelivered_makes_one_of_everything(
    owner, contoso, product, sandbox, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    state = sandbox.state
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"timeout": {"count": 1, "seconds": 20}, "path_contains": "/carts"},
        timeout=10,
    ).raise_for_status()
    # solo: the task runs in the process that is killed (a prefork child would outlive its parent)
    first = _worker(sandbox.url, "doomed", "solo")
    second = None
    try:
        order, created = order_submit(
            user=owner,
            lines={str(product.pk): 2},
            end_customer_id=contoso.pk,
            domain_prefix="sigkillco",
            authorization_id=None,
            mpn_id=FABRIKAM_MPN,
            agreement=AgreementAcceptance(True, "Jane", "Doe", "jane@contoso.example"),
            idempotency_key="sigkill-1",
        )
        assert created
        # Microsoft has created the cart and is "still answering" when the worker dies.
        _wait_for("the cart at Microsoft", lambda: len(state.carts) == 1, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=10)
        time.sleep(4)  # past the visibility timeout: the new worker restores the unacknowledged task on start
        second = _worker(sandbox.url, "survivor", "prefork")
        _wait_for(
            "the redelivered order to complete",
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED,
            90,
        )
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
    customers = [c for c in state.customers.values() if c.billing_profile]
    created_here = [c for c in customers if state.tenants[c.tenant_id].initial_domain.startswith("sigkillco")]
    assert len(created_here) == 1
    assert len(state.carts) == 1
    assert len(state.orders) == 1
    order.refresh_from_db()
    assert order.progress["cart_id"] == next(iter(state.carts))


# The broker would hand a dead worker's message back only after this long: longer than the test, so only the
# mechanisms under test (the pool's requeue, beat's resume pass) can finish the order.
NO_BROKER_REDELIVERY = "600"


def _submit(owner, contoso, product, prefix: str):
    order, created = order_submit(
        user=owner,
        lines={str(product.pk): 1},
        end_customer_id=contoso.pk,
        domain_prefix=prefix,
        authorization_id=None,
        mpn_id="1234567",
        agreement=AgreementAcceptance(True, "Jane", "Doe", "jane@contoso.example"),
        idempotency_key=f"{prefix}-1",
    )
    assert created
    return order


def _sent(sandbox, *, method: str, ends_with: str) -> list[dict]:
    log = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=10).json()["requests"]
    return [r for r in log if r["method"] == method and r["target"].split("?")[0].endswith(ends_with)]


def _pool_children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _stop(*processes) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _assert_one_of_everything(sandbox, order, prefix: str) -> None:
    state = sandbox.state
    customers = [
        c for c in state.customers.values() if state.tenants[c.tenant_id].initial_domain.startswith(prefix)
    ]
    assert len(customers) == 1
    assert (len(state.carts), len(state.orders)) == (1, 1)
    assert len(_sent(sandbox, method="POST", ends_with="/v1/customers")) == 1
    checkouts = _sent(sandbox, method="POST", ends_with="/checkout")
    assert len({r["ms_request_id"].lower() for r in checkouts}) == 1  # a re-sent checkout is the same request
    order.refresh_from_db()
    assert order.progress["cart_id"] == next(iter(state.carts))


@pytest.mark.parametrize("slow", ["/carts", "/checkout"])
def test_worker_killed_mid_call_is_resumed_by_beat_within_two_minutes_with_one_of_everything(
    slow, owner, contoso, product, sandbox, settings, tmp_path
):
    """Nobody acts: another worker's beat finds the order without progress and queues it again."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    prefix = f"resume{slow.strip('/')}"
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"timeout": {"count": 1, "seconds": 60}, "path_contains": slow},
        timeout=10,
    ).raise_for_status()
    doomed = _worker(sandbox.url, "doomed", "solo", CELERY_VISIBILITY_TIMEOUT=NO_BROKER_REDELIVERY)
    survivor = None
    try:
        order = _submit(owner, contoso, product, prefix)
        # Microsoft has acted and is "still answering" when the worker dies.
        acted = (
            (lambda: len(sandbox.state.carts) == 1) if slow == "/carts" else lambda: len(sandbox.state.orders)
        )
        _wait_for(f"Microsoft to act on {slow}", acted, 60)
        survivor = _worker(
            sandbox.url,
            "survivor",
            "prefork",
            beat_dir=tmp_path,
            CELERY_VISIBILITY_TIMEOUT=NO_BROKER_REDELIVERY,
            ORDER_STALL_SECONDS="5",
            ORDER_RESUME_SECONDS="1",
        )
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        killed_at = time.monotonic()
        _wait_for(
            "beat to resume the order and the survivor to complete it",
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED,
            120,
        )
        assert time.monotonic() - killed_at < 120
    finally:
        _stop(doomed, survivor)
    _assert_one_of_everything(sandbox, order, prefix)
    if slow == "/carts":
        assert len(_sent(sandbox, method="POST", ends_with="/checkout")) == 1


def test_pool_process_killed_mid_call_is_handed_back_at_once_with_one_of_everything(
    owner, contoso, product, sandbox, settings
):
    """Only the prefork child dies: the worker rejects the task back to the queue (no beat runs here)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"timeout": {"count": 1, "seconds": 60}, "path_contains": "/carts"},
        timeout=10,
    ).raise_for_status()
    worker = _worker(sandbox.url, "parent", "prefork", CELERY_VISIBILITY_TIMEOUT=NO_BROKER_REDELIVERY)
    try:
        order = _submit(owner, contoso, product, "poolkill")
        _wait_for("the cart at Microsoft", lambda: len(sandbox.state.carts) == 1, 60)
        children = _pool_children(worker.pid)
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)
        _wait_for(
            "the handed-back order to complete",
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED,
            90,
        )
    finally:
        _stop(worker)
    _assert_one_of_everything(sandbox, order, "poolkill")
    assert len(_sent(sandbox, method="POST", ends_with="/checkout")) == 1
