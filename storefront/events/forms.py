from django import forms

from storefront.events.models import EventType


class EventEndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="An https:// address of your system that accepts POST requests.",
        widget=forms.URLInput(attrs={"placeholder": "https://psa.example.com/hooks/storefront"}),
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events", choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
