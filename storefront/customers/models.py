"""End-customers (sub-customers) that a reseller orders for."""

from django.db import models

from billing.models import BillingProfile


class EndCustomer(BillingProfile):
    """A reseller's customer; its Microsoft tenant is known once created or verified."""

    reseller = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="end_customers"
    )
    tenant_id = models.CharField("Microsoft tenant id", max_length=36, blank=True)
    domain = models.CharField("Microsoft domain", max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_name"]

    def __str__(self) -> str:
        return self.company_name
