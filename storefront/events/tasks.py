"""Celery tasks of event notifications, on their own `events` queue so a slow endpoint never holds up orders."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def delivery_attempt(delivery_id: int) -> str:
    """Sends one delivery if it is due (safe to run twice: the row is claimed first)."""
    from storefront.events import services

    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def deliveries_due() -> int:
    """Queues the retries that are due (beat runs it every 10 seconds)."""
    from storefront.events import services

    return services.deliveries_due_enqueue()
