"""Partner Center calls per checkout journey are exact: the contract's minimum plus the re-checks the spec asks for."""

import pytest

from bench import measure
from billing.models import Order

pytestmark = pytest.mark.django_db

# Each journey's calls: bench.measure.CONTRACT_MINIMUM plus the re-checks the spec asks for. New tenant: the
# domain (Partner Center + sign-in discovery) again on Checkout and on Place order (spec 3.1, 3.8), +4. Existing
# tenant: the prefix is checked once when the box is ticked, before the authorization link is made, +2. Each
# order line reads the customer's availabilities and SKU before the cart (today's offer, attestation), +2.
EXPECTED = {"new tenant (reseller)": 13, "existing tenant (reseller)": 12, "existing tenant (direct)": 13}


@pytest.fixture
def warm(sandbox):
    measure.warm_up()


def test_new_tenant_checkout_costs_exactly(
    client, owner, owner_draft, warm, eager_worker, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    calls, _ = measure.journey_new_tenant(client, lambda: django_capture_on_commit_callbacks(execute=True))
    assert Order.objects.get().status == Order.Status.COMPLETED
    assert calls == EXPECTED["new tenant (reseller)"]
    assert calls >= measure.CONTRACT_MINIMUM["new tenant (reseller)"]


def test_existing_tenant_reseller_checkout_costs_exactly(
    client, owner, owner_draft, sandbox, warm, eager_worker, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    calls = measure.journey_existing_tenant(
        client,
        lambda: django_capture_on_commit_callbacks(execute=True),
        sandbox_url=sandbox.url,
        domain="contoso.com",
        reseller=True,
    )
    assert Order.objects.get().status == Order.Status.COMPLETED
    assert calls == EXPECTED["existing tenant (reseller)"]


def test_existing_tenant_direct_checkout_costs_exactly(
    client, direct_user, direct_draft, sandbox, warm, eager_worker, django_capture_on_commit_callbacks
):
    client.force_login(direct_user)
    calls = measure.journey_existing_tenant(
        client,
        lambda: django_capture_on_commit_callbacks(execute=True),
        sandbox_url=sandbox.url,
        domain="contoso.com",
        reseller=False,
    )
    assert Order.objects.get().status == Order.Status.COMPLETED
    assert calls == EXPECTED["existing tenant (direct)"]


def test_the_agreement_template_is_read_once_an_hour(sandbox):
    from csp import provisioning
    from csp.connection import partner_center

    before = partner_center().call_count
    first = provisioning._customer_agreement_template_id()
    assert provisioning._customer_agreement_template_id() == first
    assert partner_center().call_count - before == 1
