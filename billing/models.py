"""Billing profiles and addresses (as Partner Center's billing profile has them), orders and their lines."""

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django_countries.fields import CountryField

REQUIRED_ADDRESS_FIELDS = ("address_line1", "city", "postal_code", "country")


def billing_address_complete(address: Mapping[str, Any]) -> bool:
    """Whether an address has what Microsoft needs to create a customer: street, city, postal code and country."""
    return all(str(address.get(name) or "").strip() for name in REQUIRED_ADDRESS_FIELDS)


class BillingProfile(models.Model):
    """Company, contact and postal address, named as Partner Center's billing profile names them."""

    company_name = models.CharField("Company name", max_length=255)
    first_name = models.CharField("First name", max_length=50, blank=True)
    last_name = models.CharField("Last name", max_length=50, blank=True)
    email = models.EmailField("Email", blank=True)
    phone = models.CharField("Phone", max_length=32, blank=True)
    address_line1 = models.CharField("Address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField("City", max_length=100, blank=True)
    state = models.CharField("State or region", max_length=100, blank=True)
    postal_code = models.CharField("Postal code", max_length=20, blank=True)
    country = CountryField("Country", blank=True)

    ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code", "country")

    class Meta:
        abstract = True

    @property
    def has_billing_address(self) -> bool:
        return billing_address_complete(self.billing_profile_dict())

    def billing_profile_dict(self) -> dict[str, str]:
        fields = ("company_name", "first_name", "last_name", "email", "phone", *self.ADDRESS_FIELDS)
        return {name: str(getattr(self, name) or "") for name in fields}


class Order(models.Model):
    """A storefront order; its number exists before anything is sent to Microsoft."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        PROVISIONING = "provisioning", "Provisioning"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Tenant(models.TextChoices):
        NEW = "new", "New Microsoft tenant"
        EXISTING = "existing", "Existing Microsoft tenant"

    number = models.CharField(max_length=20, unique=True, editable=False)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="orders")
    end_customer = models.ForeignKey(
        "customers.EndCustomer", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    tenant = models.CharField(max_length=10, choices=Tenant.choices)
    domain_prefix = models.CharField(max_length=27, blank=True)
    authorization = models.ForeignKey(
        "csp.TenantAuthorization", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    customer_tenant_id = models.CharField(max_length=36, blank=True)
    partner_mpn_id = models.CharField("Partner of record (MPN ID)", max_length=20, blank=True)
    reseller_tenant_id = models.CharField(max_length=36, blank=True)
    billing_profile = models.JSONField(default=dict, blank=True)
    agreement_first_name = models.CharField(max_length=50)
    agreement_last_name = models.CharField(max_length=50)
    agreement_email = models.EmailField()
    agreement_phone = models.CharField(max_length=32, blank=True)
    agreement_accepted_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    failure_reason = models.TextField(blank=True)
    progress = models.JSONField(default=dict, blank=True)
    admin_user_name = models.CharField(max_length=255, blank=True)
    admin_password = models.CharField(max_length=255, blank=True, editable=False)
    admin_password_shown_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    buyer_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The worker's attempts with Microsoft, for support and for the buyer's "Microsoft is not answering".
    attempts = models.PositiveIntegerField("Attempts with Microsoft", default=0, editable=False)
    last_error = models.TextField("Last error from Microsoft", blank=True, editable=False)
    next_attempt_at = models.DateTimeField("Next try", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="order_idempotency_key_unique_per_organization",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def new_number() -> str:
        return "SO-" + uuid.uuid4().hex[:10].upper()

    @property
    def customer_name(self) -> str:
        """Who the order is for, as the buyer knows it."""
        if self.end_customer_id:
            return self.end_customer.company_name
        return self.billing_profile.get("company_name") or self.organization.company_name

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.COMPLETED, self.Status.FAILED}

    @property
    def waiting_on_microsoft(self) -> bool:
        """Accepted here but Microsoft did not answer the last attempt: the worker tries again at next_attempt_at."""
        return not self.is_finished and self.next_attempt_at is not None


class OrderLine(models.Model):
    """One product on an order, with the catalog item and price as they were when ordered."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(max_length=200)
    catalog_item_id = models.CharField(max_length=120)
    term_duration = models.CharField(max_length=8)
    billing_cycle = models.CharField(max_length=20)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    subscription_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity
