"""The distributor's prices: segment margins, product and SKU rules, price profiles, direct customers."""

from decimal import Decimal

import pytest

from storefront.catalog.models import (
    BuyerTerms,
    CatalogSettings,
    PriceProfile,
    PriceRule,
    SegmentMargin,
)
from storefront.catalog.pricing import (
    DEFAULT_MARGIN_PERCENT,
    monthly_equivalent,
    offer_quantity_problem,
    organization_pricing,
    price_label,
)
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer():
    return ProductFactory(
        product_id="CFQ7TTC0LH18",
        sku_id="0001",
        price=Decimal("72.00"),
        erp_price=Decimal("90.00"),
        term_duration="P1Y",
        billing_cycle="annual",
    )


def test_a_reseller_without_rules_pays_cost_plus_the_default_margin(owner, offer):
    pricing = organization_pricing(owner.organization)

    assert pricing.margin_percent(offer) == DEFAULT_MARGIN_PERCENT
    assert pricing.unit_price(offer) == Decimal("79.20")


def test_the_segment_margin_applies_to_offers_of_that_segment(owner, offer):
    SegmentMargin.objects.create(segment="commercial", margin_percent=Decimal("12"))
    SegmentMargin.objects.create(segment="education", margin_percent=Decimal("5"))
    education = ProductFactory(price=Decimal("40.00"), segment="education")

    pricing = organization_pricing(owner.organization)

    assert pricing.unit_price(offer) == Decimal("80.64")
    assert pricing.unit_price(education) == Decimal("42.00")


def test_a_sku_rule_beats_a_product_rule_which_beats_the_segment_margin(owner, offer):
    SegmentMargin.objects.create(segment="commercial", margin_percent=Decimal("12"))
    PriceRule.objects.create(product_id="cfq7ttc0lh18", margin_percent=Decimal("8"))
    other_sku = ProductFactory(product_id="CFQ7TTC0LH18", sku_id="0002", price=Decimal("100.00"))

    assert organization_pricing(owner.organization).unit_price(other_sku) == Decimal("108.00")
    PriceRule.objects.create(product_id="CFQ7TTC0LH18", sku_id="2", margin_percent=Decimal("3"))
    pricing = organization_pricing(owner.organization)
    assert pricing.unit_price(other_sku) == Decimal("103.00")  # the SKU id "2" was padded to "0002"
    assert pricing.unit_price(offer) == Decimal("77.76")  # SKU 0001 keeps the product rule


def test_a_price_profile_replaces_the_general_rules_for_its_resellers_only(owner, outsider, offer):
    PriceRule.objects.create(product_id="CFQ7TTC0LH18", margin_percent=Decimal("8"))
    gold = PriceProfile.objects.create(name="Gold", margin_percent=Decimal("4"))
    PriceRule.objects.create(
        profile=gold, product_id="CFQ7TTC0LH18", sku_id="0001", margin_percent=Decimal("2")
    )
    BuyerTerms.objects.create(organization=owner.organization, price_profile=gold)
    plain = ProductFactory(price=Decimal("100.00"))

    gold_pricing = organization_pricing(owner.organization)
    assert gold_pricing.unit_price(offer) == Decimal("73.44")  # the profile's SKU rule
    assert gold_pricing.unit_price(plain) == Decimal("104.00")  # the profile's own margin
    other = organization_pricing(outsider.organization)
    assert other.unit_price(offer) == Decimal("77.76")  # the general product rule
    assert other.unit_price(plain) == Decimal("110.00")


def test_direct_customers_pay_the_retail_estimate_or_cost_plus_the_direct_margin(direct_user, offer):
    assert organization_pricing(direct_user.organization).unit_price(offer) == Decimal("90.00")

    settings = CatalogSettings.load()
    settings.direct_price_basis = CatalogSettings.DirectBasis.MARGIN
    settings.direct_margin_percent = Decimal("20")
    settings.save()
    assert organization_pricing(direct_user.organization).unit_price(offer) == Decimal("86.40")


def test_reseller_rules_never_change_a_direct_customers_price(direct_user, offer):
    PriceRule.objects.create(product_id="CFQ7TTC0LH18", margin_percent=Decimal("1"))

    assert organization_pricing(direct_user.organization).unit_price(offer) == Decimal("90.00")


def test_restricted_segments_need_a_staff_decision(owner, offer):
    education = ProductFactory(segment="education")
    nonprofit = ProductFactory(segment="nonprofit")
    assert organization_pricing(owner.organization).may_buy(offer)
    assert not organization_pricing(owner.organization).may_buy(education)

    BuyerTerms.objects.create(organization=owner.organization, qualified_education=True)

    pricing = organization_pricing(owner.organization)
    assert pricing.may_buy(education) and not pricing.may_buy(nonprofit)


def test_trials_other_markets_and_retired_offers_are_not_for_sale(owner):
    pricing = organization_pricing(owner.organization)

    assert not pricing.may_buy(ProductFactory(is_trial=True, billing_cycle="none", price=0))
    assert not pricing.may_buy(ProductFactory(market="DK", currency="EUR"))
    assert not pricing.may_buy(ProductFactory(is_active=False))


def test_the_monthly_equivalent_spreads_the_whole_term_and_the_label_says_how_it_is_billed(offer):
    three_years = ProductFactory(price=Decimal("216.00"), term_duration="P3Y", billing_cycle="triennial")

    assert monthly_equivalent(Decimal("79.20"), offer) == Decimal("6.60")
    assert monthly_equivalent(Decimal("216.00"), three_years) == Decimal("6.00")
    assert price_label(offer) == "for 1 year, billed annually"
    assert price_label(three_years) == "for 3 years, billed up front for 3 years"


def test_seat_limits_are_said_in_the_buyers_terms():
    capped = ProductFactory(name="Microsoft 365 Business Premium", min_quantity=1, max_quantity=300)
    bulk = ProductFactory(name="Teams Rooms", min_quantity=5)

    assert offer_quantity_problem(capped, 300) is None
    assert (
        offer_quantity_problem(capped, 301)
        == "Microsoft 365 Business Premium allows at most 300 licences per customer."
    )
    assert offer_quantity_problem(bulk, 4) == "Teams Rooms needs at least 5 licences."


def test_one_buyers_pricing_costs_at_most_three_queries(owner, django_assert_max_num_queries):
    gold = PriceProfile.objects.create(name="Gold")
    BuyerTerms.objects.create(organization=owner.organization, price_profile=gold)
    CatalogSettings.load()
    organization = owner.organization

    with django_assert_max_num_queries(3):
        organization_pricing(organization)
