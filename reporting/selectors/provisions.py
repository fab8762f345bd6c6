"""The provisions of the closing: what was received and not yet invoiced (charges à
payer, factures non parvenues), by budget line and supplier.

A commitment line of ordered goods that received more than was invoiced owes the
difference: (received − invoiced quantity) × its unit price HT, rounded to the franc.
Today's figure reads the quantities the services keep on the line; at a past date
(`as_of`, typically 31 December) it sums the receipts received by then that were
not cancelled by then, and the invoices received by then that are not cancelled.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, Sum

from budgets.models import BudgetLine
from procurement.models import Commitment, CommitmentLine, InvoiceLine, ReceiptLine, Supplier
from reporting.models import ProvisionArgument


@dataclass
class ProvisionRow:
    budget_line: BudgetLine
    supplier: Supplier
    commitments: list[str] = field(default_factory=list)
    amount: int = 0
    argument: ProvisionArgument | None = None

    @property
    def key(self) -> str:
        return f"{self.budget_line.pk}-{self.supplier.pk}"

    @property
    def argument_text(self) -> str:
        return self.argument.text if self.argument else ""


def provision_amount(quantity: Decimal, unit_price: int) -> int:
    return int((Decimal(quantity) * unit_price).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _quantities_at(line_ids: list[int], as_of: date) -> tuple[dict, dict]:
    received = dict(
        ReceiptLine.objects.filter(commitment_line_id__in=line_ids, receipt__received_on__lte=as_of)
        .filter(Q(receipt__cancelled_at__isnull=True) | Q(receipt__cancelled_at__gt=_end_of(as_of)))
        .order_by()
        .values_list("commitment_line_id")
        .annotate(total=Sum("quantity"))
    )
    invoiced = dict(
        InvoiceLine.objects.filter(
            commitment_line_id__in=line_ids,
            invoice__received_on__lte=as_of,
            quantity__isnull=False,
        )
        .exclude(invoice__state="cancelled")
        .order_by()
        .values_list("commitment_line_id")
        .annotate(total=Sum("quantity"))
    )
    return received, invoiced


def provisions(*, actor=None, fiscal_year, as_of: date | None = None) -> list[ProvisionRow]:
    """The provisions of `fiscal_year` (a FiscalYear or a year), by budget line code then
    supplier name, each with its commitments' numbers and its argument."""
    year_filter = (
        {"commitment__fiscal_year__year": fiscal_year}
        if isinstance(fiscal_year, int)
        else {"commitment__fiscal_year": fiscal_year}
    )
    lines = list(
        CommitmentLine.objects.filter(
            quantity__isnull=False, unit_price__isnull=False, **year_filter
        )
        .exclude(commitment__state=Commitment.State.CANCELLED)
        .select_related(
            "commitment__supplier",
            "budget_line__nature_account__chapter",
            "budget_line__cost_centre",
        )
        .order_by("budget_line__code", "commitment__supplier__name", "commitment__number")
    )
    if as_of is not None:
        received, invoiced = _quantities_at([line.pk for line in lines], as_of)
    rows: dict[tuple[int, int], ProvisionRow] = {}
    for line in lines:
        if as_of is None:
            owed = line.received_quantity - line.invoiced_quantity
        else:
            owed = received.get(line.pk, 0) - invoiced.get(line.pk, 0)
        if owed <= 0:
            continue
        amount = provision_amount(owed, line.unit_price)
        if amount <= 0:
            continue
        supplier = line.commitment.supplier
        row = rows.get((line.budget_line_id, supplier.pk))
        if row is None:
            row = rows[(line.budget_line_id, supplier.pk)] = ProvisionRow(
                line.budget_line, supplier
            )
        if line.commitment.number not in row.commitments:
            row.commitments.append(line.commitment.number)
        row.amount += amount
    if rows:
        line_ids = {line_id for line_id, _supplier in rows}
        for argument in ProvisionArgument.objects.filter(
            budget_line_id__in=line_ids
        ).select_related("updated_by"):
            row = rows.get((argument.budget_line_id, argument.supplier_id))
            if row is not None:
                row.argument = argument
    return list(rows.values())


def provisions_total(rows: list[ProvisionRow]) -> int:
    return sum(row.amount for row in rows)


def provisions_by_line(rows: list[ProvisionRow]) -> list[tuple[BudgetLine, int]]:
    totals: dict[int, list] = defaultdict(lambda: [None, 0])
    for row in rows:
        totals[row.budget_line.pk][0] = row.budget_line
        totals[row.budget_line.pk][1] += row.amount
    return [(line, amount) for line, amount in totals.values()]
