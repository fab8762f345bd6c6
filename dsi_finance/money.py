"""XPF amounts: integer francs, shown as `1 234 567 F CFP`.

The franc CFP has no decimals. Amounts are stored as integers; this module is
the one place that turns them into text, for screens (the `xpf` filter) and
later for the XLSX and PDF formatters.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A narrow no-break space groups thousands (French typography) and a no-break
# space keeps "F CFP" on the same line as its figure.
THOUSANDS_SEPARATOR = "\u202f"
CURRENCY_SUFFIX = "\u00a0F\u00a0CFP"
EMPTY = "—"


def to_francs(value) -> int | None:
    """The value as whole francs (half rounded away from zero), or None if it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip().replace(" ", "").replace("\u202f", ""))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def group_thousands(francs: int) -> str:
    """`-1234567` -> `-1 234 567` (narrow no-break spaces)."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", THOUSANDS_SEPARATOR)


def format_xpf(value) -> str:
    """`1234567` -> `1 234 567 F CFP`; empty values -> `—`; text that is no number is kept."""
    if value is None or value == "":
        return EMPTY
    francs = to_francs(value)
    if francs is None:
        return str(value)
    return group_thousands(francs) + CURRENCY_SUFFIX


# What people type or spreadsheets hold: digits grouped by any kind of space, a sign,
# and possibly a decimal part, which must be zero ("250 000,00" is whole francs).
_TYPED_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_TYPED_NUMBER = re.compile(r"[+-]?\d+(?:[.,](\d+))?")


def parse_francs(value, *, label: str | None = None) -> int | None:
    """Whole francs from a form field or a spreadsheet cell; None when empty.

    Accepts 1234567, "1 234 567" (any spaces), "250 000,00" and a whole float from
    a spreadsheet (1234567.0); refuses real decimals and text with a French
    ValidationError naming `label` ("Le montant" by default). Sign, zero and size
    are the business rules' to judge, not the parser's.
    """
    label = label or _("The amount")
    if value is None:
        return None
    if isinstance(value, bool):
        raise _not_a_number(label)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise _not_whole(label)
        return int(value)
    if not isinstance(value, str):
        raise _not_a_number(label)  # a date or a time in an amount cell
    text = _TYPED_SPACES.sub("", value)
    if not text:
        return None
    match = _TYPED_NUMBER.fullmatch(text)
    if match is None:
        raise _not_a_number(label, value.strip())
    if match.group(1) and int(match.group(1)) != 0:
        raise _not_whole(label)
    return int(re.split(r"[.,]", text)[0])


def _not_a_number(label: str, value: str | None = None) -> ValidationError:
    if value is None:
        message = _("%(label)s is not a number.") % {"label": label}
    else:
        message = _("%(label)s is not a number: “%(value)s”.") % {"label": label, "value": value}
    return ValidationError(message, code="amount")


def _not_whole(label: str) -> ValidationError:
    # The same words as budgets.services.validate_amount.
    return ValidationError(
        _("%(label)s must be a whole number of francs.") % {"label": label}, code="amount"
    )
