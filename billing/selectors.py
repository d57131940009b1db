"""Reads of orders, scoped to the organisation asking: another organisation's order answers 404."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from billing.models import Order
from billing.sealing import unseal


def orders_for(*, organization_id: int | None) -> QuerySet[Order]:
    return Order.objects.filter(organization_id=organization_id).select_related(
        "end_customer", "organization"
    )


def order_get(*, organization_id: int | None, order_id: int) -> Order:
    return get_object_or_404(
        orders_for(organization_id=organization_id).prefetch_related("lines"),
        pk=order_id,
    )


def order_admin_login_reveal(*, order: Order) -> dict[str, str] | None:
    """The new tenant's admin user name and password, handed out once and then wiped."""
    if order.status != Order.Status.COMPLETED or not order.admin_password:
        return None
    password = unseal(order.admin_password)
    updated = Order.objects.filter(pk=order.pk, admin_password=order.admin_password).update(
        admin_password="", admin_password_shown_at=timezone.now()
    )
    if not updated or not password:
        return None
    return {"user_name": order.admin_user_name, "password": password}
