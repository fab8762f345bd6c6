"""Currencies of supplier invoices: pure arithmetic, no model and no database.

An invoice is entered in its supplier's currency and posted in whole XPF francs:

- XPF: rate 1, amounts in whole francs;
- EUR: the fixed parity (settings.EUR_PARITY, 1 EUR = 119.331742 F CFP), a typed rate
  that differs is refused;
- any other ISO 4217 code: its rate is typed (F CFP for one unit, 6 decimals).

Amounts in a currency other than XPF have two decimals; converting rounds half up to
the franc (`to_xpf`); the TGC in the currency is computed per rate on the sum of the
lines at that rate, rounded to the cent (to the franc in XPF), as on the supplier's
invoice (`currency_totals`). Refusals are ProcurementError, in French.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from dsi_finance.money import format_xpf, parse_francs

from .common import ProcurementError, round_francs

__all__ = [
    "EUR",
    "XPF",
    "CurrencyTaxLine",
    "CurrencyTotals",
    "amount_text",
    "currency_amount",
    "currency_totals",
    "to_xpf",
    "validate_currency",
]

XPF = "XPF"
EUR = "EUR"
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
CENT = Decimal("0.01")
RATE_STEP = Decimal("0.000001")
MAX_RATE = Decimal("99999999.999999")  # the model's 14 digits, 6 of them decimals


def _decimal(value) -> Decimal | None:
    """A Decimal from what a form, the API or a cell gives; None when it is not a number.

    A float is refused: 0.1 is not what the assistant typed."""
    if isinstance(value, bool | float) or value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        try:
            number = Decimal(text.replace(",", "."))
        except (InvalidOperation, ValueError):
            return None
    return number if number.is_finite() else None


def validate_currency(currency, exchange_rate) -> tuple[str, Decimal]:
    """The currency code and the rate in XPF for one unit of it.

    XPF: rate 1. EUR: the fixed parity (settings.EUR_PARITY); a typed rate that
    differs is refused. Any other ISO 4217 code: its rate is required, positive.
    """
    code = (currency or XPF).strip().upper() if isinstance(currency, str | type(None)) else ""
    if not CURRENCY_CODE.fullmatch(code):
        raise ProcurementError(
            _("The currency must be a three-letter ISO code (XPF, EUR, USD…)."), code="currency"
        )
    rate = None
    if exchange_rate not in (None, ""):
        rate = _decimal(exchange_rate)
        if rate is None:
            raise ProcurementError(_("The exchange rate must be a number."), code="exchange_rate")
    if code == XPF:
        if rate is not None and rate != 1:
            raise ProcurementError(
                _("An invoice in XPF has no exchange rate (1 F CFP = 1 F CFP)."),
                code="exchange_rate",
            )
        return code, Decimal(1)
    if code == EUR:
        parity = Decimal(settings.EUR_PARITY)
        if rate is not None and rate != parity:
            raise ProcurementError(
                _("The euro is at the fixed parity of %(parity)s F CFP: %(rate)s is refused.")
                % {"parity": number_format(parity), "rate": number_format(rate)},
                code="exchange_rate",
            )
        return code, parity
    if rate is None:
        raise ProcurementError(
            _("An invoice in %(currency)s needs its exchange rate (F CFP for 1 %(currency)s).")
            % {"currency": code},
            code="exchange_rate",
        )
    if rate <= 0:
        raise ProcurementError(_("The exchange rate must be positive."), code="exchange_rate")
    if rate > MAX_RATE or rate != rate.quantize(RATE_STEP):
        raise ProcurementError(
            _("The exchange rate has at most 8 digits before the decimal point and 6 after."),
            code="exchange_rate",
        )
    return code, rate.quantize(RATE_STEP)


def currency_amount(value, *, currency: str, label: str | None = None) -> Decimal:
    """A positive amount in the invoice's currency: whole francs in XPF, else 2 decimals."""
    label = label or _("The amount before tax")
    if currency == XPF and isinstance(value, str):
        # Francs as people type them: "250.000" is 250 000, "250.5" is refused
        # (dsi_finance.money.parse_francs), never 250.
        try:
            francs = parse_francs(value, label=label)
        except ValidationError as error:
            raise ProcurementError(error.messages[0], code="amount") from None
        value = Decimal(francs) if francs is not None else None
    amount = _decimal(value)
    if amount is None:
        raise ProcurementError(_("%(label)s must be a number.") % {"label": label}, code="amount")
    if amount <= 0:
        raise ProcurementError(_("%(label)s must be positive.") % {"label": label}, code="amount")
    if currency == XPF and amount != amount.to_integral_value():
        raise ProcurementError(
            _("%(label)s must be a whole number of francs.") % {"label": label}, code="amount"
        )
    if amount != amount.quantize(CENT):
        raise ProcurementError(
            _("%(label)s has at most two decimals.") % {"label": label}, code="amount"
        )
    if amount > settings.PROCUREMENT_MAX_AMOUNT:
        raise ProcurementError(
            _("%(label)s is absurdly large: check the figure.") % {"label": label}, code="amount"
        )
    return amount.quantize(CENT)


def to_xpf(amount: Decimal, rate: Decimal) -> int:
    """An amount of the currency in whole francs, half rounded up."""
    return round_francs(Decimal(amount) * Decimal(rate))


@dataclass(frozen=True)
class CurrencyTaxLine:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class CurrencyTotals:
    ht: Decimal
    tax: Decimal
    ttc: Decimal
    by_rate: tuple[CurrencyTaxLine, ...]


def currency_totals(lines: Iterable[tuple[Decimal, Decimal]], *, currency: str) -> CurrencyTotals:
    """Totals of (amount before tax, TGC rate %) lines in the invoice's currency: the TGC
    per rate on the sum of the lines at that rate, rounded to the cent (to the franc in XPF)."""
    step = Decimal(1) if currency == XPF else CENT
    bases: dict[Decimal, Decimal] = defaultdict(Decimal)
    for amount, rate in lines:
        bases[Decimal(rate)] += Decimal(amount)
    by_rate = tuple(
        CurrencyTaxLine(
            rate=rate,
            base=base.quantize(CENT),
            tax=(base * rate / 100).quantize(step, rounding=ROUND_HALF_UP).quantize(CENT),
        )
        for rate, base in sorted(bases.items(), reverse=True)
    )
    ht = sum((line.base for line in by_rate), Decimal("0.00"))
    tax = sum((line.tax for line in by_rate), Decimal("0.00"))
    return CurrencyTotals(ht=ht, tax=tax, ttc=ht + tax, by_rate=by_rate)


def amount_text(amount, currency: str) -> str:
    """An amount in the invoice's currency as the screens show it: `1 234 567 F CFP`,
    `1 234,56 EUR`."""
    if currency == XPF:
        return format_xpf(amount)
    text = number_format(Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{text}\u00a0{currency}"
