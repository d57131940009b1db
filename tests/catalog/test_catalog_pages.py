"""The catalog people shop: search, filters, one card per product, only what the buyer may buy, flat SQL."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storefront.catalog.models import BuyerTerms, Product
from storefront.checkout.models import CheckoutDraft
from tests.api.conftest import api_client_for
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def offers_of(name: str, product_id: str, **extra) -> list[Product]:
    """One product with two SKUs and three term/billing pairs each."""
    rows = []
    for sku in ("0001", "0002"):
        for term, cycle, price in (
            ("P1M", "monthly", "7.20"),
            ("P1Y", "monthly", "75.60"),
            ("P1Y", "annual", "72.00"),
        ):
            rows.append(
                ProductFactory(
                    name=name,
                    sku_title=f"{name} {sku}",
                    product_id=product_id,
                    sku_id=sku,
                    term_duration=term,
                    billing_cycle=cycle,
                    price=Decimal(price),
                    erp_price=Decimal(price) * Decimal("1.25"),
                    family="Microsoft 365",
                    **extra,
                )
            )
    return rows


def test_one_card_per_product_with_every_sku_term_and_billing_plan(client, owner):
    offers = offers_of("Microsoft 365 Business Basic", "CFQ7TTC0LH18")
    client.force_login(owner)

    page = client.get("/").content.decode()

    assert page.count('data-product-id="CFQ7TTC0LH18"') == 1
    for offer in offers:
        assert f'value="{offer.pk}"' in page
    assert "For 1 year, billed monthly" in page and "For 1 year, billed annually" in page
    assert "suggested retail" in page  # resellers see Microsoft's retail estimate next to their price


def test_direct_customers_see_their_own_price_and_no_suggested_retail(client, direct_user):
    offers_of("Microsoft 365 Business Basic", "CFQ7TTC0LH18")
    client.force_login(direct_user)

    page = client.get("/").content.decode()

    assert "90.00 USD" in page  # the ERP of the 72.00 offer, the direct customers' default price
    assert "suggested retail" not in page


def test_search_and_filters_narrow_the_cards(client, owner):
    offers_of("Microsoft 365 Business Basic", "CFQ7TTC0LH18")
    offers_of("Power BI Pro", "CFQ7TTC0POWR", **{})
    Product.objects.filter(product_id="CFQ7TTC0POWR").update(family="Power Platform")
    client.force_login(owner)

    assert "CFQ7TTC0POWR" not in client.get("/?search=basic").content.decode()
    assert "CFQ7TTC0LH18" in client.get("/?search=cfq7ttc0lh18").content.decode()
    by_family = client.get("/?family=Power+Platform").content.decode()
    assert "CFQ7TTC0POWR" in by_family and "CFQ7TTC0LH18" not in by_family
    monthly_only = client.get("/?term=P1M&billing=monthly").content.decode()
    annual = Product.objects.filter(billing_cycle="annual").values_list("pk", flat=True)
    assert all(f'value="{pk}"' not in monthly_only for pk in annual)
    assert "No product matches these filters." in client.get("/?search=nothing-like-this").content.decode()


def test_hostile_filters_are_ignored_not_errors(client, owner):
    client.force_login(owner)

    for query in (
        "?term=P99Y",
        "?billing=<script>",
        "?segment=all';--",
        "?page=-1",
        "?page=x",
        "?search=" + "a" * 5000,
    ):
        assert client.get("/" + query).status_code == 200


def test_education_offers_show_only_to_organisations_staff_qualified(client, owner):
    offers_of("Microsoft 365 A3", "CFQ7TTC0EDU1", segment="education")
    client.force_login(owner)
    assert "CFQ7TTC0EDU1" not in client.get("/").content.decode()

    BuyerTerms.objects.create(organization=owner.organization, qualified_education=True)

    assert "CFQ7TTC0EDU1" in client.get("/").content.decode()


def test_an_unqualified_buyer_cannot_add_a_restricted_offer_by_its_id(client, owner):
    (education, *_) = offers_of("Microsoft 365 A3", "CFQ7TTC0EDU1", segment="education")
    client.force_login(owner)

    response = client.post("/catalog/add/", {"offer": education.pk, "quantity": 1}, follow=True)

    assert f"{education.name} (product {education.pk}) is no longer sold." in response.content.decode()
    assert not CheckoutDraft.objects.filter(user=owner).exclude(lines={}).exists()


def test_adding_an_offer_from_the_picker_puts_it_in_the_cart(client, owner):
    offers = offers_of("Microsoft 365 Business Basic", "CFQ7TTC0LH18")
    client.force_login(owner)

    response = client.post("/catalog/add/", {"offer": offers[2].pk, "quantity": 3})

    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert CheckoutDraft.objects.get(user=owner).lines == {str(offers[2].pk): 3}


def test_the_cart_enforces_microsofts_seat_limits(client, owner):
    capped = ProductFactory(name="Microsoft 365 Business Premium", max_quantity=300)
    client.force_login(owner)

    response = client.post("/catalog/add/", {"offer": capped.pk, "quantity": 301}, follow=True)
    assert "allows at most 300 licences per customer" in response.content.decode()

    client.post("/catalog/add/", {"offer": capped.pk, "quantity": 300})
    response = client.post("/cart/", {f"quantity-{capped.pk}": "301", "action": "update"})
    assert "allows at most 300 licences per customer" in response.content.decode()
    assert CheckoutDraft.objects.get(user=owner).lines == {str(capped.pk): 300}


def test_the_cart_shows_the_whole_term_and_an_honest_monthly_equivalent(client, owner):
    offers = offers_of("Microsoft 365 Business Basic", "CFQ7TTC0LH18")
    client.force_login(owner)
    client.post("/catalog/add/", {"offer": offers[2].pk, "quantity": 2})  # 72.00 a year, billed annually

    page = client.get("/cart/").content.decode()

    assert "79.20 USD" in page  # cost 72.00 + the default 10 % margin, per licence for the year
    assert "158.40 USD" in page and "Total (each line for its whole term)" in page
    assert "≈ 13.20 a month" in page and "Per-month equivalent" in page


def _catalog_of(products: int, skus_each: int, first: int = 0) -> None:
    """`products` products with `skus_each` SKUs of three terms each, created in one statement."""
    Product.objects.bulk_create(
        Product(
            name=f"Product {p:04d}",
            sku_title=f"SKU {s}",
            family=f"Family {p % 7}",
            product_id=f"CFQ7TT{p:06d}",
            sku_id=f"{s:04d}",
            term_duration=term,
            billing_cycle=cycle,
            price=Decimal("10.00"),
            erp_price=Decimal("12.00"),
        )
        for p in range(first, first + products)
        for s in range(1, skus_each + 1)
        for term, cycle in (("P1M", "monthly"), ("P1Y", "monthly"), ("P1Y", "annual"))
    )


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.fixture
def settings_read_every_time(monkeypatch):
    """One-row settings are kept a few seconds in memory; read them every time so counts do not depend on speed."""
    monkeypatch.setattr("common.singleton.COPY_SECONDS", 0)
    monkeypatch.setattr("storefront.catalog.pricing._displayed_pricing.seconds", 0)


def test_the_catalog_page_costs_the_same_queries_at_two_thousand_skus(
    client, owner, settings_read_every_time
):
    _catalog_of(products=10, skus_each=2)
    client.force_login(owner)
    _queries(client, "/")  # the first request of a session reads settings it then keeps a few seconds
    small = _queries(client, "/")
    small_search = _queries(client, "/?search=Product&term=P1Y")

    _catalog_of(products=1000, skus_each=2, first=10)  # 2,000 more SKUs, 6,000 offers

    assert _queries(client, "/") == small
    assert _queries(client, "/?search=Product&term=P1Y") == small_search
    assert _queries(client, "/?page=50") == small


def test_the_products_api_costs_the_same_queries_at_two_thousand_skus(owner, settings_read_every_time):
    api = api_client_for(owner)
    _catalog_of(products=10, skus_each=2)
    _queries(api, "/api/v1/products/?page_size=50")
    small = _queries(api, "/api/v1/products/?page_size=50")

    _catalog_of(products=1000, skus_each=2, first=10)

    assert _queries(api, "/api/v1/products/?page_size=50") == small
