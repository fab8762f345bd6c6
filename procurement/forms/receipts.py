"""The receipt form: a date, a note, and one quantity per ordered line."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dsi_finance.widgets import FrenchDateField

from . import QUANTITY_HELP
from .orders import ReasonForm

__all__ = ["ReasonForm", "ReceiptForm"]


class ReceiptForm(forms.Form):
    """`lines` are the commitment's lines that carry a quantity, each with `left` (what
    remains to receive); a field `quantity_<line id>` per line. The quantities are read
    by procurement.services.receipts.receipt_create, which refuses what is wrong."""

    received_on = FrenchDateField(label=_("Received on"))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = forms.CharField(
                label=line.description,
                required=False,
                max_length=30,
                help_text=QUANTITY_HELP,
                widget=forms.TextInput(
                    attrs={
                        "class": "form-control amount receipt-quantity",
                        "inputmode": "decimal",
                        "autocomplete": "off",
                        "title": QUANTITY_HELP,
                        "data-left": f"{line.left.normalize():f}" if line.left > 0 else "",
                        "disabled": line.left <= 0,
                    }
                ),
            )

    @staticmethod
    def field_name(line) -> str:
        return f"quantity_{line.pk}"

    def rows(self):
        """(line, bound field) pairs, for the template."""
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def quantities(self) -> dict[int, str]:
        return {line.pk: self.cleaned_data.get(self.field_name(line), "") for line in self.lines}
