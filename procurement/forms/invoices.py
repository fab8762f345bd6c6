"""Forms of the invoice pages: the entry form and its lines, the actions of an
invoice's page, and the upload of payment dates.

The forms only shape what was typed: amounts and quantities go to
procurement.services.invoices as typed (`1 234,56`), whose rules (currency,
decimals, TGC in force on the invoice date, received quantities, duplicates)
answer in French.
"""

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsi_finance.forms import LineChoiceField
from dsi_finance.money import format_xpf
from dsi_finance.widgets import FrenchDateField
from dsi_finance.xlsx import XLSX_CONTENT_TYPE

from ..models import Commitment, CommitmentLine, Supplier, TaxRate
from ..selectors.invoices import direct_invoice_lines, open_commitments
from ..services.invoices import MAX_LINES
from ..services.payments import PAYMENT_IMPORT_MAX_BYTES
from . import QUANTITY_HELP

CURRENCIES = ("XPF", "EUR", "USD", "AUD", "NZD", "JPY")


def matching_url() -> str:
    return reverse("procurement:invoice-commitment-lines")


class InvoiceForm(forms.Form):
    """The invoice's header: supplier, its number, dates, currency, and the commitment
    it is matched to (none: a direct invoice)."""

    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=Supplier.objects.filter(is_active=True).order_by("name"),
        empty_label=_("Choose a supplier"),
    )
    supplier_number = forms.CharField(label=_("Supplier's invoice number"), max_length=60)
    # The control total, in the invoice's currency as printed on the paper: francs in
    # XPF (read by dsi_finance.money.parse_francs in the service), cents otherwise. Not a
    # FrancsField for that reason; the service compares it with the total of the lines.
    total_ttc = forms.CharField(
        label=_("Supplier's invoice total with tax"),
        max_length=30,
        help_text=_("As printed on the invoice, in its currency: it must equal the lines' total."),
        error_messages={"required": _("Enter the invoice's total with tax, as printed on it.")},
    )
    invoice_date = FrenchDateField(label=_("Invoice date"))
    received_on = FrenchDateField(label=_("Received on"))
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="XPF")
    exchange_rate = forms.CharField(
        label=_("Exchange rate (F CFP for 1 unit)"),
        max_length=20,
        required=False,
        help_text=_("EUR: the fixed parity applies. Other currencies: the rate is required."),
    )
    commitment = forms.ModelChoiceField(
        label=_("Commitment"),
        queryset=Commitment.objects.none(),
        required=False,
        empty_label=_("None: direct invoice"),
    )
    all_commitments = forms.BooleanField(
        label=_("Also show the commitments with nothing left to invoice"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        supplier = self.chosen_supplier
        commitment_field = self.fields["commitment"]
        # By default only the supplier's commitments with something left to invoice, and
        # the one already chosen (a commitment's page link, a form sent back) whatever
        # its remainder; the checkbox shows them all.
        commitment_field.queryset = (
            open_commitments(
                supplier=supplier,
                left_to_invoice_only=not self.shows_all_commitments,
                keep=self._value("commitment"),
            )
            if supplier
            else Commitment.objects.none()
        )
        commitment_field.label_from_instance = lambda c: (
            _("%(number)s — %(subject)s (left to invoice: %(amount)s)")
            % {"number": c.number, "subject": c.subject, "amount": format_xpf(c.to_invoice)}
        )
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["currency"].widget.attrs.update(
            {"list": "invoice-currencies", "maxlength": "3", "autocomplete": "off"}
        )
        self.fields["exchange_rate"].widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off"}
        )
        self.fields["total_ttc"].widget.attrs.update(
            {
                "class": "form-control amount",
                "inputmode": "decimal",
                "autocomplete": "off",
                "data-invoice-control": "",
                # In XPF, the amount understood is echoed as typed (static/js/francs.js).
                "data-francs": reverse("francs-echo"),
                "data-francs-currency": "[name=currency]",
            }
        )
        self.fields["all_commitments"].widget.attrs["class"] = "form-check-input"
        # htmx: choosing the supplier or the commitment reloads the matching region.
        swap = {
            "hx-get": matching_url(),
            "hx-target": "#invoice-matching",
            "hx-swap": "outerHTML",
        }
        self.fields["supplier"].widget.attrs.update(
            {**swap, "hx-include": "[name=currency],[name=exchange_rate],[name=all_commitments]"}
        )
        self.fields["commitment"].widget.attrs.update(
            {
                **swap,
                "hx-include": (
                    "[name=supplier],[name=currency],[name=exchange_rate],[name=all_commitments]"
                ),
            }
        )
        self.fields["all_commitments"].widget.attrs.update(
            {
                **swap,
                "hx-include": (
                    "[name=supplier],[name=commitment],[name=currency],[name=exchange_rate]"
                ),
            }
        )

    def _value(self, name: str) -> int | None:
        value = self[name].value()
        if value in (None, "") or not str(value).isdigit():
            return None
        return int(value)

    @property
    def shows_all_commitments(self) -> bool:
        return self["all_commitments"].value() is True

    @property
    def chosen_supplier(self) -> Supplier | None:
        pk = self._value("supplier")
        return self.fields["supplier"].queryset.filter(pk=pk).first() if pk else None

    @property
    def chosen_commitment(self) -> Commitment | None:
        pk = self._value("commitment")
        return self.fields["commitment"].queryset.filter(pk=pk).first() if pk else None

    @property
    def currency_value(self) -> str:
        return (self["currency"].value() or "XPF").strip().upper()


class BudgetLineAvailableField(LineChoiceField):
    """A budget line select whose options say what is still available."""

    def label_from_instance(self, obj) -> str:
        return _("%(code)s — %(label)s (available %(available)s)") % {
            "code": obj.code,
            "label": obj.label,
            "available": format_xpf(obj.available_amount),
        }


class CommitmentLineField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.position}. {obj.description}"


