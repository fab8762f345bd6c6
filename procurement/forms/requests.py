"""Forms of the purchase request pages: the request and its lines (a formset), the
decisions (approve, reject, cancel) and the attachment upload.

The forms read what the person typed (French numbers, whole francs, a TGC rate
in force, a budget line of the open year) and say what is wrong beside the
field; the rules of the request (one year, an active supplier, amounts, states)
are procurement.services.requests', whose refusals the views add to the form.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from budgets.models import BudgetLine
from dsi_finance.file_sizes import format_file_size
from dsi_finance.forms import FrancsField, FrancsInput, LineChoiceField

from ..models import Supplier, TaxRate
from ..selectors.requests import budget_line_choices
from ..selectors.suppliers import tax_rates_in_force
from ..services.common import validate_quantity
from ..services.requests import MAX_LINES
from . import QUANTITY_HELP


class TaxRateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.rate.normalize():f}\u00a0%"


class PurchaseRequestForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=Supplier.objects.none(),
        empty_label=_("Choose a supplier"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    justification = forms.CharField(
        label=_("Justification"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def __init__(self, *args, current_supplier: Supplier | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        suppliers = Supplier.objects.filter(is_active=True)
        if current_supplier is not None:
            # A draft keeps showing its supplier even if deactivated since; the service
            # says so when the request is saved.
            suppliers = Supplier.objects.filter(is_active=True) | Supplier.objects.filter(
                pk=current_supplier.pk
            )
        self.fields["supplier"].queryset = suppliers.order_by("name", "pk")


class RequestLineForm(forms.Form):
    """One line: description, quantity (decimals allowed), unit price before tax in whole
    francs, TGC rate in force today, budget line (optional while drafting)."""

    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    quantity = forms.CharField(
        label=_("Quantity"),
        max_length=20,
        help_text=QUANTITY_HELP,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm amount",
                "inputmode": "decimal",
                "autocomplete": "off",
                "title": QUANTITY_HELP,
            }
        ),
    )
    unit_price = FrancsField(
        label=_("Unit price before tax (F CFP)"),
        amount_label=_("The unit price"),
        widget=FrancsInput(attrs={"class": "form-control form-control-sm amount"}),
    )
    tax_rate = TaxRateChoiceField(
        label=_("TGC"),
        queryset=TaxRate.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    budget_line = LineChoiceField(
        label=_("Budget line"),
        queryset=BudgetLine.objects.none(),
        required=False,
        empty_label=_("Choose a line"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        rates = tax_rates_in_force(on=timezone.localdate())
        self.fields["tax_rate"].queryset = rates
        standard = next(
            (rate for rate in rates if rate.rate == Decimal(settings.PROCUREMENT_DEFAULT_TGC_RATE)),
            None,
        )
        if standard is not None:
            self.fields["tax_rate"].initial = standard.pk
        self.fields["budget_line"].queryset = budget_line_choices(actor=actor)

    def clean_quantity(self):
        try:
            return validate_quantity(self.cleaned_data["quantity"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None

    def clean_unit_price(self) -> int:
        price = self.cleaned_data["unit_price"]
        if price <= 0:
            raise forms.ValidationError(_("The unit price must be more than zero francs."))
        return price

    def as_service_line(self) -> dict:
        data = self.cleaned_data
        return {
            "description": data["description"],
            "quantity": data["quantity"],
            "unit_price": data["unit_price"],
            "tax_rate": data["tax_rate"],
            "budget_line": data.get("budget_line"),
        }


class BaseRequestLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, actor=None, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["actor"] = self.actor
        return kwargs

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        self._share_choices(form)
        return form

    def _share_choices(self, form) -> None:
        """The selects' options are read once for all the rows (50 rows, hundreds of
        budget lines: one query, not fifty)."""
        cache = self.__dict__.setdefault("_choices_cache", {})
        for name in ("budget_line", "tax_rate"):
            field = form.fields[name]
            if name not in cache:
                cache[name] = list(field.choices)
            field.choices = cache[name]

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            actor=self.actor,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        self._share_choices(form)
        return form

    def kept_forms(self) -> list[RequestLineForm]:
        """The request's lines (changed or not) and the filled new rows, in order, without
        those marked for removal."""
        initial = self.initial_form_count()
        return [
            form
            for index, form in enumerate(self.forms)
            if (index < initial or form.has_changed()) and not self._should_delete_form(form)
        ]

    def service_lines(self) -> list[dict]:
        return [form.as_service_line() for form in self.kept_forms()]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not self.kept_forms():
            raise forms.ValidationError(_("A purchase request needs at least one line."))


RequestLineFormSet = forms.formset_factory(
    RequestLineForm,
    formset=BaseRequestLineFormSet,
    extra=0,
    min_num=1,
    max_num=MAX_LINES,
    absolute_max=MAX_LINES * 4,  # rows added then removed still count in TOTAL_FORMS
    validate_max=True,
    can_delete=True,
)
LINES_PREFIX = "lines"


def lines_formset(*, actor, data=None, initial=None) -> BaseRequestLineFormSet:
    return RequestLineFormSet(data=data, initial=initial, prefix=LINES_PREFIX, actor=actor)


class DecisionForm(forms.Form):
    """The reason of a decision: required to reject or cancel, the override reason of
    an approval over a short available amount (the service decides when it is needed)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control",
                "accept": ",".join(f".{ext}" for ext in settings.PROCUREMENT_ATTACHMENT_EXTENSIONS),
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("%(formats)s; %(max)s at most.") % {
            "formats": ", ".join(settings.PROCUREMENT_ATTACHMENT_EXTENSIONS),
            "max": format_file_size(settings.PROCUREMENT_ATTACHMENT_MAX_BYTES),
        }
