"""What the procurement services share: errors, numbering, quantities, amounts and TGC.

Amounts are whole XPF francs; quantities are decimals (days of service); a
line's amount before tax is quantity × unit price rounded half up to the franc,
and the TGC is computed per rate on the sum of the lines at that rate, as on
the supplier's invoice.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from dsi_finance.errors import ServiceError
from dsi_finance.money import format_xpf

from ..models import DocumentSequence, TaxRate
from ..selectors.suppliers import in_force_condition

__all__ = [
    "ProcurementError",
    "TaxLine",
    "Totals",
    "document_totals",
    "line_amount",
    "next_number",
    "resolve_tax_rate",
    "round_francs",
    "validate_quantity",
    "validate_text",
]

MAX_QUANTITY = Decimal("99999999999.999")


class ProcurementError(ServiceError):
    """A procurement rule refused the operation; the message is for the user, in French.

    A ServiceError, so that the views and the API answer it as any service's refusal."""


# ---------------------------------------------------------------------------
# Numbering

PREFIXES = {
    "DA": "DA",  # demande d'achat
    "EJ": "EJ",  # engagement juridique
    "BC": "BC",  # bon de commande
    "SF": "SF",  # service fait
    "FA": "FA",  # facture
}


def next_number(kind: str, year: int) -> str:
    """The next number of a kind of document in a year: `BC-2026-00042`.

    Must run inside the transaction that creates the document. The sequence row
    is created if missing (ignore_conflicts: two first creations do not fail),
    then locked: concurrent creations queue on it, so no number is given twice;
    a creation that rolls back rolls its increment back, so none is skipped.
    """
    if kind not in PREFIXES:
        raise KeyError(kind)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the creating transaction.")
    DocumentSequence.objects.bulk_create(
        [DocumentSequence(kind=kind, year=year, last=0)], ignore_conflicts=True
    )
    sequence = DocumentSequence.objects.select_for_update().get(kind=kind, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{PREFIXES[kind]}-{year}-{sequence.last:05d}"


# ---------------------------------------------------------------------------
# Input checks


def validate_text(value, *, label: str, max_length: int, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else None
    if text is None:
        raise ProcurementError(_("%(label)s must be text.") % {"label": label}, code="text")
    if required and not text:
        raise ProcurementError(_("%(label)s is required.") % {"label": label}, code="required")
    if len(text) > max_length:
        raise ProcurementError(
            _("%(label)s is too long (%(max)s characters at most).")
            % {"label": label, "max": max_length},
            code="too_long",
        )
    return text


def validate_quantity(value, *, label: str | None = None) -> Decimal:
    """A positive quantity with at most three decimals (days of service, kilos…)."""
    label = label or _("The quantity")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        # A float is refused: 0.1 is not what the buyer typed.
        raise ProcurementError(_("%(label)s must be a number.") % {"label": label}, code="quantity")
    try:
        quantity = Decimal(
            str(value).strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
        )
    except (InvalidOperation, ValueError):
        raise ProcurementError(
            _("%(label)s must be a number.") % {"label": label}, code="quantity"
        ) from None
    if not quantity.is_finite():
        raise ProcurementError(_("%(label)s must be a number.") % {"label": label}, code="quantity")
    if quantity <= 0:
        raise ProcurementError(
            _("%(label)s must be greater than zero.") % {"label": label}, code="quantity"
        )
    if quantity > MAX_QUANTITY:
        raise ProcurementError(
            _("%(label)s is absurdly large: check the figure.") % {"label": label},
            code="quantity",
        )
    if quantity != quantity.quantize(Decimal("0.001")):
        raise ProcurementError(
            _("%(label)s has at most three decimals.") % {"label": label}, code="quantity"
        )
    return quantity.quantize(Decimal("0.001"))


def resolve_tax_rate(rate, *, on: date) -> TaxRate:
    """The TGC rate in force on a date, from a TaxRate, its id or its percentage.

    An unknown rate, or one not in force on that date, is refused in French.
    """
    if isinstance(rate, TaxRate):
        query = Q(pk=rate.pk)
        shown = str(rate)
    else:
        try:
            percent = Decimal(str(rate).strip().replace(",", ".").rstrip("%").strip())
        except (InvalidOperation, ValueError):
            percent = None
        if isinstance(rate, bool) or percent is None or not percent.is_finite():
            raise ProcurementError(
                _("Unknown TGC rate: %(rate)s.") % {"rate": rate}, code="tax_rate"
            )
        query = Q(rate=percent)
        shown = f"{percent.normalize():f} %"
    found = TaxRate.objects.filter(query, in_force_condition(on)).order_by("-valid_from").first()
    if found is None:
        raise ProcurementError(
            _("Unknown TGC rate: %(rate)s is not in force on %(date)s.")
            % {"rate": shown, "date": on.strftime("%d/%m/%Y")},
            code="tax_rate",
        )
    return found


# ---------------------------------------------------------------------------
# Amounts


def round_francs(value: Decimal) -> int:
    """Half rounded away from zero, to the franc (XPF has no decimals)."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_amount(quantity: Decimal, unit_price: int) -> int:
    """A line's amount before tax: quantity × unit price, rounded to the franc."""
    amount = round_francs(Decimal(quantity) * unit_price)
    if amount > settings.PROCUREMENT_MAX_AMOUNT:
        raise ProcurementError(
            _("The line's amount (%(amount)s) is absurd: check the quantity and the price.")
            % {"amount": format_xpf(amount)},
            code="amount",
        )
    return amount


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal  # percent
    base: int  # amount before tax at this rate
    tax: int


@dataclass(frozen=True)
class Totals:
    ht: int
    tax: int
    ttc: int
    by_rate: tuple[TaxLine, ...]


def document_totals(lines: Iterable[tuple[int, Decimal]]) -> Totals:
    """Totals of (amount before tax, TGC rate %) lines: the TGC by rate, rounded per rate."""
    bases: dict[Decimal, int] = defaultdict(int)
    for amount, rate in lines:
        bases[Decimal(rate)] += amount
    by_rate = tuple(
        TaxLine(rate=rate, base=base, tax=round_francs(Decimal(base) * rate / 100))
        for rate, base in sorted(bases.items(), reverse=True)
    )
    ht = sum(line.base for line in by_rate)
    tax = sum(line.tax for line in by_rate)
    return Totals(ht=ht, tax=tax, ttc=ht + tax, by_rate=by_rate)
