"""Orders in admin, the Microsoft side: `billing` shows the orders and may not call `csp`, so csp registers a
subclass of billing's order admin that adds the action asking the worker to follow an order up with Microsoft."""

import logging

from django.contrib import admin, messages
from django.http import HttpRequest

from billing.admin import OrderAdmin as BillingOrderAdmin
from billing.models import Order
from csp.tasks import order_place

logger = logging.getLogger(__name__)


@admin.action(description="Follow up with Microsoft now", permissions=["change"])
def follow_up_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> None:
    """Hands the selected unfinished orders to the worker at once: it runs what is left (each step is idempotent)
    and, for an order Microsoft accepted but has not fulfilled, asks Microsoft again without waiting for beat."""
    open_ids = list(
        queryset.filter(status__in=[Order.Status.SUBMITTED, Order.Status.PROVISIONING]).values_list(
            "pk", flat=True
        )
    )
    try:
        for order_id in open_ids:
            order_place.delay(order_id)
    except Exception:  # the broker: nothing is lost, beat's passes follow every unfinished order up anyway
        logger.exception("Follow up now: the worker's queue is unreachable")
        modeladmin.message_user(
            request,
            "The worker's queue is unreachable, so nothing was handed over now. Nothing is lost: beat's resume "
            "pass and fulfilment pass follow these orders up once the queue is back.",
            messages.ERROR,
        )
        return
    if open_ids:
        modeladmin.message_user(
            request,
            f"Asked the worker to follow up {len(open_ids)} order(s) with Microsoft; refresh in a few seconds.",
            messages.SUCCESS,
        )
    skipped = queryset.count() - len(open_ids)
    if skipped:
        modeladmin.message_user(request, f"Skipped {skipped} finished order(s).", messages.WARNING)


admin.site.unregister(Order)


@admin.register(Order)
class OrderAdmin(BillingOrderAdmin):
    actions = [*(BillingOrderAdmin.actions or []), follow_up_now]
