"""SQL queries per page are exact and stay flat as the catalog and the authorizations grow."""

import pytest

from bench import measure
from storefront.checkout.models import CheckoutDraft
from tests.sandbox_ids import FABRIKAM_MPN

pytestmark = pytest.mark.django_db

# Exact counts for a signed-in reseller with a draft ready for Review (session, user, draft, page data).
# Cart products, the reseller network row and the MPN ID's owner are kept a few seconds in process memory for
# display (warm here); Checkout and Place order read them afresh.
# The catalog page: product count, a page of product ids, their offers, and the families for the filter.
EXPECTED = {
    "catalog": 6,
    "cart": 3,
    "customer": 4,
    "service_details": 4,
    "domain_check": 4,
    "review": 3,
    "dashboard": 5,
    "orders": 3,
}


@pytest.fixture
def ready_client(client, owner, owner_draft, sandbox):
    CheckoutDraft.objects.filter(pk=owner_draft.pk).update(domain_prefix="flatco", mpn_id=FABRIKAM_MPN)
    owner_draft.refresh_from_db()
    measure.warm_up()
    client.force_login(owner)
    return client, owner_draft


def test_queries_per_page_are_exact_and_flat_from_10_to_1000_products(ready_client):
    client, draft = ready_client
    measure.grow_products(10)
    small = measure.page_queries(client, draft)
    measure.grow_products(990)
    large = measure.page_queries(client, draft)
    assert small == EXPECTED
    assert large == small


def test_queries_per_page_are_flat_from_10_to_10000_authorizations(ready_client, owner):
    client, draft = ready_client
    measure.grow_authorizations(owner.organization, 10)
    small = measure.page_queries(client, draft)
    measure.grow_authorizations(owner.organization, 9990)
    large = measure.page_queries(client, draft)
    assert small == EXPECTED
    assert large == small
