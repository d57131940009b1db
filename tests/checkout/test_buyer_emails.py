"""The buyers' emails listen to csp's signals: a verified authorization and a finished order email the buyer who
asked exactly once (however often the worker, the fulfilment pass or a redelivery announces it), and never a user
who is no longer one of the organisation's (moved to another organisation, or deactivated)."""

import pytest
from django.core import mail

from billing.models import Order
from csp import authorizations, provisioning
from tests.factories import OrderFactory, OrganizationFactory, TenantAuthorizationFactory

pytestmark = pytest.mark.django_db
TENANT = "0d6c0a1e-0000-4000-8000-00000000e3a1"


def _verify(authorization) -> bool:
    return authorizations.tenant_authorization_mark_verified(
        authorization=authorization, tenant_id=TENANT, actor="worker", answer="The customer accepted."
    )


def test_a_verified_authorization_emails_the_buyer_once_however_often_it_is_verified(
    owner, reseller, django_capture_on_commit_callbacks
):
    authorization = TenantAuthorizationFactory(
        organization=reseller, requested_by=owner, expected_tenant_id=TENANT
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _verify(authorization)
    with django_capture_on_commit_callbacks(execute=True):  # the polling pass or a webhook, a moment later
        stale = type(authorization).objects.get(pk=authorization.pk)
        stale.status = "pending"
        assert not _verify(stale)
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([owner.email], f"Authorization verified for {authorization.default_domain}")
    ]


def test_a_finished_order_emails_the_buyer_once_whoever_announces_it(owner, reseller):
    order = OrderFactory(organization=reseller, placed_by=owner, status=Order.Status.COMPLETED)
    for _ in range(3):  # the worker, the fulfilment pass, a redelivered task
        provisioning._order_finished(order.pk)
    assert [m.to for m in mail.outbox] == [[owner.email]]


@pytest.mark.parametrize("change", ["moved", "deactivated"])
def test_a_user_no_longer_in_the_organisation_is_not_told_about_its_tenants_or_orders(
    owner, reseller, change, django_capture_on_commit_callbacks
):
    authorization = TenantAuthorizationFactory(
        organization=reseller, requested_by=owner, expected_tenant_id=TENANT
    )
    order = OrderFactory(organization=reseller, placed_by=owner, status=Order.Status.COMPLETED)
    if change == "moved":
        owner.organization = OrganizationFactory(company_name="Adatum Cloud Partners", mpn_id="2345678")
    else:
        owner.is_active = False
    owner.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert _verify(authorization)
    provisioning._order_finished(order.pk)
    assert mail.outbox == []
