"""Shared form fields of the kernel.

`FrancsField` is the one form field for an amount in francs CFP: it reads what
people type through `dsi_finance.money.parse_francs` (`250 000`, `250.000`,
`250'000`… are all 250 000; `250.5` is refused with a French message) and marks
its input with `data-francs` so that the page echoes, as one types, the amount
understood (`= 250 000 F CFP`) or the reason it is refused (static/js/francs.js
asks the kernel view `dsi_finance:francs-echo`, which calls the same parser).
Sign, zero and size are the services' rules, not the field's.
"""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.urls import reverse_lazy

from .money import parse_francs

FRANCS_MAX_LENGTH = 30


class FrancsInput(forms.TextInput):
    """A text input for francs: numeric keyboard, no autocomplete, the echo marker."""

    def __init__(self, attrs=None):
        defaults = {
            "inputmode": "numeric",
            "autocomplete": "off",
            "maxlength": str(FRANCS_MAX_LENGTH),
            # The URL of the echo: what the server understands of the typed amount.
            "data-francs": reverse_lazy("francs-echo"),
        }
        super().__init__({**defaults, **(attrs or {})})


class FrancsField(forms.Field):
    """Whole francs typed as `250 000`, `250.000`, `250'000` or `250000`; empty gives None.

    `amount_label` names the amount in the parser's messages ("Le prix unitaire
    « 250.5 » : …"); by default the message speaks of "the amount".
    """

    widget = FrancsInput

    def __init__(self, *, amount_label=None, **kwargs):
        kwargs.setdefault("help_text", "")
        super().__init__(**kwargs)
        self.amount_label = amount_label

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
        if value in self.empty_values:
            return None
        return parse_francs(value, label=self.amount_label)

    def prepare_value(self, value):
        # An int shown back in the input reads as the user would type it: 250 000.
        if isinstance(value, int) and not isinstance(value, bool):
            sign = "-" if value < 0 else ""
            return sign + f"{abs(value):,}".replace(",", " ")
        return value


# --- Budget lines ------------------------------------------------------------


class LineChoiceIterator(ModelChoiceIterator):
    """The lines in option groups, one per year and section, each labelled `code — label`."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[tuple, list] = {}
        for line in self.queryset:
            key = (line.fiscal_year.year, line.get_section_display())
            groups.setdefault(key, []).append(self.choice(line))
        for (year, section), choices in groups.items():
            yield (f"{year} — {section}", choices)


class LineChoiceField(forms.ModelChoiceField):
    """A choice of budget line, grouped by year and section. The kernel does not know
    the lines: each form sets the queryset (a budgets selector, with `fiscal_year`
    selected) of the lines its user may choose."""

    iterator = LineChoiceIterator

    def label_from_instance(self, obj) -> str:
        return f"{obj.code} — {obj.label}"
