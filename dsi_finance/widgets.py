"""Dates as the users write them: 08/12/2026, whatever the browser's language.

A native `<input type="date">` follows the browser's locale (an English browser
shows and expects 12/08/2026 for 8 December); `FrenchDateInput` is a text input
that always reads `jj/mm/aaaa`, marked `data-date-input` so that static/js/dates.js
hangs the calendar (vanillajs-datepicker, vendored) on it and checks what is typed
with the same rules as `parse_day_first_date`, which `FrenchDateField` applies on
the server whatever the active language.

Accepted: `8/12/2026` or `08/12/2026` (also with `.` or `-` between the parts),
`08122026` (a numeric keyboard has no slash), and ISO `2026-12-08` (tests, tools).
Nothing else: `12/31/2026` is refused, never read month first.
"""

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DISPLAY_FORMAT = "%d/%m/%Y"
# Keep in step with static/js/dates.js (parseDayFirst).
DAY_FIRST = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_day_first_date(text: str) -> datetime.date:
    """The date written day first (`08/12/2026`), or ISO; ValueError for anything else."""
    text = text.strip()
    if match := ISO.match(text):
        year, month, day = match.groups()
    elif match := DAY_FIRST.match(text):
        day, _separator, month, year = match.groups()
    elif match := COMPACT.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(f"not a day-first date: {text!r}")
    return datetime.date(int(year), int(month), int(day))  # ValueError: 31/02, month 13…


class FrenchDateInput(forms.DateInput):
    """A text input showing `08/12/2026`, with the `jj/mm/aaaa` hint and the picker's hook."""

    input_type = "text"

    def __init__(self, attrs=None):
        defaults = {
            "class": "form-control",
            "placeholder": _("dd/mm/yyyy"),
            "inputmode": "numeric",
            "autocomplete": "off",
            "maxlength": "10",
            "data-date-input": "",
        }
        super().__init__({**defaults, **(attrs or {})}, format=DISPLAY_FORMAT)


class FrenchDateField(forms.DateField):
    """A date typed day first (`08/12/2026`, see `parse_day_first_date`), whatever the
    language of the screens; a French message quotes what was typed otherwise."""

    widget = FrenchDateInput
    default_error_messages = {
        "invalid": _(
            "“%(value)s” is not a date written dd/mm/yyyy, day first "
            "(08/12/2026 for 8 December 2026)."
        ),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = str(value).strip()
        if not text:
            return None
        try:
            return parse_day_first_date(text)
        except ValueError:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": text[:20]}
            ) from None
