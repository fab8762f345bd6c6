"""The supplier form: what the buyer types. The rules (RIDET, RIB or IBAN, terms,
e-mail, uniqueness) are procurement.services.suppliers', whose refusals come back
on the fields they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..services.suppliers import EDITABLE_FIELDS


def _text_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, widget=_text_input())
    ridet = forms.CharField(
        label=_("RIDET"),
        max_length=30,
        help_text=_("7 digits for the company, then 3 for the establishment: 1234567.001."),
        widget=_text_input(autocomplete="off", placeholder="1234567.001"),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    contact_name = forms.CharField(
        label=_("Contact"), required=False, max_length=120, widget=_text_input()
    )
    email = forms.CharField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        widget=_text_input(type="email", autocomplete="off"),
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=40, widget=_text_input(type="tel")
    )
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"),
        initial=30,
        help_text=_("From receipt of the invoice: 0 to 365 days."),
        widget=forms.NumberInput(attrs={"class": "form-control", "min": 0, "max": 365}),
    )
    bank_name = forms.CharField(
        label=_("Bank"), required=False, max_length=120, widget=_text_input()
    )
    bank_account = forms.CharField(
        label=_("Bank account (RIB or IBAN)"),
        required=False,
        max_length=60,
        help_text=_("RIB: bank, branch, account and key (23 characters), or an IBAN."),
        widget=_text_input(autocomplete="off", placeholder="17499 00010 12345678901 02"),
    )

    field_order = EDITABLE_FIELDS

    @classmethod
    def initial_of(cls, supplier) -> dict:
        return {name: getattr(supplier, name) for name in EDITABLE_FIELDS}
