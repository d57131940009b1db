"""The billing-address rule has one home (`billing_address_required` / `billing_address_missing`); the step guard,
the Customer step, Place order, the API and the worker all follow it."""

import pytest
from django.urls import reverse

from billing.models import Order
from csp import provisioning
from storefront.checkout import services
from tests.api.conftest import api_client_for, assert_error
from tests.factories import (
    DirectCustomerFactory,
    EndCustomerFactory,
    OrderFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NO_ADDRESS = {"address_line1": "", "city": "", "postal_code": "", "country": "", "state": ""}
AGREEMENT = {"first_name": "Jane", "last_name": "Doe", "email": "jane@contoso.example", "accepted": "on"}


@pytest.mark.parametrize(
    ("kind", "switch", "has_address", "required", "missing"),
    [
        ("reseller", False, False, False, False),
        ("reseller", False, True, False, False),
        ("reseller", True, False, True, True),
        ("reseller", True, True, True, False),
        ("direct", False, False, True, True),
        ("direct", True, True, True, False),
    ],
)
def test_the_rule_follows_the_switch_for_resellers_and_always_applies_to_direct_customers(
    storefront_config, kind, switch, has_address, required, missing
):
    storefront_config.sub_customers_billing_address = switch
    storefront_config.save()
    address = {} if has_address else NO_ADDRESS
    if kind == "reseller":
        organization = OrganizationFactory()
        end_customer = EndCustomerFactory(reseller=organization, **address)
    else:
        organization = DirectCustomerFactory(**address)
        end_customer = None
    assert services.billing_address_required(organization=organization) is required
    assert services.billing_address_missing(organization=organization, end_customer=end_customer) is missing


def test_a_reseller_without_a_chosen_end_customer_is_missing_the_address_when_required(storefront_config):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    assert services.billing_address_missing(organization=OrganizationFactory(), end_customer=None) is True


def test_the_step_guard_sends_a_direct_customer_without_an_address_back_to_the_customer_step(
    client, direct_user, direct_draft
):
    organization = direct_user.organization
    for name, value in NO_ADDRESS.items():
        setattr(organization, name, value)
    organization.save()
    client.force_login(direct_user)
    response = client.get(reverse("checkout:service_details"))
    assert response["Location"] == reverse("checkout:customer")
    page = client.get(response["Location"]).content.decode()
    assert "Microsoft needs the customer&#x27;s billing address: please complete it." in page


def test_the_customer_step_keeps_an_end_customer_without_address_until_it_is_completed(
    client, owner, owner_draft, storefront_config
):
    storefront_config.sub_customers_billing_address = True
    storefront_config.save()
    bare = EndCustomerFactory(reseller=owner.organization, company_name="Bare Ltd", **NO_ADDRESS)
    client.force_login(owner)
    response = client.post(reverse("checkout:customer"), {"end_customer": str(bare.pk)})
    assert response.status_code == 200
    assert "Complete Bare Ltd&#x27;s billing address: Microsoft needs it." in response.content.decode()
    storefront_config.sub_customers_billing_address = False
    storefront_config.save()
    response = client.post(reverse("checkout:customer"), {"end_customer": str(bare.pk)})
    assert response["Location"] == reverse("checkout:service_details")


def test_place_order_refuses_a_new_tenant_that_would_reach_microsoft_without_any_address(
    client, storefront_config, product, sandbox
):
    """Switch off, and neither the end-customer nor the reseller has an address: Microsoft could not create the
    customer, so Place order says so instead of the worker sending an empty address."""
    reseller = OrganizationFactory(mpn_id="1234567", **NO_ADDRESS)
    owner = UserFactory(organization=reseller)
    bare = EndCustomerFactory(reseller=reseller, **NO_ADDRESS)
    draft = services.checkout_draft_get(user=owner)
    draft.lines = {str(product.pk): 1}
    draft.end_customer = bare
    draft.save()
    client.force_login(owner)
    response = client.post(
        reverse("checkout:service_details"), {"domain_prefix": "bareco42", "mpn_id": "1234567"}
    )
    assert response["Location"] == reverse("checkout:review")
    page = client.post(reverse("checkout:review"), AGREEMENT).content.decode()
    assert "Microsoft needs a billing address to create the new tenant" in page
    assert not Order.objects.exists()

    body = {
        "lines": [{"product": product.pk, "quantity": 1}],
        "end_customer": bare.pk,
        "domain_prefix": "bareco42",
        "customer_agreement": {**AGREEMENT, "accepted": True},
    }
    response = api_client_for(owner).post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert assert_error(response, 400, "billing_address_required")["fields"] == {
        "address_line1": [response.json()["message"]]
    }


def test_the_worker_fails_a_new_tenant_order_without_an_address_before_asking_microsoft(
    sandbox, django_capture_on_commit_callbacks
):
    order = OrderFactory(billing_profile={"company_name": "Bare Ltd", "email": "it@bare.example"})
    customers_before = set(sandbox.state.customers)
    with django_capture_on_commit_callbacks(execute=False):
        provisioning.order_provision(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert order.failure_reason == provisioning.ADDRESS_MISSING
    assert not order.customer_tenant_id
    assert set(sandbox.state.customers) == customers_before
