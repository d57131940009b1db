from django import forms

from billing.validators import validate_person_name, validate_phone
from storefront.checkout.services import AgreementAcceptance


class AgreementForm(forms.Form):
    """The customer contact who accepts the Microsoft Customer Agreement, as Microsoft records it."""

    first_name = forms.CharField(label="First name", max_length=50, validators=[validate_person_name])
    last_name = forms.CharField(label="Last name", max_length=50, validators=[validate_person_name])
    email = forms.EmailField(label="Email")
    phone = forms.CharField(label="Phone", max_length=32, required=False, validators=[validate_phone])
    accepted = forms.BooleanField(
        label="The customer has accepted the Microsoft Customer Agreement",
        error_messages={"required": "The customer must accept the Microsoft Customer Agreement to order."},
    )

    def acceptance(self) -> AgreementAcceptance:
        data = self.cleaned_data
        return AgreementAcceptance(
            accepted=data["accepted"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data.get("phone", ""),
        )
