"""Settings the distributor switches in Django admin."""

from django.db import models

from common.singleton import SingletonModel


class StorefrontConfiguration(SingletonModel):
    """The storefront's one row of settings (Setup → Storefront Configuration in the seed's platform)."""

    sub_customers_billing_address = models.BooleanField(
        "Sub customers billing address",
        default=False,
        help_text="Require the end-customer's billing address at checkout and send it to Microsoft Partner Center.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Storefront Configuration"
        verbose_name_plural = "Storefront Configuration"

    def __str__(self) -> str:
        return "Storefront Configuration"
