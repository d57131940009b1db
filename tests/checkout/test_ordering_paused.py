"""Live mode without a Partner Center connection: buyers are told ordering is paused, and nothing changes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Order
from csp import connect, provisioning
from csp.connection import partner_center, reset_clients
from csp.partner_center.exceptions import PartnerCenterNotConnected
from csp.tasks import order_place, orders_resume_stalled
from tests.checkout.conftest import submit_new_tenant_order
from tests.faults.conftest import request_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(settings):
    settings.PARTNER_CENTER_MODE = "live"
    settings.PARTNER_CENTER_REFRESH_TOKEN = ""
    settings.PARTNER_CENTER_CLIENT_SECRET = "secret"
    reset_clients()
    yield settings
    reset_clients()


@pytest.mark.parametrize("step", ["checkout:service_details", "checkout:review"])
def test_buyers_are_told_ordering_is_paused_and_nothing_is_asked_or_changed(
    client, owner, owner_draft, live, step
):
    client.force_login(owner)
    before = (owner_draft.domain_prefix, owner_draft.mpn_id, dict(owner_draft.lines))

    answer = client.get(reverse(step))
    posted = client.post(reverse(step), {"domain_prefix": "newco", "accepted": "on"})

    for response in (answer, posted):
        assert response.status_code == 503
        assert connect.ORDERING_PAUSED_MESSAGE in response.content.decode()
    owner_draft.refresh_from_db()
    assert (owner_draft.domain_prefix, owner_draft.mpn_id, dict(owner_draft.lines)) == before
    assert partner_center().call_count == 0


def test_the_htmx_check_answers_the_pause_in_place(client, owner, owner_draft, live):
    client.force_login(owner)

    answer = client.post(
        reverse("checkout:service_details_check"),
        {"domain_prefix": "newco", "check": "domain"},
        HTTP_HX_REQUEST="true",
    )

    assert answer.status_code == 200
    assert connect.ORDERING_PAUSED_MESSAGE in answer.content.decode()


def _waiting_for_the_connection(order) -> bool:
    order.refresh_from_db()
    return (
        order.status in (Order.Status.SUBMITTED, Order.Status.PROVISIONING)
        and order.waiting_on_microsoft
        and connect.ORDERING_PAUSED_MESSAGE in order.last_error
    )


def test_an_order_placed_before_the_connection_broke_waits_and_is_placed_once_reconnected(
    client,
    owner,
    owner_draft,
    sandbox,
    settings,
    monkeypatch,
    eager_worker,
    django_capture_on_commit_callbacks,
):
    order, _ = submit_new_tenant_order(client, owner, "pausedco", django_capture_on_commit_callbacks)
    monkeypatch.setattr(connect, "partner_center_connected", lambda: False)

    order_place.delay(order.pk)

    assert _waiting_for_the_connection(order)
    assert not [r for r in request_log(sandbox) if "/v1/customers" in r["target"]]  # Microsoft was not asked
    monkeypatch.undo()  # an admin connected again
    settings.ORDER_STALL_SECONDS = 60
    Order.objects.filter(pk=order.pk).update(
        updated_at=timezone.now() - timedelta(hours=1), next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    assert orders_resume_stalled() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_an_order_whose_sign_in_is_refused_midway_waits_instead_of_failing(
    client, owner, owner_draft, sandbox, monkeypatch, eager_worker, django_capture_on_commit_callbacks
):
    order, _ = submit_new_tenant_order(client, owner, "refusedco", django_capture_on_commit_callbacks)

    def refused(order):
        raise PartnerCenterNotConnected("AADSTS700082: the refresh token has expired", error="invalid_grant")

    monkeypatch.setattr(provisioning, "_create_customer", refused)
    order_place.delay(order.pk)

    assert _waiting_for_the_connection(order)
    assert order.failure_reason == ""


def test_the_buyers_order_page_says_it_waits_for_our_connection_not_for_microsoft(
    client, owner, owner_draft, sandbox, settings, eager_worker, django_capture_on_commit_callbacks
):
    """ "Microsoft is not answering" was wrong while it is our connection that is paused: the buyer is told their
    order is kept and placed once we have reconnected."""
    order, _ = submit_new_tenant_order(client, owner, "pausedpage", django_capture_on_commit_callbacks)
    settings.PARTNER_CENTER_MODE = "live"  # and nobody connected
    settings.PARTNER_CENTER_REFRESH_TOKEN = ""
    reset_clients()
    order_place.delay(order.pk)
    reset_clients()

    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    assert "Microsoft is not answering" not in page
    assert "Ordering with Microsoft is paused while we reconnect" in page
    assert "your order is kept" in page


def test_a_resent_place_order_lands_on_its_order_while_ordering_is_paused(
    client, owner, owner_draft, sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    """The buyer pressed Place order, the answer was lost, the connection broke: pressing it again shows the order
    placed, not "Ordering is paused ... try again later" (which says it was not placed)."""
    from tests.checkout.conftest import AGREEMENT

    order, _ = submit_new_tenant_order(client, owner, "resentpaused", django_capture_on_commit_callbacks)
    monkeypatch.setattr(connect, "partner_center_connected", lambda: False)

    again = client.post(reverse("checkout:review"), AGREEMENT)

    assert again.status_code == 302
    assert again["Location"] == reverse("orders:detail", args=[order.pk])
    assert Order.objects.count() == 1
    assert client.get(reverse("checkout:review")).status_code == 503  # a new order is still paused
