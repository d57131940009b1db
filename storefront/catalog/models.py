"""Microsoft new-commerce offers the distributor sells, their price history, and the prices the distributor sets."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from common.singleton import SingletonModel

MONTHS_IN_TERM = {"P1M": 1, "P1Y": 12, "P3Y": 36}
PERCENT = [MinValueValidator(Decimal("-50")), MaxValueValidator(Decimal("500"))]


class Segment(models.TextChoices):
    """The catalog's segments; the price list calls nonprofit "Charity"."""

    COMMERCIAL = "commercial", "Commercial"
    EDUCATION = "education", "Education"
    NONPROFIT = "nonprofit", "Nonprofit"
    GOVERNMENT = "government", "Government"


class Product(models.Model):
    """One offer from Microsoft's price list: product, SKU, term, billing plan, segment and currency in a market.

    `price` is Microsoft's price to the distributor (UnitPrice) for the whole term; what a buyer pays comes from
    the distributor's pricing rules (`storefront/catalog/pricing.py`). Offers that leave the list are made
    inactive, never deleted: order lines point at them.
    """

    class Term(models.TextChoices):
        P1M = "P1M", "1 month"
        P1Y = "P1Y", "1 year"
        P3Y = "P3Y", "3 years"

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        ANNUAL = "annual", "Annual"
        TRIENNIAL = "triennial", "Triennial"
        NONE = "none", "None (trial)"

    name = models.CharField("Product", max_length=200)
    sku_title = models.CharField("SKU", max_length=200, blank=True)
    description = models.TextField(blank=True)
    family = models.CharField("Product family", max_length=60, blank=True, db_index=True)
    publisher = models.CharField(max_length=100, blank=True)
    market = models.CharField(max_length=2, default="US")
    segment = models.CharField(max_length=12, choices=Segment.choices, default=Segment.COMMERCIAL)
    product_id = models.CharField("Product id", max_length=40)
    sku_id = models.CharField("SKU id", max_length=20)
    availability_id = models.CharField(
        "Availability id",
        max_length=40,
        blank=True,
        help_text="Informative only: Microsoft reissues availability ids, so the order reads today's one.",
    )
    term_duration = models.CharField(max_length=3, choices=Term.choices, default=Term.P1Y)
    billing_cycle = models.CharField(
        max_length=10, choices=BillingCycle.choices, default=BillingCycle.MONTHLY
    )
    price = models.DecimalField(
        "Partner cost (UnitPrice, whole term)", max_digits=12, decimal_places=2, default=Decimal("0")
    )
    erp_price = models.DecimalField(
        "Microsoft's estimated retail price (ERP, whole term)",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
    )
    currency = models.CharField(max_length=3, default="USD")
    effective_start = models.DateTimeField(null=True, blank=True)
    effective_end = models.DateTimeField(null=True, blank=True)
    is_trial = models.BooleanField(default=False)
    min_quantity = models.PositiveIntegerField("Minimum seats", default=1)
    max_quantity = models.PositiveIntegerField("Maximum seats", null=True, blank=True)
    prerequisites = models.TextField(blank=True)
    allowed_countries = models.TextField(blank=True, help_text="From the offer matrix, ;-separated.")
    is_active = models.BooleanField(default=True, db_index=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "market",
                    "product_id",
                    "sku_id",
                    "term_duration",
                    "billing_cycle",
                    "segment",
                    "currency",
                ],
                name="product_unique_offer",
            )
        ]
        indexes = [models.Index(fields=["market", "currency", "is_active", "name"], name="catalog_shop_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_term_duration_display()}, {self.get_billing_cycle_display()})"

    @property
    def catalog_item_id(self) -> str:
        """The id last seen; the order resolves today's availability with Microsoft before buying."""
        return f"{self.product_id}:{self.sku_id}:{self.availability_id}"

    @property
    def months(self) -> int:
        return MONTHS_IN_TERM.get(self.term_duration, 1)


class PriceListImport(models.Model):
    """One run of the price list import: what it read and what it changed."""

    class Status(models.TextChoices):
        DONE = "done", "Imported"
        UNCHANGED = "unchanged", "Unchanged (same file)"
        NO_FILE = "no_file", "No file"
        FAILED = "failed", "Failed"

    market = models.CharField(max_length=2)
    timeline = models.CharField(max_length=10, default="current")
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.market} {self.timeline} {self.started_at:%Y-%m-%d %H:%M}: {self.get_status_display()}"


class OfferPrice(models.Model):
    """An offer's price as one price list said it: kept so history survives every later import."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_history")
    price_list = models.ForeignKey(PriceListImport, on_delete=models.SET_NULL, null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    erp_price = models.DecimalField(max_digits=12, decimal_places=2)
    effective_start = models.DateTimeField(null=True, blank=True)
    effective_end = models.DateTimeField(null=True, blank=True)
    is_future = models.BooleanField(default=False, help_text="From next month's preview list.")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]


# -- the distributor's prices --------------------------------------------------------------------------------


class CatalogSettings(SingletonModel):
    """Which markets are imported, which one the storefront sells from, and the direct customers' price."""

    class DirectBasis(models.TextChoices):
        RETAIL = "retail", "Microsoft's estimated retail price (ERP)"
        MARGIN = "margin", "Partner cost plus a margin"

    markets = models.CharField(
        max_length=200,
        default="US",
        help_text="Markets whose price list is imported, comma-separated two-letter codes (e.g. US, DK).",
    )
    storefront_market = models.CharField(max_length=2, default="US")
    storefront_currency = models.CharField(max_length=3, default="USD")
    direct_price_basis = models.CharField(
        max_length=10, choices=DirectBasis.choices, default=DirectBasis.RETAIL
    )
    direct_margin_percent = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("15"), validators=PERCENT
    )

    class Meta:
        verbose_name = verbose_name_plural = "Catalog settings"

    def __str__(self) -> str:
        return "Catalog settings"

    @property
    def market_list(self) -> list[str]:
        return sorted({m.strip().upper() for m in self.markets.split(",") if len(m.strip()) == 2})


