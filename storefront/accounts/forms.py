from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from .tokens import NAME_MAX_LENGTH


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in form whose fields read Email and Password."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "Please enter a correct email and password. Both fields may be case-sensitive.",
        "inactive": "This account is inactive.",
    }


class EmailPasswordResetForm(PasswordResetForm):
    """Django's reset form; the email is matched whatever its case (accounts store emails lower-cased)."""

    def get_users(self, email: str):
        return super().get_users(email.strip().lower())


class ApiTokenForm(forms.Form):
    DAYS = [("30", "30 days"), ("90", "90 days"), ("180", "180 days"), ("365", "1 year")]

    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="What it is for, for example “ERP integration”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    days = forms.ChoiceField(label="Expires after", choices=DAYS, initial="90")
