"""Forms of the commitment pages: a recurring contract's commitment and its lines,
and the closing of a commitment.

The forms read and shape what was typed (whole francs, dates, the chosen lines);
the rules (capability, period, the available amount) are
procurement.services.commitments'.
"""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dsi_finance.forms import FrancsField, FrancsInput, LineChoiceField
from dsi_finance.widgets import FrenchDateField

from ..models import Supplier
from ..selectors.commitments import open_year_lines

MAX_LINES = 50


class RecurringCommitmentForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=Supplier.objects.filter(is_active=True).order_by("name"),
        empty_label=_("Choose a supplier"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "class": "form-control",
                "placeholder": _("e.g. Maintenance of the telephone exchange, 2026"),
            }
        ),
    )
    period_start = FrenchDateField(label=_("From"))
    period_end = FrenchDateField(label=_("To"))
    override_reason = forms.CharField(
        label=_("Reason for committing beyond the available amount"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class CommitmentLineForm(forms.Form):
    budget_line = LineChoiceField(
        label=_("Budget line"), queryset=None, empty_label=_("Choose a line")
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    amount = FrancsField(
        label=_("Amount before tax (F CFP)"),
        widget=FrancsInput(attrs={"class": "form-control amount", "placeholder": "1 200 000"}),
    )

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["budget_line"]
        field.queryset = lines if lines is not None else open_year_lines()
        # htmx shows the chosen line's available amount under the select.
        field.widget.attrs.update(
            {
                "class": "form-select form-select-sm",
                "aria-label": _("Budget line"),
                "hx-get": reverse("procurement:commitment-line-availability"),
                "hx-target": "next .line-availability",
                "hx-swap": "innerHTML",
            }
        )

    def full_clean(self):
        super().full_clean()
        if "budget_line" in self.errors:
            attrs = self.fields["budget_line"].widget.attrs
            attrs["class"] = f"{attrs['class']} is-invalid"

    @property
    def chosen_line(self):
        """The line chosen (a form sent back with an error), with its figures, or None."""
        value = self["budget_line"].value()
        if value in (None, "") or not str(value).isdigit():
            return None
        return self.fields["budget_line"].queryset.filter(pk=int(value)).first()

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("The amount must be positive."))
        return amount


class BaseCommitmentLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lines = open_year_lines()  # one queryset for every row's select

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["lines"] = self._lines
        return kwargs

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            lines=self._lines,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form


CommitmentLineFormSet = forms.formset_factory(
    CommitmentLineForm,
    formset=BaseCommitmentLineFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_LINES,
    validate_max=True,
)


class CommitmentCloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
