"""Reading invoices: the list at scale, one invoice with its lines, what an entry form
offers to match, and payment delays.

The list must stay fast over millions of invoice lines: it joins the supplier and
the commitment only (never the lines), orders on the indexes of the Invoice model
((fiscal_year, -received_on, -id) and (state, due_on)), and is paged without any
COUNT (django-tables2's LazyPaginator, and the API's own pagination).
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from budgets.models import FiscalYear
from budgets.selectors import line_availability

from ..models import Commitment, CommitmentLine, Invoice, Supplier
from ..services.common import document_totals
from ..services.currency import currency_totals
from ..services.invoices import local_today, received_tolerance
from ..supplier_numbers import supplier_number_key

TABS = ("all", "to_liquidate", "late")
TO_LIQUIDATE = (Invoice.State.ENTERED, Invoice.State.TO_VALIDATE)

# The list's orderings, each read from an index of the Invoice model: (fiscal_year,
# -received_on, -id) or invoice_received_desc; the partial indexes of the tabs
# (invoice_to_liquidate_due, invoice_unpaid_due) on (due_on, id).
ORDER_RECEIVED = ("-received_on", "-id")
ORDER_DUE = ("due_on", "id")


def _late_condition(today: date) -> Q:
    # The same terms as the partial index invoice_unpaid_due, so that PostgreSQL uses it.
    return ~Q(state=Invoice.State.CANCELLED) & Q(payment_date__isnull=True, due_on__lt=today)


def invoices(*, actor=None, today: date | None = None) -> QuerySet:
    """Every invoice with its supplier and commitment, and `days_late` (a timedelta: how
    long past its due date an unpaid, live invoice is; None otherwise).

    Everyone who may open the invoices reads them all (procurement.access.INVOICES):
    the accounting assistant works on all of them, the readers read all.
    """
    today = today or local_today()
    late = ExpressionWrapper(Value(today, output_field=DateField()) - F("due_on"), DurationField())
    return (
        Invoice.objects.select_related("supplier", "commitment", "fiscal_year")
        .annotate(
            days_late=Case(When(_late_condition(today), then=late), output_field=DurationField())
        )
        .order_by(*ORDER_RECEIVED)
    )


def invoice_list(
    *,
    actor=None,
    tab: str = "all",
    year: FiscalYear | int | None = None,
    state: str | None = None,
    supplier: Supplier | int | None = None,
    text: str = "",
    today: date | None = None,
) -> QuerySet:
    """The invoice list with its tab and filters, in the order its index serves.

    tab: `all` (newest received first), `to_liquidate` (entered or waiting for
    validation, oldest due first), `late` (not cancelled, not paid, past due:
    the most overdue first). `text` looks in our number and the supplier's.
    """
    today = today or local_today()
    queryset = with_tab(invoices(actor=actor, today=today), tab, today=today)
    if year is not None:
        if isinstance(year, FiscalYear):
            queryset = queryset.filter(fiscal_year=year)
        else:
            queryset = queryset.filter(fiscal_year__year=year)
    if state:
        queryset = queryset.filter(state=state)
    if supplier is not None:
        queryset = queryset.filter(supplier=supplier)
    return search(queryset, text)


def with_tab(queryset: QuerySet, tab: str, *, today: date | None = None) -> QuerySet:
    """The invoices of a tab, in the order its index serves: `to_liquidate` and `late`
    by due date (the most overdue first), `all` as given."""
    if tab == "to_liquidate":
        return queryset.filter(state__in=TO_LIQUIDATE).order_by(*ORDER_DUE)
    if tab == "late":
        return queryset.filter(_late_condition(today or local_today())).order_by(*ORDER_DUE)
    return queryset


# The home page's queues (procurement/home.py): the list opened with ?queue= holds
# exactly these rows, in the order of their tab.


def invoices_to_liquidate(*, actor=None) -> QuerySet:
    """Entered invoices, not liquidated yet (the "to liquidate" tab without those
    waiting for validation)."""
    return invoice_list(actor=actor, tab="to_liquidate", state=Invoice.State.ENTERED)


def invoices_to_validate(*, actor=None) -> QuerySet:
    """Liquidations above the threshold waiting for the section head's validation."""
    return invoice_list(actor=actor, tab="to_liquidate", state=Invoice.State.TO_VALIDATE)


