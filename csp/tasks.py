"""Celery tasks decide when; the services decide what."""

from celery import shared_task

from csp.partner_center.exceptions import TransientPartnerCenterError

ORDER_GIVE_UP_REASON = (
    "Microsoft did not answer for a long time, so the order could not be placed. Nothing was charged; "
    "please contact us and we will place it for you."
)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(TransientPartnerCenterError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
)
def order_place(self, order_id: int) -> str:
    """Places one order with Microsoft; safe to re-run because every step is idempotent."""
    from csp import provisioning

    try:
        return provisioning.order_provision(order_id=order_id).status
    except TransientPartnerCenterError:
        if self.request.retries >= self.max_retries:
            provisioning.order_give_up(order_id=order_id, reason=ORDER_GIVE_UP_REASON)
            return "failed"
        raise


@shared_task
def network_refresh() -> int:
    """Keeps the reseller network cache fresh so the MPN check needs no call to Microsoft."""
    from csp import services

    return services.network_refresh()


@shared_task
def authorizations_expire() -> int:
    """Expires pending authorizations older than the configured number of days."""
    from csp import services

    return services.tenant_authorizations_expire_due()
