"""Celery tasks decide when; the services decide what."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from csp.partner_center.exceptions import TransientPartnerCenterError

ORDER_GIVE_UP_REASON = (
    "Microsoft did not answer for a long time, so the order could not be placed. Nothing was charged; "
    "please contact us and we will place it for you."
)


# Acknowledged only when done, and handed back to the queue if the worker process running it dies: every step is
# idempotent, so a second run finishes the order once. A whole worker killed keeps its message until the broker's
# visibility timeout; beat's resume pass (orders_resume_stalled) queues such an order again within minutes.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8)
def order_place(self, order_id: int) -> str:
    """Places one order with Microsoft; safe to re-run because every step is idempotent."""
    from csp import provisioning

    try:
        return provisioning.order_provision(order_id=order_id).status
    except TransientPartnerCenterError as error:
        if self.request.retries >= self.max_retries:
            return provisioning.order_give_up(order_id=order_id, reason=ORDER_GIVE_UP_REASON)
        delay = get_exponential_backoff_interval(
            factor=10, retries=self.request.retries, maximum=600, full_jitter=True
        )
        provisioning.order_retry_scheduled(order_id=order_id, error=error, delay_seconds=delay)
        raise self.retry(exc=error, countdown=delay) from error


@shared_task
def orders_resume_stalled() -> int:
    """Queues again the orders a dead worker left half-placed (beat runs it every ORDER_RESUME_SECONDS)."""
    from csp import provisioning

    return provisioning.orders_resume_stalled_pass()


@shared_task
def orders_follow_fulfilment() -> int:
    """Asks Microsoft again about accepted orders it has not fulfilled yet (beat runs it every 15 seconds)."""
    from csp import provisioning

    return provisioning.orders_follow_fulfilment_pass()


@shared_task
def network_refresh() -> int:
    """Keeps the reseller network cache fresh so the MPN check needs no call to Microsoft."""
    from csp import mpn_ids

    return mpn_ids.network_refresh()


@shared_task
def authorizations_expire() -> int:
    """Expires pending authorizations older than the configured number of days."""
    from csp import authorizations

    return authorizations.tenant_authorizations_expire_due()


@shared_task
def authorizations_poll() -> dict[str, int]:
    """One polling pass over the due pending authorizations (beat runs it every minute)."""
    from csp import polling

    return polling.authorizations_poll_pass().as_dict()


@shared_task(acks_late=True)
def webhook_process(delivery_id: int) -> str:
    """Re-checks with Partner Center what a signed webhook delivery names."""
    from csp import webhooks

    return webhooks.webhook_process(delivery_id=delivery_id).status


@shared_task(acks_late=True)
def gdap_request_submit(gdap_request_id: int) -> str:
    """Creates one GDAP relationship at Microsoft and locks it for approval (safe to re-run: it looks first)."""
    from csp import gdap

    return gdap.gdap_request_submit(gdap_request_id=gdap_request_id).status


@shared_task(acks_late=True)
def gdap_request_refresh(gdap_request_id: int) -> str:
    """Follows one GDAP request's status at Microsoft."""
    from csp import gdap

    return gdap.gdap_request_refresh(gdap_request_id=gdap_request_id).status


@shared_task
def gdap_requests_follow() -> int:
    """Moves every GDAP request whose next check is due: unsent, awaiting approval, or awaiting its roles."""
    from csp import gdap

    return gdap.gdap_requests_follow()


@shared_task
def partner_center_connection_watch() -> str:
    """Keeps the App+User sign-in alive, and emails staff when it breaks or is about to age out."""
    from csp import connect

    return connect.connection_watch()
