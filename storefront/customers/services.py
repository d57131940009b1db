"""Writes of end-customers, always within the reseller that owns them."""

from typing import Any

from csp.errors import InvalidInput
from storefront.accounts.models import Organization
from storefront.checkout.services import billing_address_required
from storefront.customers.forms import EndCustomerForm
from storefront.customers.models import EndCustomer


def end_customer_create(*, reseller: Organization, data: dict[str, Any]) -> EndCustomer:
    """Creates an end-customer after Microsoft's data rules and the admin's billing-address switch."""
    if not reseller.is_reseller:
        raise InvalidInput("Only resellers have end-customers.")
    form = EndCustomerForm(data=data, address_required=billing_address_required(reseller))
    if not form.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        first_field, first_messages = next(iter(fields.items()))
        raise InvalidInput(f"{first_field}: {first_messages[0]}", fields=fields)
    end_customer = form.save(commit=False)
    end_customer.reseller = reseller
    end_customer.save()
    return end_customer