def invoices_late_unliquidated(*, actor=None) -> QuerySet:
    """Past their due date and not liquidated yet (entered or waiting for validation):
    late for payment because of us."""
    return invoice_list(actor=actor, tab="late").filter(state__in=TO_LIQUIDATE)


def invoices_payment_unrecorded(*, actor=None) -> QuerySet:
    """Liquidated, past their due date, without a payment date: the treasury has
    presumably paid them, the import of its payment dates is due."""
    return invoice_list(actor=actor, tab="late", state=Invoice.State.LIQUIDATED)


OUR_NUMBER = re.compile(r"FA-\d{4}-\d{5,}", re.IGNORECASE)


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Invoices whose number or supplier's number contains each word of `text`; one of
    our full numbers (FA-2026-00042) is looked up through its unique index. A supplier's
    number is also found in another format ("F2026-01187" finds "f2026 1187"), by its key."""
    for word in (text or "").split():
        if OUR_NUMBER.fullmatch(word):
            queryset = queryset.filter(Q(number=word.upper()) | Q(supplier_number=word))
        else:
            found = Q(number__icontains=word) | Q(supplier_number__icontains=word)
            key = supplier_number_key(word)
            if key:
                found |= Q(supplier_number_key__contains=key)
            queryset = queryset.filter(found)
    return queryset


def invoice_detail(*, actor=None) -> QuerySet:
    """Invoices for a detail page or the API: the people, the commitment and the lines."""
    return (
        invoices(actor=actor)
        .select_related(
            "entered_by", "liquidated_by", "validated_by", "cancelled_by", "commitment__supplier"
        )
        .prefetch_related(
            "lines__tax_rate",
            "lines__budget_line",
            "lines__commitment_line",
        )
    )


@dataclass(frozen=True)
class TaxRow:
    """The TGC at one rate: base and tax in XPF and in the invoice's currency."""

    rate: Decimal
    base: int
    tax: int
    base_currency: Decimal
    tax_currency: Decimal


def invoice_tax_rows(invoice: Invoice) -> list[TaxRow]:
    """The invoice's TGC by rate, from its (prefetched) lines, as its totals were computed."""
    lines = list(invoice.lines.all())
    xpf = document_totals((line.amount_ht, line.tax_rate.rate) for line in lines)
    currency = currency_totals(
        ((line.amount_ht_currency, line.tax_rate.rate) for line in lines),
        currency=invoice.currency,
    )
    by_rate = {row.rate: row for row in currency.by_rate}
    return [
        TaxRow(
            rate=row.rate,
            base=row.base,
            tax=row.tax,
            base_currency=by_rate[row.rate].base,
            tax_currency=by_rate[row.rate].tax,
        )
        for row in xpf.by_rate
    ]


# ---------------------------------------------------------------------------
# The entry form: what can be matched


def open_commitments(
    *,
    actor=None,
    supplier: Supplier | int | None = None,
    left_to_invoice_only: bool = False,
    keep: int | None = None,
) -> QuerySet:
    """Open commitments an invoice may be matched to (a direct invoice's own are not),
    of a supplier when given, each with `to_invoice`: what its lines still have to
    invoice (committed, neither released nor on a live invoice), in francs.

    `left_to_invoice_only`: only those with something left to invoice (the entry form's
    default: an exhausted commitment is rarely the one an invoice belongs to), and the
    commitment `keep` (the one already chosen) whatever its remainder.
    """
    left_on_lines = (
        CommitmentLine.objects.filter(commitment=OuterRef("pk"))
        .annotate(
            left=Greatest(
                F("amount") - F("released") - F("invoiced"),
                Value(0),
                output_field=BigIntegerField(),
            )
        )
        .order_by()
        .values("commitment")
        .annotate(total=Sum("left"))
        .values("total")
    )
    queryset = (
        Commitment.objects.filter(state=Commitment.State.OPEN)
        .exclude(kind=Commitment.Kind.DIRECT)
        .select_related("supplier", "fiscal_year")
        .annotate(
            to_invoice=Coalesce(Subquery(left_on_lines), Value(0), output_field=BigIntegerField())
        )
        .order_by("-created_at", "-pk")
    )
    if supplier is not None:
        queryset = queryset.filter(supplier=supplier)
    if left_to_invoice_only:
        wanted = Q(to_invoice__gt=0)
        if keep is not None:
            wanted |= Q(pk=keep)
        queryset = queryset.filter(wanted)
    return queryset


