"""A real Celery worker killed with SIGKILL while Microsoft is answering the cart call: the order is redelivered
(acks_late) to another worker, which re-sends the same MS-RequestId, so Microsoft ends with one of everything."""

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


def _worker(sandbox_url: str, name: str, pool: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "PARTNER_CENTER_MODE": "sandbox",
        "PARTNER_CENTER_SANDBOX_URL": sandbox_url,
        "CELERY_VISIBILITY_TIMEOUT": "3",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    args = [sys.executable, "-m", "celery", "-A", "storefront", "worker", "--pool", pool, "-c", "1"]
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
