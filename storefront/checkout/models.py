"""The checkout draft: what a buyer has chosen so far, kept in the database so they can resume anywhere."""

from django.conf import settings
from django.db import models


class CheckoutDraft(models.Model):
    """One open checkout per user; the cart lines and every step's answers live here until the order exists."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ORDERED = "ordered", "Ordered"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkout_drafts"
    )
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    lines = models.JSONField(default=dict, blank=True, help_text="product id -> quantity")
    end_customer = models.ForeignKey(
        "customers.EndCustomer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_confirmed = models.BooleanField(default=False)
    domain_prefix = models.CharField(max_length=64, blank=True)
    existing_tenant = models.BooleanField(default=False)
    mpn_id = models.CharField(max_length=40, blank=True)
    authorization = models.ForeignKey(
        "csp.TenantAuthorization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service_details_done = models.BooleanField(default=False)
    order = models.ForeignKey(
        "billing.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="open"), name="one_open_checkout_draft_per_user"
            )
        ]