@dataclass(frozen=True)
class MatchableLine:
    """A commitment line as the entry form shows it, with what is left to invoice."""

    line: CommitmentLine

    @property
    def pk(self) -> int:
        return self.line.pk

    @property
    def remainder(self) -> int:
        """Committed and neither liquidated nor released."""
        return self.line.remainder

    @property
    def to_invoice(self) -> int:
        """Committed and not yet on a live invoice (what an invoice may take without top-up)."""
        return max(self.line.amount - self.line.released - self.line.invoiced, 0)

    @property
    def quantity_to_invoice(self) -> Decimal | None:
        """Received and not yet invoiced; None for an amount-only line."""
        if self.line.quantity is None:
            return None
        return max(self.line.received_quantity - self.line.invoiced_quantity, Decimal(0))

    @property
    def quantity_allowed(self) -> Decimal | None:
        """What may still be invoiced, with the tolerance over the received quantity."""
        if self.line.quantity is None:
            return None
        allowed = received_tolerance(self.line.received_quantity) - self.line.invoiced_quantity
        return max(allowed, Decimal(0))


def commitment_lines_to_invoice(*, actor=None, commitment: Commitment) -> list[MatchableLine]:
    """The lines of a commitment, with their committed, invoiced, remainder and quantities."""
    lines = CommitmentLine.objects.filter(commitment=commitment).select_related(
        "budget_line", "tax_rate"
    )
    return [MatchableLine(line) for line in lines.order_by("position")]


def direct_invoice_lines(*, actor=None) -> QuerySet:
    """The budget lines a direct invoice may charge (open years), with their availability."""
    return line_availability(actor=actor).filter(fiscal_year__state=FiscalYear.State.OPEN)


# ---------------------------------------------------------------------------
# Payment delays (for the reports)


@dataclass(frozen=True)
class PaymentDelays:
    count: int  # paid invoices
    amount: int  # what they amount to, with tax (XPF)
    average_days: Decimal | None  # between received and paid, one decimal
    paid_late: int  # paid after their due date


def payment_delays(*, actor=None, queryset: QuerySet | None = None) -> PaymentDelays:
    """How fast invoices are paid: over the paid, live invoices of `queryset` (all by
    default), their count and amount, the average days from receipt to payment, and how
    many were paid after their due date."""
    queryset = queryset if queryset is not None else Invoice.objects.all()
    paid = queryset.order_by().filter(payment_date__isnull=False, state=Invoice.State.LIQUIDATED)
    figures = paid.aggregate(
        count=Count("pk"),
        amount=Coalesce(Sum("amount_ttc"), 0),
        average=Avg(
            ExpressionWrapper(F("payment_date") - F("received_on"), output_field=DurationField())
        ),
        paid_late=Count("pk", filter=Q(payment_date__gt=F("due_on"))),
    )
    average = figures["average"]
    average_days = None
    if average is not None:
        days = Decimal(average.total_seconds()) / Decimal(86400)
        average_days = days.quantize(Decimal("0.1"))
    return PaymentDelays(
        count=figures["count"],
        amount=figures["amount"],
        average_days=average_days,
        paid_late=figures["paid_late"],
    )
