"""What each buyer pays and may buy, from the distributor's rules in admin.

Microsoft publishes only the distributor's cost (UnitPrice, whole term) and an estimated retail price (ERP).
A reseller pays cost plus a margin, the first that applies of:
1. a rule of its price profile for the SKU, then for the product;
2. a rule for everyone for the SKU, then for the product;
3. its price profile's own margin;
4. the default margin of the offer's segment (DEFAULT_MARGIN_PERCENT when staff set none).
A direct customer pays the ERP or cost plus the direct margin (Catalog settings). Prices are per licence for the
whole term; the per-month figure is only an equivalent, for comparing terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from common.singleton import ShortLivedRows
from storefront.catalog.models import (
    BuyerTerms,
    CatalogSettings,
    PriceProfile,
    PriceRule,
    Product,
    Segment,
    SegmentMargin,
)

DEFAULT_MARGIN_PERCENT = Decimal("10")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
BILLED = {
    "monthly": "billed monthly",
    "annual": "billed annually",
    "triennial": "billed up front for 3 years",
}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BuyerPricing:
    """One buyer's prices and permitted offers, read once per request (three queries at most)."""

    is_reseller: bool
    market: str
    currency: str
    segments: tuple[str, ...]
    segment_margins: dict[str, Decimal] = field(default_factory=dict)
    profile_id: int | None = None
    profile_margin: Decimal | None = None
    rules: dict[tuple[int | None, str, str], Decimal] = field(default_factory=dict)
    direct_basis: str = CatalogSettings.DirectBasis.RETAIL
    direct_margin: Decimal = Decimal("0")

    def margin_percent(self, product: Product) -> Decimal:
        """The reseller margin on this offer (the module's order of rules)."""
        for profile in ([self.profile_id] if self.profile_id else []) + [None]:
            for sku in (product.sku_id, ""):
                rule = self.rules.get((profile, product.product_id, sku))
                if rule is not None:
                    return rule
        if self.profile_margin is not None:
            return self.profile_margin
        return self.segment_margins.get(product.segment, DEFAULT_MARGIN_PERCENT)

    def unit_price(self, product: Product) -> Decimal:
        """What this buyer pays per licence for the offer's whole term."""
        if self.is_reseller:
            return _money(product.price * (1 + self.margin_percent(product) / HUNDRED))
        if self.direct_basis == CatalogSettings.DirectBasis.RETAIL and product.erp_price > 0:
            return _money(product.erp_price)
        return _money(product.price * (1 + self.direct_margin / HUNDRED))

    def may_buy(self, product: Product) -> bool:
        """Active, not a trial, in the storefront's market and currency, and in a segment the buyer is
        qualified for (education, nonprofit and government need a staff decision)."""
        return (
            product.is_active
            and not product.is_trial
            and product.market == self.market
            and product.currency == self.currency
            and product.segment in self.segments
        )


def monthly_equivalent(price: Decimal, product: Product) -> Decimal:
    """The whole-term price spread over the term's months: for comparing terms, not what is billed."""
    return _money(price / product.months)


def price_label(product: Product) -> str:
    """How the price is meant, in words: "for 1 year, billed monthly"."""
    term = {"P1M": "1 month", "P1Y": "1 year", "P3Y": "3 years"}.get(
        product.term_duration, product.term_duration
    )
    billed = BILLED.get(product.billing_cycle)
    return f"for {term}, {billed}" if billed else f"for {term} (trial)"


def buyer_pricing(*, organization_id: int | None, is_reseller: bool) -> BuyerPricing:
    """The pricing of one organisation (None: a visitor, priced like a direct customer)."""
    settings = CatalogSettings.load()
    terms = None
    if organization_id is not None:
        terms = (
            BuyerTerms.objects.filter(organization_id=organization_id).select_related("price_profile").first()
        )
    segments = tuple(terms.segments) if terms else (Segment.COMMERCIAL.value,)
    common = {
        "market": settings.storefront_market,
        "currency": settings.storefront_currency,
        "segments": segments,
    }
    if not is_reseller:
        return BuyerPricing(
            is_reseller=False,
            direct_basis=settings.direct_price_basis,
            direct_margin=settings.direct_margin_percent,
            **common,
        )
    profile = terms.price_profile if terms else None
    profile_id = profile.pk if profile else None
    scope = Q(profile__isnull=True) | Q(profile_id=profile_id) if profile_id else Q(profile__isnull=True)
    rules = {
        (profile, product_id, sku_id): margin
        for profile, product_id, sku_id, margin in PriceRule.objects.filter(scope).values_list(
            "profile_id", "product_id", "sku_id", "margin_percent"
        )
    }
    return BuyerPricing(
        is_reseller=True,
        segment_margins=dict(SegmentMargin.objects.values_list("segment", "margin_percent")),
        profile_id=profile_id,
        profile_margin=profile.margin_percent if profile else None,
        rules=rules,
        **common,
    )


def organization_pricing(organization) -> BuyerPricing:
    """The pricing of a signed-in organisation (or of a visitor when None), read from the database: for adding to
    the cart and placing the order."""
    if organization is None:
        return buyer_pricing(organization_id=None, is_reseller=False)
    return buyer_pricing(organization_id=organization.pk, is_reseller=organization.is_reseller)


_displayed_pricing = ShortLivedRows("buyer pricing by organisation")
for _model in (BuyerTerms, CatalogSettings, PriceProfile, PriceRule, SegmentMargin):
    post_save.connect(
        _displayed_pricing.forget, sender=_model, dispatch_uid=f"pricing-save-{_model.__name__}"
    )
    post_delete.connect(
        _displayed_pricing.forget, sender=_model, dispatch_uid=f"pricing-delete-{_model.__name__}"
    )


def organization_pricing_for_display(organization) -> BuyerPricing:
    """The same, kept a few seconds in process memory for the catalog and cart pages (tiny admin-edited tables
    read on every page); placing an order never uses this copy."""
    key = (organization.pk, organization.is_reseller) if organization is not None else (None, False)
    return _displayed_pricing.get(key, lambda k: buyer_pricing(organization_id=k[0], is_reseller=k[1]))


def offer_quantity_problem(product: Product, quantity: int) -> str | None:
    """The seats Microsoft allows for the SKU, said in the buyer's terms; None when the quantity fits."""
    if quantity < product.min_quantity:
        return f"{product.name} needs at least {product.min_quantity} licences."
    if product.max_quantity is not None and quantity > product.max_quantity:
        return f"{product.name} allows at most {product.max_quantity} licences per customer."
    return None
