"""Forms of the order pages: the order of a commitment, and the cancellation reason."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dsi_finance.widgets import FrenchDateField


class PurchaseOrderForm(forms.Form):
    delivery_address = forms.CharField(
        label=_("Delivery address"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("Left empty, the order names the IT department's address."),
    )
    delivery_date = FrenchDateField(label=_("Expected delivery"), required=False)
    notes = forms.CharField(
        label=_("Notes for the supplier"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class ReasonForm(forms.Form):
    """The written reason of a cancellation."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
