"""Forms of the budgets pages: transfers, revisions and the XLSX import."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dsi_finance.file_sizes import format_file_size
from dsi_finance.forms import FrancsField, FrancsInput, LineChoiceField
from dsi_finance.widgets import FrenchDateField
from dsi_finance.xlsx import XLSX_CONTENT_TYPE, ImportFileError

from .models import BudgetLine, BudgetRevision, CostCentre, FiscalYear, NatureAccount, Project
from .selectors import line_availability
from .xlsx import IMPORT_MAX_BYTES, amount_label, read_revision_sheet

# --- Transfers (helper "disco") ---------------------------------------------


class TransferForm(forms.Form):
    """Source and target lines (of the years still open or in preparation), the amount
    in whole francs and the reason. The budget rules (same year, same section, enough
    available) are budgets.services.transfer_request's."""

    source = LineChoiceField(
        label=_("From line"), queryset=BudgetLine.objects.none(), empty_label=_("Choose a line")
    )
    target = LineChoiceField(
        label=_("To line"), queryset=BudgetLine.objects.none(), empty_label=_("Choose a line")
    )
    amount = FrancsField(
        label=_("Amount (F CFP)"), widget=FrancsInput(attrs={"class": "form-control"})
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lines = (
            line_availability()
            .filter(fiscal_year__state__in=[FiscalYear.State.OPEN, FiscalYear.State.PREPARATION])
            .order_by("-fiscal_year__year", "section", "code")
        )
        for name in ("source", "target"):
            field = self.fields[name]
            field.queryset = lines
            # htmx shows the chosen line's availability beside the select.
            field.widget.attrs.update(
                {
                    "class": "form-select",
                    "hx-get": reverse("budgets:transfer-line-availability"),
                    "hx-target": f"#{name}-availability",
                    "hx-swap": "innerHTML",
                }
            )


class TransferDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Decision note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


# --- Revisions and their XLSX import (helper "revisions") -------------------


class RevisionAmountField(FrancsField):
    """Whole francs typed as `1 234 567`, `1.234.567` (or -50 000 for a DM cut); empty
    gives None.

    Decimals and text are refused with a French message (dsi_finance.forms.FrancsField,
    the same reading as an imported cell). Sign, zero and size are the service's rules.
    """


class RevisionItemForm(forms.Form):
    """One line of the revision editor: the amount (BP) or change (DM) and its justification."""

    amount = RevisionAmountField(label=_("Amount"), required=False)
    justification = forms.CharField(label=_("Justification"), required=False, max_length=2000)

    def __init__(self, revision: BudgetRevision, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].amount_label = amount_label(revision)

    def clean(self):
        data = super().clean()
        if (
            data.get("amount") is None
            and "amount" not in self.errors
            and data.get("justification", "").strip()
        ):
            self.add_error(
                "amount",
                _(
                    "Enter an amount, or clear the justification too to take the line "
                    "out of the revision."
                ),
            )
        return data


class RevisionLineForm(forms.Form):
    """A new budget line, added to the year with its amount in a draft revision."""

    code = forms.CharField(label=_("Code"), max_length=40)
    label = forms.CharField(label=_("Label"), max_length=200)
    nature_account = forms.ModelChoiceField(
        label=_("Account"),
        queryset=NatureAccount.objects.select_related("chapter").order_by("number"),
        empty_label=_("Choose an account"),
    )
    cost_centre = forms.ModelChoiceField(
        label=_("Cost centre"),
        queryset=CostCentre.objects.filter(is_active=True).order_by("code"),
        empty_label=_("Choose a cost centre"),
    )
    project = forms.ModelChoiceField(
        label=_("Project"),
        queryset=Project.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("No project"),
    )
    amount = RevisionAmountField(label=_("Amount"))
    justification = forms.CharField(
        label=_("Justification"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, revision: BudgetRevision, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.revision = revision
        self.fields["amount"].amount_label = amount_label(revision)
        self.fields["amount"].label = (
            _("Change (F CFP)") if revision.is_amending else _("Amount (F CFP)")
        )
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
            field.widget.attrs.setdefault("id", f"new-line-{name}")

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if BudgetLine.objects.filter(
            fiscal_year_id=self.revision.fiscal_year_id, code=code
        ).exists():
            raise forms.ValidationError(
                _("The line code %(code)s is already used in %(year)s.")
                % {"code": code, "year": self.revision.fiscal_year.year}
            )
        return code

    def clean(self):
        data = super().clean()
        account, centre = data.get("nature_account"), data.get("cost_centre")
        if account and centre:
            other = BudgetLine.objects.filter(
                fiscal_year_id=self.revision.fiscal_year_id,
                nature_account=account,
                cost_centre=centre,
                project=data.get("project"),
            ).first()
            if other is not None:
                self.add_error(
                    None,
                    _(
                        "The line %(other)s already has this account, cost centre and "
                        "project: use its code."
                    )
                    % {"other": other.code},
                )
        amount = data.get("amount")
        if self.revision.is_amending and amount is not None and amount < 0:
            self.add_error(
                "amount",
                _("The new line %(code)s cannot start with a cut.")
                % {"code": data.get("code", "")},
            )
        return data


class RevisionCreateForm(forms.Form):
    fiscal_year = forms.ModelChoiceField(label=_("Fiscal year"), queryset=FiscalYear.objects.all())
    kind = forms.ChoiceField(label=_("Kind"), choices=BudgetRevision.Kind.choices)


class RevisionVoteForm(forms.Form):
    vote_date = FrenchDateField(label=_("Vote date"))
    vote_reference = forms.CharField(
        label=_("Vote reference"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("e.g. Resolution no. 2026-014")}
        ),
    )


class RevisionImportForm(forms.Form):
    """An XLSX proposal: only .xlsx, at most IMPORT_MAX_BYTES, readable, with the header."""

    REPLACE = "replace"
    MERGE = "merge"

    file = forms.FileField(
        label=_("XLSX file"),
        widget=forms.ClearableFileInput(
            attrs={"accept": f".xlsx,{XLSX_CONTENT_TYPE}", "class": "form-control"}
        ),
    )
    mode = forms.ChoiceField(
        label=_("What the file is"),
        choices=[
            (REPLACE, _("The whole proposal: lines of the draft missing from the file leave it")),
            (MERGE, _("A part of the proposal: lines of the draft missing from the file stay")),
        ],
        initial=REPLACE,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(
                _("Only XLSX workbooks (.xlsx) can be imported, not “%(name)s”.")
                % {"name": upload.name}
            )
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file weighs %(size)s: the limit is %(max)s.")
                % {"size": format_file_size(upload.size), "max": format_file_size(IMPORT_MAX_BYTES)}
            )
        content = upload.read()
        try:
            self.sheet_rows = read_revision_sheet(content)
        except ImportFileError as error:
            raise forms.ValidationError(error.messages) from None
        self.content = content
        return upload

    @property
    def replace(self) -> bool:
        return self.cleaned_data.get("mode") == self.REPLACE
