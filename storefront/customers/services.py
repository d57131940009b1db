"""Writes of end-customers, always within the reseller that owns them."""

from typing import Any

from billing.models import REQUIRED_ADDRESS_FIELDS, billing_address_complete
from common.errors import InvalidInput
from csp import addresses
from storefront.accounts.models import Organization
from storefront.checkout.services import billing_address_required
from storefront.customers.forms import BillingProfileForm, EndCustomerForm
from storefront.customers.models import EndCustomer


def billing_profile_form_confirm(form: BillingProfileForm) -> bool:
    """A valid form whose complete address Microsoft also accepts; its problem is shown next to Address line 1."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    if not billing_address_complete(data):
        return True
    problem = addresses.billing_address_problem(
        address={
            name: str(data.get(name) or "") for name in (*REQUIRED_ADDRESS_FIELDS, "address_line2", "state")
        }
    )
    if problem:
        form.add_error("address_line1", problem)
        return False
    return True


def end_customer_save(*, form: EndCustomerForm, reseller: Organization) -> EndCustomer | None:
    """Saves the form's end-customer for this reseller once Microsoft's rules pass; None leaves the errors on it."""
    if not billing_profile_form_confirm(form):
        return None
    end_customer = form.save(commit=False)
    end_customer.reseller = reseller
    end_customer.save()
    return end_customer


def end_customer_create(*, reseller: Organization, data: dict[str, Any]) -> EndCustomer:
    """Creates an end-customer after Microsoft's data rules and the admin's billing-address switch."""
    if not reseller.is_reseller:
        raise InvalidInput("Only resellers have end-customers.")
    form = EndCustomerForm(data=data, address_required=billing_address_required(organization=reseller))
    end_customer = end_customer_save(form=form, reseller=reseller)
    if end_customer is None:
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        first_field, first_messages = next(iter(fields.items()))
        raise InvalidInput(f"{first_field}: {first_messages[0]}", fields=fields)
    return end_customer
