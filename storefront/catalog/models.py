"""Microsoft new-commerce offers the distributor sells."""

from decimal import Decimal

from django.db import models


class Product(models.Model):
    """One orderable new-commerce SKU availability with its term, billing cycle and price."""

    class Term(models.TextChoices):
        P1M = "P1M", "1 month"
        P1Y = "P1Y", "1 year"
        P3Y = "P3Y", "3 years"

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        ANNUAL = "annual", "Annual"
        TRIENNIAL = "triennial", "Triennial"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    product_id = models.CharField("Product id", max_length=40)
    sku_id = models.CharField("SKU id", max_length=20)
    availability_id = models.CharField("Availability id", max_length=40)
    term_duration = models.CharField(max_length=3, choices=Term.choices, default=Term.P1Y)
    billing_cycle = models.CharField(
        max_length=10, choices=BillingCycle.choices, default=BillingCycle.MONTHLY
    )
    price = models.DecimalField("Price per licence", max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True, db_index=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["product_id", "sku_id", "availability_id", "term_duration", "billing_cycle"],
                name="product_unique_offer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_term_duration_display()}, {self.get_billing_cycle_display()})"

    @property
    def catalog_item_id(self) -> str:
        return f"{self.product_id}:{self.sku_id}:{self.availability_id}"
