"""The order admin's action that csp adds: follow unfinished orders up with Microsoft now."""

import pytest
from django.urls import reverse

from billing.models import Order
from csp import tasks
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_follow_up_now_hands_unfinished_orders_to_the_worker(admin_client, monkeypatch):
    pending_at_microsoft = OrderFactory(status=Order.Status.PROVISIONING, progress={"checked_out": True})
    submitted = OrderFactory()
    completed = OrderFactory(status=Order.Status.COMPLETED)
    handed = []
    monkeypatch.setattr(tasks.order_place, "delay", lambda order_id: handed.append(order_id))

    response = admin_client.post(
        reverse("admin:billing_order_changelist"),
        {
            "action": "follow_up_now",
            "_selected_action": [pending_at_microsoft.pk, submitted.pk, completed.pk],
        },
        follow=True,
    )

    assert sorted(handed) == sorted([pending_at_microsoft.pk, submitted.pk])
    text = response.content.decode()
    assert "Asked the worker to follow up 2 order(s) with Microsoft" in text
    assert "Skipped 1 finished order(s)." in text


def test_follow_up_now_with_the_broker_down_says_so_instead_of_an_error_page(admin_client, monkeypatch):
    waiting = OrderFactory()

    def broker_down(order_id):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.order_place, "delay", broker_down)

    response = admin_client.post(
        reverse("admin:billing_order_changelist"),
        {"action": "follow_up_now", "_selected_action": [waiting.pk]},
        follow=True,
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "queue is unreachable" in text and "resume pass" in text
    waiting.refresh_from_db()
    assert waiting.status == Order.Status.SUBMITTED