class SegmentMargin(models.Model):
    """The default reseller margin on partner cost for a segment."""

    segment = models.CharField(max_length=12, choices=Segment.choices, unique=True)
    margin_percent = models.DecimalField(max_digits=6, decimal_places=2, validators=PERCENT)

    def __str__(self) -> str:
        return f"{self.get_segment_display()}: {self.margin_percent}%"


class PriceProfile(models.Model):
    """A named set of reseller margins (e.g. "Gold partners"), assigned to organisations."""

    name = models.CharField(max_length=100, unique=True)
    margin_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
        help_text="Replaces the segment margins for this profile's resellers; blank keeps them.",
    )

    def __str__(self) -> str:
        return self.name


class PriceRule(models.Model):
    """A margin for one product (all its SKUs) or one SKU: for everyone, or for one price profile."""

    profile = models.ForeignKey(
        PriceProfile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        help_text="Blank: applies to every reseller without a more specific rule.",
    )
    product_id = models.CharField("Product id", max_length=40)
    sku_id = models.CharField("SKU id", max_length=20, blank=True, help_text="Blank: every SKU.")
    margin_percent = models.DecimalField(max_digits=6, decimal_places=2, validators=PERCENT)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "product_id", "sku_id"],
                name="price_rule_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        target = f"{self.product_id}:{self.sku_id}" if self.sku_id else self.product_id
        return f"{target} {self.margin_percent}%"

    def save(self, *args, **kwargs):
        self.product_id = self.product_id.strip().upper()
        self.sku_id = self.sku_id.strip()
        if self.sku_id.isdigit():
            self.sku_id = self.sku_id.zfill(4)
        super().save(*args, **kwargs)


class BuyerTerms(models.Model):
    """What staff decided about one organisation: its price profile and the restricted segments it may buy."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="catalog_terms"
    )
    price_profile = models.ForeignKey(PriceProfile, on_delete=models.SET_NULL, null=True, blank=True)
    qualified_education = models.BooleanField("Qualified for education offers", default=False)
    qualified_nonprofit = models.BooleanField("Qualified for nonprofit offers", default=False)
    qualified_government = models.BooleanField("Qualified for government offers", default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "Buyer terms"

    def __str__(self) -> str:
        return f"Terms of {self.organization}"

    @property
    def segments(self) -> list[str]:
        allowed = [Segment.COMMERCIAL.value]
        if self.qualified_education:
            allowed.append(Segment.EDUCATION.value)
        if self.qualified_nonprofit:
            allowed.append(Segment.NONPROFIT.value)
        if self.qualified_government:
            allowed.append(Segment.GOVERNMENT.value)
        return allowed
