"""Reading the catalog as a buyer sees it: only what they may buy, at their price, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Min, Q, QuerySet

from storefront.catalog.models import Product
from storefront.catalog.pricing import BuyerPricing, monthly_equivalent, price_label

PAGE_SIZE = 12
SEARCH_MAX = 100


@dataclass(frozen=True)
class CatalogFilters:
    search: str = ""
    family: str = ""
    segment: str = ""
    term: str = ""
    billing: str = ""

    @classmethod
    def from_query(cls, query) -> CatalogFilters:
        """Filters from a query string; unknown values are ignored rather than refused."""
        term = query.get("term", "").upper()
        billing = query.get("billing", "").lower()
        return cls(
            search=query.get("search", query.get("q", "")).strip()[:SEARCH_MAX],
            family=query.get("family", "").strip()[:60],
            segment=query.get("segment", "").lower().strip(),
            term=term if term in Product.Term.values else "",
            billing=billing if billing in Product.BillingCycle.values else "",
        )


@dataclass(frozen=True)
class OfferChoice:
    offer: Product
    price: Decimal
    monthly: Decimal
    retail: Decimal
    label: str


@dataclass
class CatalogCard:
    """One product with every offer of it the buyer may pick (SKU, term, billing plan)."""

    product_id: str
    name: str
    family: str
    description: str
    offers: list[OfferChoice] = field(default_factory=list)

    @property
    def from_monthly(self) -> Decimal | None:
        return min((o.monthly for o in self.offers), default=None)

    @property
    def currency(self) -> str:
        return self.offers[0].offer.currency if self.offers else ""

    @property
    def skus(self) -> list[tuple[str, list[OfferChoice]]]:
        grouped: dict[str, list[OfferChoice]] = {}
        for choice in self.offers:
            grouped.setdefault(choice.offer.sku_title or choice.offer.name, []).append(choice)
        return list(grouped.items())


def buyable_offers(*, pricing: BuyerPricing, filters: CatalogFilters | None = None) -> QuerySet[Product]:
    """Active, non-trial offers of the storefront's market the buyer is qualified for, filtered."""
    offers = Product.objects.filter(
        is_active=True,
        is_trial=False,
        market=pricing.market,
        currency=pricing.currency,
        segment__in=pricing.segments,
    )
    if filters is None:
        return offers
    if filters.search:
        offers = offers.filter(
            Q(name__icontains=filters.search)
            | Q(sku_title__icontains=filters.search)
            | Q(product_id__iexact=filters.search)
            | Q(family__icontains=filters.search)
        )
    if filters.family:
        offers = offers.filter(family=filters.family)
    if filters.segment:
        offers = offers.filter(segment=filters.segment)
    if filters.term:
        offers = offers.filter(term_duration=filters.term)
    if filters.billing:
        offers = offers.filter(billing_cycle=filters.billing)
    return offers


def offer_choice(offer: Product, pricing: BuyerPricing) -> OfferChoice:
    price = pricing.unit_price(offer)
    return OfferChoice(
        offer=offer,
        price=price,
        monthly=monthly_equivalent(price, offer),
        retail=offer.erp_price,
        label=price_label(offer),
    )


TERM_ORDER = {"P1M": 0, "P1Y": 1, "P3Y": 2}
CYCLE_ORDER = {"monthly": 0, "annual": 1, "triennial": 2, "none": 3}


def catalog_page(*, pricing: BuyerPricing, filters: CatalogFilters, page: int | str = 1):
    """A page of product cards: a count, a page of product ids, and their offers (three queries)."""
    offers = buyable_offers(pricing=pricing, filters=filters)
    products = offers.values("product_id").annotate(title=Min("name")).order_by("title", "product_id")
    page_obj = Paginator(products, PAGE_SIZE).get_page(page)
    ids = [row["product_id"] for row in page_obj.object_list]
    cards = {pid: None for pid in ids}
    for offer in offers.filter(product_id__in=ids).order_by("sku_id", "segment"):
        card = cards.get(offer.product_id)
        if card is None:
            card = cards[offer.product_id] = CatalogCard(
                offer.product_id, offer.name, offer.family, offer.description
            )
        card.offers.append(offer_choice(offer, pricing))
    for card in cards.values():
        if card is not None:
            card.offers.sort(
                key=lambda c: (
                    c.offer.sku_id,
                    c.offer.segment,
                    TERM_ORDER.get(c.offer.term_duration, 9),
                    CYCLE_ORDER.get(c.offer.billing_cycle, 9),
                )
            )
    return [c for c in cards.values() if c is not None], page_obj


def catalog_families(*, pricing: BuyerPricing) -> list[str]:
    """The product families the buyer can filter on."""
    return list(
        buyable_offers(pricing=pricing).order_by("family").values_list("family", flat=True).distinct()
    )
