from django import forms
from django.contrib.auth.forms import AuthenticationForm


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in form whose fields read Email and Password."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "Please enter a correct email and password. Both fields may be case-sensitive.",
        "inactive": "This account is inactive.",
    }