def tax_rates_in_force():
    today = timezone.localdate()
    return TaxRate.objects.filter(valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


class InvoiceLineForm(forms.Form):
    """One invoice line: matched to a commitment line, or (direct) charged to a budget line."""

    commitment_line = CommitmentLineField(
        label=_("Commitment line"),
        queryset=CommitmentLine.objects.none(),
        required=False,
        empty_label=_("Choose the line"),
    )
    budget_line = BudgetLineAvailableField(
        label=_("Budget line"), queryset=None, required=False, empty_label=_("Choose a line")
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.CharField(
        label=_("Quantity"),
        max_length=20,
        required=False,
        help_text=QUANTITY_HELP,
    )
    amount = forms.CharField(label=_("Amount before tax"), max_length=30)
    tax_rate = forms.ModelChoiceField(
        label=_("TGC"), queryset=TaxRate.objects.none(), empty_label=None
    )

    def __init__(self, *args, commitment=None, budget_lines=None, tax_rates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        self.fields["commitment_line"].queryset = (
            CommitmentLine.objects.filter(commitment=commitment).order_by("position")
            if commitment is not None
            else CommitmentLine.objects.none()
        )
        self.fields["budget_line"].queryset = (
            budget_lines if budget_lines is not None else direct_invoice_lines()
        )
        self.fields["tax_rate"].queryset = (
            tax_rates if tax_rates is not None else tax_rates_in_force()
        )
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control"
            field.widget.attrs.update(
                {"class": f"{css} form-control-sm", "aria-label": field.label}
            )
        self.fields["commitment_line"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["budget_line"].widget.attrs.update(
            {
                "class": "form-select form-select-sm",
                # htmx shows the chosen line's live available amount under the select.
                "hx-get": reverse("procurement:invoice-line-availability"),
                "hx-target": "next .line-availability",
                "hx-swap": "innerHTML",
            }
        )
        self.fields["tax_rate"].widget.attrs["class"] = "form-select form-select-sm invoice-rate"
        self.fields["amount"].widget.attrs.update(
            {
                "class": "form-control form-control-sm amount invoice-amount",
                "inputmode": "decimal",
                "autocomplete": "off",
                # In XPF, the amount understood is echoed as typed (static/js/francs.js);
                # in another currency the amount has cents and no echo.
                "data-francs": reverse("francs-echo"),
                "data-francs-currency": "[name=currency]",
            }
        )
        self.fields["quantity"].widget.attrs.update(
            {
                "class": "form-control form-control-sm amount",
                "inputmode": "decimal",
                "title": QUANTITY_HELP,
            }
        )

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()

    @property
    def chosen_line(self):
        """The budget line chosen (a form sent back with an error), with its figures."""
        value = self["budget_line"].value()
        if self.commitment is not None or value in (None, "") or not str(value).isdigit():
            return None
        return self.fields["budget_line"].queryset.filter(pk=int(value)).first()

    def as_line(self) -> dict:
        """The line in the shape procurement.services.invoices.invoice_create takes."""
        data = self.cleaned_data
        return {
            "description": data.get("description", ""),
            "amount_ht": data.get("amount"),
            "tax_rate": data.get("tax_rate"),
            "quantity": data.get("quantity") or None,
            "commitment_line": data.get("commitment_line"),
            "budget_line": data.get("budget_line") if self.commitment is None else None,
        }


class BaseInvoiceLineFormSet(forms.BaseFormSet):
    """The lines: one select of commitment lines, budget lines and TGC rates for all rows."""

    def __init__(self, *args, commitment=None, **kwargs):
        self.commitment = commitment
        self._budget_lines = direct_invoice_lines() if commitment is None else None
        self._tax_rates = tax_rates_in_force()
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs.update(
            commitment=self.commitment,
            budget_lines=self._budget_lines,
            tax_rates=self._tax_rates,
        )
        return kwargs

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            renderer=self.renderer,
            **self.get_form_kwargs(None),
        )
        self.add_fields(form, None)
        return form

    def lines(self) -> list[dict]:
        """The lines to record: the rows kept, filled in."""
        return [
            form.as_line()
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


InvoiceLineFormSet = forms.formset_factory(
    InvoiceLineForm,
    formset=BaseInvoiceLineFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_LINES,
    validate_max=True,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class LiquidationForm(forms.Form):
    override_reason = forms.CharField(
        label=_("Reason for committing beyond the available amount"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class PaymentDateForm(forms.Form):
    payment_date = FrenchDateField(label=_("Paid on"))


class PaymentImportForm(forms.Form):
    file = forms.FileField(
        label=_("Payment file (XLSX)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": f".xlsx,{XLSX_CONTENT_TYPE}", "class": "form-control"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > PAYMENT_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.")
                % {"size": PAYMENT_IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload
