"""Supplier invoices: entry and matching, liquidation and cancellation.

Their currencies are procurement.services.currency (pure arithmetic); their payment
dates, typed or imported from a spreadsheet, procurement.services.payments.

The accounting assistant (comptabilite) enters an invoice, matched line by line
to the lines of an open commitment, or direct (each line names its budget
line). Entering takes no credits: it records the invoiced amounts and
quantities on the commitment lines (caches `invoiced`, `invoiced_quantity`),
checked against what was received.

Liquidating moves the amount from committed to liquidated in the ledger,
through budgets.services (DESIGN.md: procurement never writes a ledger row):

- per commitment line, the part of the invoice above what remains on it is
  first committed with `commitment_top_up` (the same check of the available
  amount as any commitment: CreditsShortError when short, unless overridden
  with a reason by someone allowed), then `credits_liquidate` (document = the
  invoice), and the `liquidated` caches of the line and the commitment grow;
- a direct invoice opens its own commitment (kind DIRECT) through
  `commitment_create`, which takes the credits, then liquidates it at once;
- above settings.PROCUREMENT_LIQUIDATION_THRESHOLD (before tax) nothing is
  posted: the invoice waits for the section head's validation, which posts.

Cancelling gives everything back: the invoiced caches, and for a liquidated
invoice reversing entries (`credits_unliquidate`) per line; the commitment of
a direct invoice is cancelled (its credits released), and credits freed on a
commitment already closed are released too. What a top-up committed stays on
the commitment (released when it is closed). A paid invoice is not cancelled:
the supplier reverses it with a credit note.

Every service locks the invoice row first, then its commitment
(`lock_commitment`): a liquidation, a cancellation and a new invoice of the
same commitment queue up instead of spending the same remainder twice.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from budgets.models import BudgetLine, FiscalYear
from budgets.services import (
    credits_liquidate,
    credits_release,
    credits_unliquidate,
)
from dsi_finance.money import format_xpf, parse_francs
from dsi_finance.roles import holds, require_any_capability, require_capability

from ..models import Commitment, CommitmentLine, Invoice, InvoiceLine, Supplier, TaxRate
from ..supplier_numbers import supplier_number_key
from .commitments import (
    LineSpec,
    commitment_cancel,
    commitment_create,
    commitment_top_up,
    lock_commitment,
)
from .common import (
    ProcurementError,
    document_totals,
    next_number,
    resolve_tax_rate,
    validate_quantity,
    validate_text,
)
from .currency import XPF, amount_text, currency_amount, currency_totals, to_xpf, validate_currency
from .progress import request_progress_refresh

__all__ = [
    "invoice_cancel",
    "invoice_create",
    "invoice_liquidate",
    "invoice_validate",
    "local_today",
    "received_tolerance",
]

MAX_LINES = 500
CANCELLABLE_BY = ("enter_invoice", "liquidate_invoice")


def local_today() -> date:
    """Today in New Caledonia (settings.TIME_ZONE, Pacific/Noumea)."""
    return timezone.localdate()


def _quantity_text(value: Decimal) -> str:
    """`12.500` -> `12,5` (the active language's decimal separator)."""
    return number_format(Decimal(f"{Decimal(value).normalize():f}"))


# ---------------------------------------------------------------------------
# Amounts


def received_tolerance(received: Decimal) -> Decimal:
    """The most that may be invoiced of a line `received` was recorded for."""
    percent = Decimal(settings.PROCUREMENT_RECEIPT_TOLERANCE_PERCENT)
    return Decimal(received) * (1 + percent / 100)


# ---------------------------------------------------------------------------
# Entry


@dataclass
class _Line:
    position: int
    description: str
    amount_currency: Decimal
    amount_ht: int
    tax_rate: TaxRate
    quantity: Decimal | None
    budget_line: BudgetLine
    commitment_line: CommitmentLine | None


def _pk(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return -1
    pk = getattr(value, "pk", value)
    try:
        return int(pk)
    except (TypeError, ValueError):
        return -1


def _prefixed(position: int, error: ProcurementError) -> ProcurementError:
    message = " ".join(error.messages)
    return ProcurementError(
        _("Line %(position)s: %(message)s") % {"position": position, "message": message},
        code=getattr(error, "code", None),
    )


def _resolve_commitment(commitment, raw_lines: list[dict]) -> Commitment | None:
    """The commitment the invoice is matched to: given, or the one of its matched lines."""
    pk = _pk(commitment)
    if pk is None:
        line_ids = {_pk(line.get("commitment_line")) for line in raw_lines} - {None}
        if not line_ids:
            return None
        found = set(
            CommitmentLine.objects.filter(pk__in=line_ids).values_list("commitment_id", flat=True)
        )
        if len(found) != 1:
            raise ProcurementError(
                _("The lines of an invoice are matched to the lines of one commitment."),
                code="commitment",
            )
        (pk,) = found
    try:
        # Locked: the remainder and the invoiced quantities read below stay true until commit.
        return lock_commitment(pk)
    except Commitment.DoesNotExist:
        raise ProcurementError(_("Unknown commitment."), code="commitment") from None


def _check_commitment(commitment: Commitment, supplier: Supplier) -> None:
    if commitment.state != Commitment.State.OPEN:
        raise ProcurementError(
            _("The commitment %(number)s is %(state)s: no invoice can be matched to it.")
            % {"number": commitment.number, "state": commitment.get_state_display().lower()},
            code="commitment_state",
        )
    if commitment.kind == Commitment.Kind.DIRECT:
        raise ProcurementError(
            _("The commitment %(number)s belongs to a direct invoice: match to another one.")
            % {"number": commitment.number},
            code="commitment_direct",
        )
    if commitment.supplier_id != supplier.pk:
        raise ProcurementError(
            _("The commitment %(number)s is with %(other)s, not with %(supplier)s.")
            % {
                "number": commitment.number,
                "other": commitment.supplier.name,
                "supplier": supplier.name,
            },
            code="commitment_supplier",
        )


def _check_dates(invoice_date, received_on) -> None:
    if not isinstance(invoice_date, date) or isinstance(invoice_date, datetime):
        raise ProcurementError(_("The invoice date is required."), code="invoice_date")
    if not isinstance(received_on, date) or isinstance(received_on, datetime):
        raise ProcurementError(_("The date of receipt is required."), code="received_on")
    if invoice_date > received_on:
        raise ProcurementError(
            _("The invoice is dated %(date)s, after it was received (%(received)s).")
            % {
                "date": invoice_date.strftime("%d/%m/%Y"),
                "received": received_on.strftime("%d/%m/%Y"),
            },
            code="invoice_date",
        )
    if received_on > local_today():
        raise ProcurementError(
            _("The date of receipt %(date)s is in the future.")
            % {"date": received_on.strftime("%d/%m/%Y")},
            code="received_on",
        )


def _number_key(supplier_number: str) -> str:
    """The key the duplicate check compares (procurement.supplier_numbers); a number
    made only of separators has none, and is refused."""
    key = supplier_number_key(supplier_number)
    if not key:
        raise ProcurementError(
            _("The supplier's invoice number must hold at least one letter or digit."),
            code="supplier_number",
        )
    return key


def _duplicate_of(supplier: Supplier, key: str) -> Invoice | None:
    """The live invoice of the supplier whose number has this key, whatever its format
    ("F2026-1187", "f2026 1187"…): one row of the unique index on (supplier, key)."""
    return (
        Invoice.objects.filter(supplier=supplier, supplier_number_key=key)
        .exclude(state=Invoice.State.CANCELLED)
        .order_by("pk")
        .first()
    )


def _duplicate_error(existing: Invoice) -> ProcurementError:
    """Names the invoice already entered, its date and its number as it was typed."""
    return ProcurementError(
        _(
            "This supplier's invoice number is already entered: %(number)s of %(date)s "
            "(“%(supplier_number)s”)."
        )
        % {
            "number": existing.number,
            "date": existing.invoice_date.strftime("%d/%m/%Y"),
            "supplier_number": existing.supplier_number,
        },
        code="duplicate",
    )


def _control_total(value, *, currency: str) -> Decimal:
    """The supplier's total with tax, as typed (the API's string, the form's francs), in
    the invoice's currency: whole francs in XPF (`1 234 567`, `1.234.567`), else cents."""
    label = _("The supplier's total with tax")
    if currency == XPF and isinstance(value, str):
        try:
            value = parse_francs(value, label=label)
        except ValidationError as error:
            raise ProcurementError(error.messages[0], code="total_ttc") from None
    if currency == XPF and isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    try:
        return currency_amount(value, currency=currency, label=label)
    except ProcurementError as error:
        raise ProcurementError(error.messages[0], code="total_ttc") from None


def _check_control_total(value, *, computed: Decimal, currency: str) -> None:
    """The total with tax printed on the supplier's invoice equals the total computed from
    the lines, to the franc (the cent in another currency): a typo in an amount or a wrong
    TGC rate is caught before anything is recorded."""
    given = _control_total(value, currency=currency)
    if given != computed:
        raise ProcurementError(
            _(
                "The total with tax entered (%(given)s) differs from the computed total "
                "(%(computed)s) by %(difference)s: check the lines and the TGC rates."
            )
            % {
                "given": amount_text(given, currency),
                "computed": amount_text(computed, currency),
                "difference": amount_text(abs(given - computed), currency),
            },
            code="total_ttc",
        )


def _lines(
    raw_lines: list[dict],
    *,
    commitment: Commitment | None,
    currency: str,
    rate: Decimal,
    invoice_date: date,
) -> list[_Line]:
    if not raw_lines:
        raise ProcurementError(_("An invoice needs at least one line."), code="no_lines")
    if len(raw_lines) > MAX_LINES:
        raise ProcurementError(
            _("An invoice has %(max)s lines at most.") % {"max": MAX_LINES}, code="lines"
        )
    commitment_lines: dict[int, CommitmentLine] = {}
    budget_lines: dict[int, BudgetLine] = {}
    if commitment is not None:
        commitment_lines = {
            line.pk: line
            for line in CommitmentLine.objects.filter(commitment=commitment).select_related(
                "budget_line__fiscal_year"
            )
        }
    else:
        wanted = {_pk(line.get("budget_line")) for line in raw_lines} - {None, -1}
        budget_lines = BudgetLine.objects.select_related("fiscal_year").in_bulk(wanted)
    lines = []
    for position, raw in enumerate(raw_lines, start=1):
        try:
            lines.append(
                _line(
                    position,
                    raw,
                    commitment=commitment,
                    commitment_lines=commitment_lines,
                    budget_lines=budget_lines,
                    currency=currency,
                    rate=rate,
                    invoice_date=invoice_date,
                )
            )
        except ProcurementError as error:
            raise _prefixed(position, error) from None
    return lines


def _line(
    position: int,
    raw: dict,
    *,
    commitment: Commitment | None,
    commitment_lines: dict[int, CommitmentLine],
    budget_lines: dict[int, BudgetLine],
    currency: str,
    rate: Decimal,
    invoice_date: date,
) -> _Line:
    if not isinstance(raw, dict):
        raise ProcurementError(_("The line cannot be read."), code="line")
    matched = None
    if commitment is not None:
        pk = _pk(raw.get("commitment_line"))
        if pk is None:
            raise ProcurementError(
                _("Match it to a line of the commitment %(number)s.")
                % {"number": commitment.number},
                code="commitment_line",
            )
        matched = commitment_lines.get(pk)
        if matched is None:
            raise ProcurementError(
                _("The matched line is not a line of the commitment %(number)s.")
                % {"number": commitment.number},
                code="commitment_line",
            )
        budget_line = matched.budget_line
    else:
        if _pk(raw.get("commitment_line")) is not None:
            raise ProcurementError(
                _("A direct invoice is matched to no commitment line."), code="commitment_line"
            )
        pk = _pk(raw.get("budget_line"))
        if pk is None:
            raise ProcurementError(
                _("A direct invoice's line needs its budget line."), code="budget_line"
            )
        budget_line = budget_lines.get(pk)
        if budget_line is None:
            raise ProcurementError(_("Unknown budget line."), code="budget_line")
    description = raw.get("description")
    if matched is not None and not (isinstance(description, str) and description.strip()):
        description = matched.description
    description = validate_text(description, label=_("The description"), max_length=300)
    amount_currency = currency_amount(raw.get("amount_ht"), currency=currency)
    amount_ht = to_xpf(amount_currency, rate)
    if amount_ht <= 0:
        raise ProcurementError(
            _("%(amount)s %(currency)s is less than one franc once converted.")
            % {"amount": number_format(amount_currency), "currency": currency},
            code="amount",
        )
    if amount_ht > settings.PROCUREMENT_MAX_AMOUNT:
        raise ProcurementError(
            _("%(label)s is absurdly large: check the figure.")
            % {"label": _("The amount before tax")},
            code="amount",
        )
    if raw.get("tax_rate") in (None, ""):
        raise ProcurementError(_("The TGC rate is required."), code="tax_rate")
    tax_rate = resolve_tax_rate(raw["tax_rate"], on=invoice_date)
    quantity = raw.get("quantity")
    if quantity in (None, ""):
        quantity = None
        if matched is not None and matched.quantity is not None:
            raise ProcurementError(
                _(
                    "The commitment line “%(line)s” is ordered by quantity: enter the invoiced quantity."
                )
                % {"line": matched.description},
                code="quantity",
            )
    else:
        quantity = validate_quantity(quantity, label=_("The invoiced quantity"))
    return _Line(
        position=position,
        description=description,
        amount_currency=amount_currency,
        amount_ht=amount_ht,
        tax_rate=tax_rate,
        quantity=quantity,
        budget_line=budget_line,
        commitment_line=matched,
    )


def _check_quantities(lines: list[_Line]) -> None:
    """The quantities invoiced of each commitment line ordered by quantity, with those of
    the other live invoices, stay within what was received plus the tolerance."""
    invoiced: dict[int, Decimal] = defaultdict(Decimal)
    by_pk: dict[int, CommitmentLine] = {}
    for line in lines:
        if line.commitment_line is None or line.quantity is None:
            continue
        by_pk[line.commitment_line.pk] = line.commitment_line
        invoiced[line.commitment_line.pk] += line.quantity
    for pk, quantity in invoiced.items():
        matched = by_pk[pk]
        if matched.quantity is None:
            continue  # an amount-only line (a recurring contract): no receipt to check
        total = matched.invoiced_quantity + quantity
        if total > received_tolerance(matched.received_quantity):
            raise ProcurementError(
                _(
                    "Line %(position)s of the commitment, “%(line)s”: %(invoiced)s would be "
                    "invoiced in all, but %(received)s was received (tolerance %(tolerance)s %%)."
                )
                % {
                    "position": matched.position,
                    "line": matched.description,
                    "invoiced": _quantity_text(total),
                    "received": _quantity_text(matched.received_quantity),
                    "tolerance": settings.PROCUREMENT_RECEIPT_TOLERANCE_PERCENT,
                },
                code="over_received",
            )


def _fiscal_year(lines: list[_Line], commitment: Commitment | None) -> FiscalYear:
    if commitment is not None:
        return commitment.fiscal_year
    years = {line.budget_line.fiscal_year_id for line in lines}
    if len(years) != 1:
        raise ProcurementError(
            _("The lines of a direct invoice take credits of one fiscal year only."),
            code="two_years",
        )
    year = lines[0].budget_line.fiscal_year
    if year.state != FiscalYear.State.OPEN:
        raise ProcurementError(
            _("The fiscal year %(year)s is %(state)s: no invoice can be charged to it.")
            % {"year": year.year, "state": year.get_state_display().lower()},
            code="year_state",
        )
    return year


@transaction.atomic
def invoice_create(
    *,
    user,
    supplier: Supplier,
    supplier_number: str,
    invoice_date: date,
    received_on: date,
    lines: list[dict],
    commitment: Commitment | None = None,
    currency: str = XPF,
    exchange_rate: Decimal | str | None = None,
    total_ttc: int | Decimal | str | None = None,
) -> Invoice:
    """Enter a supplier invoice, matched to a commitment's lines or direct.

    Each line dict holds `description`, `amount_ht` (in the invoice's currency),
    `tax_rate` (a TaxRate, its id or its percentage, in force on the invoice
    date), `quantity` (optional; required when the matched commitment line is
    ordered by quantity) and either `commitment_line` (matched) or
    `budget_line` (direct invoice). `total_ttc`, when given, is the total with tax
    printed on the supplier's invoice, in its currency: it must equal the total
    computed from the lines (the entry form always asks for it). A supplier's number
    already entered, in any format, is refused naming the first invoice. Takes no
    credits: liquidation does.
    """
    require_capability(user, "enter_invoice")
    if not isinstance(supplier, Supplier):
        supplier = Supplier.objects.filter(pk=_pk(supplier)).first()
        if supplier is None:
            raise ProcurementError(_("Unknown supplier."), code="supplier")
    if not supplier.is_active:
        raise ProcurementError(
            _("The supplier %(name)s is deactivated.") % {"name": supplier.name},
            code="supplier_inactive",
        )
    supplier_number = validate_text(
        supplier_number, label=_("The supplier's invoice number"), max_length=60
    )
    number_key = _number_key(supplier_number)
    _check_dates(invoice_date, received_on)
    currency, rate = validate_currency(currency, exchange_rate)
    if not isinstance(lines, list | tuple):
        raise ProcurementError(_("An invoice needs at least one line."), code="no_lines")
    commitment = _resolve_commitment(commitment, list(lines))
    if commitment is not None:
        _check_commitment(commitment, supplier)
    checked = _lines(
        list(lines), commitment=commitment, currency=currency, rate=rate, invoice_date=invoice_date
    )
    year = _fiscal_year(checked, commitment)
    _check_quantities(checked)
    existing = _duplicate_of(supplier, number_key)
    if existing is not None:
        raise _duplicate_error(existing)

    totals = document_totals((line.amount_ht, line.tax_rate.rate) for line in checked)
    in_currency = currency_totals(
        ((line.amount_currency, line.tax_rate.rate) for line in checked), currency=currency
    )
    if total_ttc not in (None, ""):
        computed = Decimal(totals.ttc) if currency == XPF else in_currency.ttc
        _check_control_total(total_ttc, computed=computed, currency=currency)
    invoice = Invoice(
        fiscal_year=year,
        number=next_number("FA", year.year),
        supplier=supplier,
        supplier_number=supplier_number,
        supplier_number_key=number_key,
        commitment=commitment,
        invoice_date=invoice_date,
        received_on=received_on,
        due_on=received_on + timedelta(days=supplier.payment_terms_days),
        currency=currency,
        exchange_rate=rate,
        amount_ht=totals.ht,
        amount_tax=totals.tax,
        amount_ttc=totals.ttc,
        amount_ht_currency=in_currency.ht,
        amount_tax_currency=in_currency.tax,
        amount_ttc_currency=in_currency.ttc,
        entered_by=user,
    )
    invoice._change_reason = pgettext("invoice", "Entered")
    try:
        # A savepoint: a concurrent entry of the same supplier's number (in any format),
        # committed after the check above, trips the unique constraint on its key; the
        # user gets the same message.
        with transaction.atomic():
            invoice.save()
    except IntegrityError:
        existing = _duplicate_of(supplier, number_key)
        if existing is None:
            raise
        raise _duplicate_error(existing) from None
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=line.position,
            description=line.description,
            commitment_line=line.commitment_line,
            budget_line=line.budget_line,
            quantity=line.quantity,
            tax_rate=line.tax_rate,
            amount_ht_currency=line.amount_currency,
            amount_ht=line.amount_ht,
        )
        for line in checked
    )
    if commitment is not None:
        _move_invoiced(checked, sign=1)
        request_progress_refresh(commitment)
    return invoice


def _move_invoiced(lines: Iterable, *, sign: int) -> None:
    """Add (sign 1) or take back (sign -1) the lines' amounts and quantities on the
    `invoiced` caches of their commitment lines."""
    amounts: dict[int, int] = defaultdict(int)
    quantities: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        pk = line.commitment_line.pk if line.commitment_line else None
        if pk is None:
            continue
        amounts[pk] += line.amount_ht
        quantities[pk] += line.quantity or Decimal(0)
    for pk in sorted(amounts):
        CommitmentLine.objects.filter(pk=pk).update(
            invoiced=F("invoiced") + sign * amounts[pk],
            invoiced_quantity=F("invoiced_quantity") + sign * quantities[pk],
        )


# ---------------------------------------------------------------------------
# Liquidation


def lock_invoice(invoice: Invoice | int) -> Invoice:
    """The invoice row, locked until the transaction ends (two clicks on "liquidate"
    queue up; the second finds it liquidated)."""
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("supplier", "fiscal_year")
        .get(pk=getattr(invoice, "pk", invoice))
    )


def _require_state(invoice: Invoice, *states: str, action: str) -> None:
    if invoice.state not in states:
        raise ProcurementError(
            _("The invoice %(number)s is %(state)s: %(action)s is not possible.")
            % {
                "number": invoice.number,
                "state": invoice.get_state_display().lower(),
                "action": action,
            },
            code="invoice_state",
        )


def _invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(
        invoice.lines.select_related("commitment_line", "budget_line", "tax_rate").order_by(
            "position"
        )
    )


def _open_direct_commitment(
    *, user, invoice: Invoice, lines: list[InvoiceLine], override_reason: str
) -> Commitment:
    """The commitment of a direct invoice: its lines, taken through the same check of the
    available amount as any commitment, then linked to the invoice's lines."""
    commitment = commitment_create(
        user=user,
        kind=Commitment.Kind.DIRECT,
        supplier=invoice.supplier,
        subject=(
            _("Direct invoice %(number)s (supplier's number %(supplier_number)s)")
            % {"number": invoice.number, "supplier_number": invoice.supplier_number}
        )[:200],
        lines=[
            LineSpec(
                budget_line=line.budget_line,
                description=line.description,
                amount=line.amount_ht,
                quantity=line.quantity,
                tax_rate=line.tax_rate,
            )
            for line in lines
        ],
        override_reason=override_reason,
    )
    created = list(commitment.lines.order_by("position"))
    for line, commitment_line in zip(lines, created, strict=True):
        InvoiceLine.objects.filter(pk=line.pk).update(commitment_line=commitment_line)
        line.commitment_line = commitment_line
    _move_invoiced(lines, sign=1)
    invoice.commitment = commitment
    return lock_commitment(commitment)


def _top_up(*, user, commitment: Commitment, lines: list[InvoiceLine], override_reason: str):
    """Commit first what the invoice asks above each commitment line's remainder."""
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        wanted[line.commitment_line_id] += line.amount_ht
    current = {
        line.pk: line
        for line in CommitmentLine.objects.filter(pk__in=wanted).select_related("commitment")
    }
    for pk in sorted(wanted, key=lambda pk: (current[pk].budget_line_id, pk)):
        matched = current[pk]
        above = wanted[pk] - matched.remainder
        if above > 0:
            commitment_top_up(
                user=user, line=matched, amount=above, override_reason=override_reason
            )


def _post_liquidation(*, user, invoice: Invoice, override_reason: str) -> Commitment:
    """Post the invoice's liquidation: top-ups (or the direct invoice's commitment), then
    one liquidation entry per line, and the caches. The invoice is locked by the caller."""
    override_reason = (override_reason or "").strip()
    lines = _invoice_lines(invoice)
    if invoice.commitment_id is None:
        commitment = _open_direct_commitment(
            user=user, invoice=invoice, lines=lines, override_reason=override_reason
        )
    else:
        commitment = lock_commitment(invoice.commitment_id)
        if commitment.state != Commitment.State.OPEN:
            raise ProcurementError(
                _("The commitment %(number)s is %(state)s: the invoice cannot be liquidated.")
                % {"number": commitment.number, "state": commitment.get_state_display().lower()},
                code="commitment_state",
            )
        _top_up(user=user, commitment=commitment, lines=lines, override_reason=override_reason)
    liquidated: dict[int, int] = defaultdict(int)
    # Budget lines in id order: the locks credits_liquidate takes follow one order.
    for line in sorted(lines, key=lambda line: (line.budget_line_id, line.position)):
        credits_liquidate(
            user=user, document=invoice, line=line.budget_line_id, amount=line.amount_ht
        )
        liquidated[line.commitment_line_id] += line.amount_ht
    for pk in sorted(liquidated):
        CommitmentLine.objects.filter(pk=pk).update(liquidated=F("liquidated") + liquidated[pk])
    Commitment.objects.filter(pk=commitment.pk).update(
        liquidated=F("liquidated") + sum(liquidated.values())
    )
    commitment.refresh_from_db()
    invoice.commitment = commitment
    return commitment


@transaction.atomic
def invoice_liquidate(*, user, invoice: Invoice, override_reason: str = "") -> Invoice:
    """Liquidate an entered invoice (comptabilite): posted at once, or, above
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD before tax, sent to the section
    head's validation with nothing posted.

    CreditsShortError (with `can_override`) when the invoice exceeds its
    commitment (or, direct, the available amount) and credits are short;
    `override_reason` from someone allowed commits anyway.
    """
    require_capability(user, "liquidate_invoice")
    invoice = lock_invoice(invoice)
    _require_state(invoice, Invoice.State.ENTERED, action=_("a liquidation"))
    invoice.liquidated_by = user
    invoice.liquidated_at = timezone.now()
    if invoice.amount_ht > settings.PROCUREMENT_LIQUIDATION_THRESHOLD:
        invoice.state = Invoice.State.TO_VALIDATE
        invoice._change_reason = _("Liquidated, above %(threshold)s: to validate") % {
            "threshold": format_xpf(settings.PROCUREMENT_LIQUIDATION_THRESHOLD)
        }
        invoice.save()
        return invoice
    commitment = _post_liquidation(user=user, invoice=invoice, override_reason=override_reason)
    invoice.state = Invoice.State.LIQUIDATED
    invoice._change_reason = pgettext("invoice", "Liquidated")
    invoice.save()
    request_progress_refresh(commitment)
    return invoice


@transaction.atomic
def invoice_validate(*, user, invoice: Invoice, override_reason: str = "") -> Invoice:
    """The section head validates a liquidation above the threshold: it is posted now."""
    require_capability(user, "validate_liquidation")
    invoice = lock_invoice(invoice)
    _require_state(invoice, Invoice.State.TO_VALIDATE, action=_("a validation"))
    commitment = _post_liquidation(user=user, invoice=invoice, override_reason=override_reason)
    invoice.state = Invoice.State.LIQUIDATED
    invoice.validated_by = user
    invoice.validated_at = timezone.now()
    invoice._change_reason = _("Liquidation validated")
    invoice.save()
    request_progress_refresh(commitment)
    return invoice


# ---------------------------------------------------------------------------
# Cancellation


def _unliquidate(*, user, invoice: Invoice, lines: list[InvoiceLine], reason: str) -> Commitment:
    """Reverse the liquidation entries of the invoice's lines, and the caches."""
    commitment = lock_commitment(invoice.commitment_id)
    amounts: dict[int, int] = defaultdict(int)
    for line in sorted(lines, key=lambda line: (line.budget_line_id, line.position)):
        credits_unliquidate(
            user=user,
            document=invoice,
            line=line.budget_line_id,
            amount=line.amount_ht,
            reason=reason,
        )
        amounts[line.commitment_line_id] += line.amount_ht
    for pk in sorted(amounts):
        CommitmentLine.objects.filter(pk=pk).update(liquidated=F("liquidated") - amounts[pk])
    Commitment.objects.filter(pk=commitment.pk).update(
        liquidated=F("liquidated") - sum(amounts.values())
    )
    if commitment.state != Commitment.State.OPEN and commitment.kind != Commitment.Kind.DIRECT:
        # A closed commitment keeps no remainder: what the invoice gave back is released.
        released = 0
        for line in sorted(lines, key=lambda line: (line.budget_line_id, line.position)):
            credits_release(
                user=user,
                document=commitment,
                line=line.budget_line_id,
                amount=line.amount_ht,
                reason=reason,
            )
            CommitmentLine.objects.filter(pk=line.commitment_line_id).update(
                released=F("released") + line.amount_ht
            )
            released += line.amount_ht
        Commitment.objects.filter(pk=commitment.pk).update(released=F("released") + released)
    return commitment


@transaction.atomic
def invoice_cancel(*, user, invoice: Invoice, reason: str) -> Invoice:
    """Cancel an invoice with a reason; nothing is deleted.

    Entered or waiting for validation: its invoiced amounts and quantities go
    back to the commitment lines. Liquidated: reversing entries per line
    (credits_unliquidate), the caches reduced, and a direct invoice's
    commitment cancelled (its credits released). A paid invoice is refused:
    the supplier reverses it with a credit note. The assistant (enter_invoice,
    liquidate_invoice) may cancel; the section head may cancel an invoice
    waiting for validation (refusing the liquidation).
    """
    invoice = lock_invoice(invoice)
    if invoice.state == Invoice.State.TO_VALIDATE and holds(user, "validate_liquidation"):
        pass
    else:
        require_any_capability(user, *CANCELLABLE_BY)
    reason = validate_text(reason, label=_("The reason for cancelling"), max_length=2000)
    _require_state(
        invoice,
        Invoice.State.ENTERED,
        Invoice.State.TO_VALIDATE,
        Invoice.State.LIQUIDATED,
        action=_("a cancellation"),
    )
    if invoice.is_paid:
        raise ProcurementError(
            _(
                "The invoice %(number)s was paid on %(date)s: a paid invoice is reversed by the "
                "supplier's credit note, not cancelled."
            )
            % {"number": invoice.number, "date": invoice.payment_date.strftime("%d/%m/%Y")},
            code="paid",
        )
    lines = _invoice_lines(invoice)
    was_liquidated = invoice.state == Invoice.State.LIQUIDATED
    commitment = None
    if was_liquidated:
        commitment = _unliquidate(user=user, invoice=invoice, lines=lines, reason=reason)
    elif invoice.commitment_id is not None:
        commitment = lock_commitment(invoice.commitment_id)
    _move_invoiced(lines, sign=-1)
    invoice.state = Invoice.State.CANCELLED
    invoice.cancelled_by = user
    invoice.cancelled_at = timezone.now()
    invoice.cancel_reason = reason
    invoice._change_reason = pgettext("invoice", "Cancelled")
    invoice.save()
    if commitment is not None:
        if commitment.kind == Commitment.Kind.DIRECT and was_liquidated:
            commitment_cancel(user=user, commitment=commitment, reason=reason)
        request_progress_refresh(commitment)
    return invoice
