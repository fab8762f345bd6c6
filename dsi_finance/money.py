"""XPF amounts: integer francs, shown as `1 234 567 F CFP`.

The franc CFP has no decimals. Amounts are stored as integers; this module is
the one place that turns them into text, for screens (the `xpf` filter) and
later for the XLSX and PDF formatters, and the one place that reads the text people
type back into francs (`parse_francs`, strict):

- accepted as 250 000: `250000`, `250 000` (any space: normal, tab, U+00A0, U+202F,
  U+2009), `250.000`, `250'000`, `250’000`; a sign; a whole float or Decimal from a
  spreadsheet (250000.0);
- zero decimals after a comma are whole francs: `250 000,00`, `250,00`, `1.000,00`
  (the comma is the French decimal mark and never groups thousands here);
- refused with a French message saying what was understood and what to type: a
  fraction (`250.5`, `1 000,50`), a dot followed by 1 or 2 digits even when zero
  (`250.00`: 250, or 250.000 short of a digit?), misgrouped digits (`12.34.567`,
  `2500.000`), mixed thousands separators (`1 000.000`), a comma followed by 3 digits
  (`250,000`: 250 000 or 250?), anything else that is not a number.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .errors import ServiceError

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


def format_francs(value) -> str:
    """`1234567` -> `1 234 567`: a list cell, whose column header names the currency
    (`Montant HT (F CFP)`); empty values -> `—`; text that is no number is kept."""
    if value is None or value == "":
        return EMPTY
    francs = to_francs(value)
    return str(value) if francs is None else group_thousands(francs)


# --- What a service accepts as an amount ------------------------------------

# The largest amount a service accepts (a thousand billion francs): beyond it, a
# figure is a typing mistake.
MAX_AMOUNT = 10**12


def validate_amount(amount, *, signed: bool = False, label: str | None = None) -> int:
    """A whole number of francs, not zero, positive unless `signed`, and not absurd."""
    label = label or _("The amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ServiceError(
            _("%(label)s must be a whole number of francs.") % {"label": label}, code="amount"
        )
    if amount == 0:
        raise ServiceError(_("%(label)s cannot be zero.") % {"label": label}, code="amount")
    if amount < 0 and not signed:
        raise ServiceError(_("%(label)s must be positive.") % {"label": label}, code="amount")
    if abs(amount) > MAX_AMOUNT:
        raise ServiceError(
            _("%(label)s exceeds %(max)s: check the figure.")
            % {"label": label, "max": format_xpf(MAX_AMOUNT)},
            code="amount",
        )
    return amount


# --- Reading what people type or spreadsheets hold ---------------------------
#
# `parse_francs` is the one strict reader of an amount in francs, for every form
# field (dsi_finance.forms.FrancsField), the API (dsi_finance.serializers.
# FrancsSerializerField), the XLSX imports and the live echo beside each field.
#
# Accepted, all as 250 000: `250000`, `250 000` (any space: normal, tab, no-break
# U+00A0, narrow no-break U+202F, thin U+2009), `250.000`, `250'000`, `250’000`;
# a sign (`-`, `+`, `−`); whole numbers from spreadsheets (250000.0, Decimal).
# Groups after a separator are exactly 3 digits, the first one 1 to 3 digits, and
# one kind of separator per amount.
#
# Zero decimals: a comma is the French decimal mark and never groups thousands,
# so `250 000,00`, `250,00` and `1.000,00` (zero decimals after a comma, other than
# `,000`) are whole francs and accepted. A dot groups thousands here, so `250.00`
# or `250.0` is refused: the dot followed by 1 or 2 digits may be a mistyped
# `250.000` as well as a decimal point, and reading it as 250 is the very error
# this parser exists to stop.
#
# Refused with a French message saying what was understood and what to type:
# a real fraction (`250.5`, `1 000,50`, 12.5), a misgrouped figure (`12.34.567`,
# `2500.000`, `250 00`), mixed thousands separators (`1 000.000`), a comma
# followed by 3 digits (`250,000`: 250 000 or 250?) and anything that is not a
# number. Sign, zero and size are the business rules' to judge, not the parser's.

_SIGNS = {"+": "", "-": "-", "\u2212": "-"}
_SEPARATOR_KINDS = {".": "dot", "'": "apostrophe", "\u2019": "apostrophe"}
_ALLOWED = re.compile(r"[\d\s.,'\u2019]+")
_GROUPED = re.compile(r"(\d+)((?:(?:\s+|\.|'|\u2019)\d+)*)")
_SEPARATOR = re.compile(r"\s+|\.|'|\u2019")


def parse_francs(value, *, label: str | None = None) -> int | None:
    """Whole francs from a form field, an API string or a spreadsheet cell; None when empty.

    See the rules above. `label` names the amount in the messages ("Le prix
    unitaire « 250.5 » : 250,5 francs ?"); "Le montant" by default.
    """
    label = label or _("The amount")
    if value is None:
        return None
    if isinstance(value, bool):
        raise _not_a_number(label)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return _whole_number(value, label)
    if not isinstance(value, str):
        raise _not_a_number(label)  # a date or a time in an amount cell
    text = value.strip()
    if not text:
        return None
    return _read_typed(text, label)


def _whole_number(value: float | Decimal, label: str) -> int:
    number = Decimal(str(value)) if isinstance(value, float) else value
    if not number.is_finite():
        raise _not_a_number(label)
    if number != number.to_integral_value():
        whole = int(number)  # truncated towards zero
        sign = "-" if number < 0 and not whole else ""
        decimals = format(abs(number), "f").split(".")[1].rstrip("0")
        number_text = f"{sign}{group_thousands(whole)},{decimals}"
        raise _fraction(label, str(value), number_text, whole)
    return int(number)


def _read_typed(text: str, label: str) -> int:
    sign = ""
    if text[0] in _SIGNS:
        sign, body = _SIGNS[text[0]], text[1:].lstrip()
    else:
        body = text
    if not body or not _ALLOWED.fullmatch(body) or not body[0].isdigit():
        raise _not_a_number(label, text)

    whole_text, comma, decimals = body.partition(",")
    if comma:
        if not decimals:
            raise _not_a_number(label, text)
        return _read_comma(text, sign, whole_text, decimals, label)
    return _read_grouped(text, sign, whole_text, label)


def _read_comma(text: str, sign: str, whole_text: str, decimals: str, label: str) -> int:
    """`250 000,00` is whole; `1 000,50` a fraction; `250,000` and `1,000,000` ambiguous."""
    parts = decimals.split(",")
    if all(len(part) == 3 and part.isdigit() for part in parts) and _GROUPED.fullmatch(whole_text):
        # Commas grouping thousands, the English way: 250,000 or 1,000,000.
        digits = re.sub(r"\D", "", whole_text) + "".join(parts)
        thousands = group_thousands(int(sign + digits))
        if len(parts) == 1:
            whole = _read_grouped(text, sign, whole_text, label)
            raise _comma_thousands(label, text, thousands, group_thousands(whole))
        raise _commas(label, text, thousands)
    if len(parts) > 1 or not decimals.isdigit():
        raise _not_a_number(label, text)
    whole = _read_grouped(text, sign, whole_text, label)
    if int(decimals) != 0:
        number = f"{group_thousands(whole) if whole else sign + '0'},{decimals}"
        raise _fraction(label, text, number, whole)
    return whole


def _read_grouped(text: str, sign: str, whole_text: str, label: str) -> int:
    """Digits, possibly grouped by thousands with one kind of separator."""
    if not _GROUPED.fullmatch(whole_text):
        raise _not_a_number(label, text)
    groups = _SEPARATOR.split(whole_text)
    separators = _SEPARATOR.findall(whole_text)
    if not separators:
        return int(sign + whole_text)
    kinds = {_SEPARATOR_KINDS.get(separator, "space") for separator in separators}
    last = groups[-1]
    if separators[-1] == "." and len(last) in (1, 2):
        # A dot then 1 or 2 digits: a decimal point, or a thousands group short of a digit.
        head = groups[:-1]
        _check_groups(text, head, label)
        whole = int(sign + "".join(head))
        number = f"{group_thousands(whole) if whole else sign + '0'},{last}"
        plausible_thousands = len(groups) == 2 and len(head[0]) <= 3
        raise _fraction(label, text, number, whole, thousands=plausible_thousands)
    if len(kinds) > 1:
        raise _mixed(label, text, kinds)
    _check_groups(text, groups, label)
    return int(sign + "".join(groups))


def _check_groups(text: str, groups: list[str], label: str) -> None:
    if len(groups) > 1 and len(groups[0]) > 3:
        raise _long_first_group(label, text, groups[0])
    for group in groups[1:]:
        if len(group) != 3:
            raise _short_group(label, text, group)


# --- The messages: what was understood, what to type --------------------------

_SEPARATOR_NAMES = {
    "space": lambda: _("space"),
    "dot": lambda: _("dot"),
    "apostrophe": lambda: _("apostrophe"),
}


def _not_a_number(label: str, value: str | None = None) -> ValidationError:
    if value is None:
        message = _("%(label)s is not a number.") % {"label": label}
    else:
        message = _("%(label)s is not a number: “%(value)s”.") % {"label": label, "value": value}
    return ValidationError(message, code="amount")


def _fraction(
    label: str, value: str, number: str, whole: int, *, thousands: bool = False
) -> ValidationError:
    params = {
        "label": label,
        "value": value,
        "number": number,
        "whole": group_thousands(whole),
        "thousands": group_thousands(whole * 1000),
    }
    if thousands:
        message = _(
            "%(label)s “%(value)s”: %(number)s francs? The franc CFP has no decimals; type "
            "%(whole)s or %(thousands)s (thousands separated by spaces, dots or apostrophes)."
        )
    else:
        message = _(
            "%(label)s “%(value)s”: %(number)s francs? The franc CFP has no decimals; "
            "type %(whole)s."
        )
    return ValidationError(message % params, code="amount_fraction")


def _comma_thousands(label: str, value: str, thousands: str, decimal: str) -> ValidationError:
    message = _(
        "%(label)s “%(value)s”: %(thousands)s or %(decimal)s francs? In French the comma "
        "marks decimals; type %(thousands)s (thousands separated by spaces, dots or "
        "apostrophes)."
    )
    params = {"label": label, "value": value, "thousands": thousands, "decimal": decimal}
    return ValidationError(message % params, code="amount_ambiguous")


def _commas(label: str, value: str, thousands: str) -> ValidationError:
    message = _(
        "%(label)s “%(value)s”: %(thousands)s francs? In French the comma marks decimals; "
        "type %(thousands)s (thousands separated by spaces, dots or apostrophes)."
    )
    params = {"label": label, "value": value, "thousands": thousands}
    return ValidationError(message % params, code="amount_ambiguous")


def _mixed(label: str, value: str, kinds: set[str]) -> ValidationError:
    names = [
        str(_SEPARATOR_NAMES[kind]()) for kind in ("space", "dot", "apostrophe") if kind in kinds
    ]
    message = _(
        "%(label)s “%(value)s”: ambiguous amount, it mixes thousands separators "
        "(%(separators)s). Use only one kind: 250 000, 250.000 or 250'000."
    )
    params = {"label": label, "value": value, "separators": ", ".join(names)}
    return ValidationError(message % params, code="amount_ambiguous")


def _short_group(label: str, value: str, group: str) -> ValidationError:
    message = _(
        "%(label)s “%(value)s”: unclear amount, “%(group)s” is not a group of 3 digits. "
        "Group thousands by 3 digits (250 000, 250.000 or 250'000) or type the digits "
        "alone (250000)."
    )
    params = {"label": label, "value": value, "group": group}
    return ValidationError(message % params, code="amount_groups")


def _long_first_group(label: str, value: str, group: str) -> ValidationError:
    message = _(
        "%(label)s “%(value)s”: unclear amount, “%(group)s” has more than 3 digits before "
        "a thousands separator. Group thousands by 3 digits (250 000, 250.000 or 250'000) "
        "or type the digits alone (250000)."
    )
    params = {"label": label, "value": value, "group": group}
    return ValidationError(message % params, code="amount_groups")
