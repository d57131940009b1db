"""Django admin for orders: money and the new tenant's password are never editable or shown."""

import pytest
from django.urls import reverse

from tests.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_order_admin_never_shows_the_new_tenants_admin_password(admin_client):
    order = OrderFactory(
        admin_password="Tenant-Admin-Pa55word!", admin_user_name="admin@contoso.onmicrosoft.com"
    )
    OrderLineFactory(order=order, quantity=5)

    for url in [
        reverse("admin:billing_order_changelist"),
        reverse("admin:billing_order_change", args=[order.pk]),
    ]:
        page = admin_client.get(url)
        assert page.status_code == 200
        assert "Tenant-Admin-Pa55word!" not in page.content.decode()


def test_order_money_is_read_only(admin_client):
    order = OrderFactory(total="30.00")
    line = OrderLineFactory(order=order, quantity=5, unit_price="6.00")
    page = admin_client.get(reverse("admin:billing_order_change", args=[order.pk]))
    html = page.content.decode()

    assert 'name="total"' not in html
    assert 'name="lines-0-unit_price"' not in html
    assert "30.00" in html and "6.00" in html
    line.refresh_from_db()
    assert str(line.unit_price) == "6.00"
