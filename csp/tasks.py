"""Celery tasks decide when; the services decide what.

Every task here runs on its own schedule (its retries, or beat's next run), so each runs `on_schedule`: one
attempt per Partner Center call and run, never urllib3's retries multiplied by the task's
(`csp/partner_center/client.py::one_attempt_per_call`).
"""

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from csp import authorizations, connect, gdap, mpn_ids, polling, provisioning, webhooks
from csp.partner_center.client import one_attempt_per_call
from csp.partner_center.exceptions import TransientPartnerCenterError

P = ParamSpec("P")
R = TypeVar("R")

ORDER_GIVE_UP_REASON = (
    "Microsoft did not answer for a long time, so the order could not be placed. Nothing was charged; "
    "please contact us and we will place it for you."
)
ORDER_RETRY_FACTOR_SECONDS = 10
ORDER_RETRY_MAX_SECONDS = 600


def on_schedule(body: Callable[P, R]) -> Callable[P, R]:
    """A task body whose retry is its schedule: its Partner Center calls are sent once per run."""

    @functools.wraps(body)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_attempt_per_call():
            return body(*args, **kwargs)

    run.__signature__ = inspect.signature(body)  # type: ignore[attr-defined]  # Celery checks arguments by it
    return run


def order_retry_countdown(*, retries: int, error: TransientPartnerCenterError) -> float:
    """Full-jitter backoff from 10 s doubling, and never sooner than Microsoft's Retry-After when it sent one (a
    Retry-After of 0 must not spend the retries at once); at most 10 minutes."""
    backoff = get_exponential_backoff_interval(
        factor=ORDER_RETRY_FACTOR_SECONDS, retries=retries, maximum=ORDER_RETRY_MAX_SECONDS, full_jitter=True
    )
    if error.retry_after is not None:
        return min(max(error.retry_after, backoff), ORDER_RETRY_MAX_SECONDS)
    return backoff


# Acknowledged only when done, and handed back to the queue if the worker process running it dies: every step is
# idempotent, so a second run finishes the order once. A whole worker killed keeps its message until the broker's
# visibility timeout; beat's resume pass (orders_resume_stalled) queues such an order again within minutes.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8)
@on_schedule
def order_place(self, order_id: int) -> str:
    """Places one order with Microsoft; safe to re-run because every step is idempotent (saved MS-RequestIds)."""
    try:
        return provisioning.order_provision(order_id=order_id).status
    except TransientPartnerCenterError as error:
        if self.request.retries >= self.max_retries:
            return provisioning.order_give_up(order_id=order_id, reason=ORDER_GIVE_UP_REASON)
        delay = order_retry_countdown(retries=self.request.retries, error=error)
        provisioning.order_retry_scheduled(order_id=order_id, error=error, delay_seconds=delay)
        raise self.retry(exc=error, countdown=delay) from error


@shared_task
@on_schedule
def orders_resume_stalled() -> int:
    """Queues again the orders a dead worker left half-placed (beat runs it every ORDER_RESUME_SECONDS)."""
    stalled = provisioning.orders_resume_stalled_pass()
    for order_id in stalled:
        order_place.delay(order_id)
    return len(stalled)


@shared_task
@on_schedule
def orders_follow_fulfilment() -> int:
    """Asks Microsoft again about accepted orders it has not fulfilled yet (beat runs it every 15 seconds)."""
    return provisioning.orders_follow_fulfilment_pass()


@shared_task
@on_schedule
def network_refresh() -> int:
    """Keeps the reseller network cache fresh so the MPN check needs no call to Microsoft."""
    return mpn_ids.network_refresh()


@shared_task
@on_schedule
def authorizations_expire() -> int:
    """Expires pending authorizations older than the configured number of days."""
    return authorizations.tenant_authorizations_expire_due()


@shared_task
@on_schedule
def authorizations_poll() -> dict[str, int]:
    """One polling pass over the due pending authorizations (beat runs it every minute)."""
    return polling.authorizations_poll_pass().as_dict()


@shared_task(acks_late=True)
@on_schedule
def webhook_process(delivery_id: int) -> str:
    """Re-checks with Partner Center what a signed webhook delivery names (the polling pass is its retry)."""
    return webhooks.webhook_process(delivery_id=delivery_id).status


@shared_task(acks_late=True)
@on_schedule
def gdap_request_submit(gdap_request_id: int) -> str:
    """Creates one GDAP relationship at Microsoft and locks it for approval (safe to re-run: it looks first)."""
    return gdap.gdap_request_submit(gdap_request_id=gdap_request_id).status


@shared_task(acks_late=True)
@on_schedule
def gdap_request_refresh(gdap_request_id: int) -> str:
    """Follows one GDAP request's status at Microsoft."""
    return gdap.gdap_request_refresh(gdap_request_id=gdap_request_id).status


@shared_task
@on_schedule
def gdap_requests_follow() -> int:
    """Moves every GDAP request whose next check is due: unsent, awaiting approval, or awaiting its roles."""
    return gdap.gdap_requests_follow()


@shared_task
@on_schedule
def partner_center_connection_watch() -> str:
    """Keeps the App+User sign-in alive, and emails staff when it breaks or is about to age out."""
    return connect.connection_watch()
