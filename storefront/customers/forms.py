"""The billing profile form, with Microsoft's customer data rules checked next to each field."""

from django import forms
from django.core.exceptions import ValidationError

from billing.models import REQUIRED_ADDRESS_FIELDS
from billing.validators import (
    STATE_REQUIRED,
    normalize_state,
    validate_address_text,
    validate_company_name,
    validate_person_name,
    validate_phone,
    validate_postal_code,
)
from storefront.accounts.models import Organization
from storefront.customers.models import EndCustomer

PROFILE_FIELDS = [
    "company_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
]
ADDRESS_TEXT = {"address_line1": "street address", "address_line2": "address line 2", "city": "city"}


class BillingProfileForm(forms.ModelForm):
    """Company, contact and address; the address is required when `address_required` says so."""

    def __init__(self, *args, address_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.address_required = address_required
        for name in ("company_name", "first_name", "last_name", "email"):
            self.fields[name].required = True
        for name in REQUIRED_ADDRESS_FIELDS:
            self.fields[name].required = address_required
        self.fields["state"].help_text = "US and Canada: two-letter code (WA, ON). Australia: full name."
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("autocomplete", _AUTOCOMPLETE.get(name, "off"))

    def clean_company_name(self):
        value = self.cleaned_data["company_name"].strip()
        validate_company_name(value)
        return value

    def clean_first_name(self):
        value = self.cleaned_data["first_name"].strip()
        validate_person_name(value)
        return value

    def clean_last_name(self):
        value = self.cleaned_data["last_name"].strip()
        validate_person_name(value)
        return value

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        validate_phone(value)
        return value

    def clean(self):
        data = super().clean()
        country = str(data.get("country") or "")
        for name, what in ADDRESS_TEXT.items():
            try:
                validate_address_text(data.get(name) or "", what)
            except ValidationError as error:
                self.add_error(name, error)
        partial = any(data.get(name) for name in REQUIRED_ADDRESS_FIELDS if name != "country")
        if partial and not self.address_required:
            for name in REQUIRED_ADDRESS_FIELDS:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Complete the address, or leave all address fields empty.")
        elif country and not partial and "address_line1" not in self.errors:
            # A country alone is an address Microsoft refuses: it needs the street, city and postal code with it.
            self.add_error(
                "address_line1", "Enter the street address for this country, or leave the country empty."
            )
        try:
            data["state"] = normalize_state(country, data.get("state", ""))
        except ValidationError as error:
            self.add_error("state", error)
        state_missing = data.get("address_line1") and not data.get("state") and "state" not in self.errors
        if state_missing and country in STATE_REQUIRED:
            self.add_error("state", STATE_REQUIRED[country])
        try:
            validate_postal_code(country, data.get("postal_code", ""))
        except ValidationError as error:
            self.add_error("postal_code", error)
        return data


_AUTOCOMPLETE = {
    "company_name": "organization",
    "first_name": "given-name",
    "last_name": "family-name",
    "email": "email",
    "phone": "tel",
    "address_line1": "address-line1",
    "address_line2": "address-line2",
    "city": "address-level2",
    "state": "address-level1",
    "postal_code": "postal-code",
    "country": "country",
}


class EndCustomerForm(BillingProfileForm):
    class Meta:
        model = EndCustomer
        fields = PROFILE_FIELDS


class OrganizationProfileForm(BillingProfileForm):
    class Meta:
        model = Organization
        fields = PROFILE_FIELDS
