"""Reading purchase orders for the screens, the PDF and the API.

Every role of procurement.access.ORDERS sees every order (the buyer issues them,
the accountant checks invoices against them, the readers read).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, QuerySet

from ..models import CommitmentLine, PurchaseOrder, Receipt
from ..services.common import Totals
from ..services.invoices import local_today
from ..services.orders import order_line_amount, order_totals
from ..services.receipts import quantity_text
from .commitments import receipts_of


def rate_text(rate: Decimal | None) -> str:
    """`22.00` -> `22 %`, `5.50` -> `5,5 %` (in French)."""
    if rate is None:
        return "—"
    return f"{quantity_text(rate)}\u00a0%"


def order_list(*, actor=None) -> QuerySet:
    return PurchaseOrder.objects.select_related(
        "fiscal_year", "supplier", "commitment", "commitment__purchase_request"
    )


def orders_late(*, actor=None) -> QuerySet:
    """Live orders past their expected delivery date whose goods have not all arrived
    (a line ordered in quantity and not fully received): the buyer chases the
    supplier. A home queue (procurement/home.py)."""
    waiting = CommitmentLine.objects.filter(
        commitment=OuterRef("commitment"),
        quantity__isnull=False,
        received_quantity__lt=F("quantity"),
    )
    return (
        order_list(actor=actor)
        .exclude(state=PurchaseOrder.State.CANCELLED)
        .filter(delivery_date__lt=local_today(), commitment__state="open")
        .filter(Exists(waiting))
    )


@dataclass(frozen=True)
class OrderLine:
    """A line as the order form prints it."""

    line: CommitmentLine
    amount_ht: int

    @property
    def position(self) -> int:
        return self.line.position

    @property
    def description(self) -> str:
        return self.line.description

    @property
    def quantity(self):
        return self.line.quantity

    @property
    def unit_price(self):
        return self.line.unit_price

    @property
    def tax_rate(self):
        return self.line.tax_rate.rate if self.line.tax_rate_id else None

    @property
    def received_quantity(self):
        return self.line.received_quantity

    @property
    def quantity_text(self) -> str:
        return "—" if self.quantity is None else quantity_text(self.quantity)

    @property
    def received_text(self) -> str:
        return quantity_text(self.line.received_quantity)

    @property
    def rate_text(self) -> str:
        return rate_text(self.tax_rate)


@dataclass
class OrderFile:
    order: PurchaseOrder | None
    lines: list[OrderLine]
    totals: Totals
    receipts: list[Receipt]

    @property
    def tax_lines(self) -> list[dict]:
        """The TGC by rate: the rate as text, its base and its tax."""
        return [
            {
                "rate": line.rate,
                "rate_text": rate_text(line.rate),
                "base": line.base,
                "tax": line.tax,
            }
            for line in self.totals.by_rate
        ]


def order_preview(*, actor=None, commitment) -> OrderFile:
    """What the order of a commitment will say, before it is issued (the order form).
    ProcurementError when a line cannot be ordered (no TGC rate)."""
    lines = list(
        CommitmentLine.objects.filter(commitment=commitment)
        .select_related("tax_rate")
        .order_by("position")
    )
    return OrderFile(
        order=None,
        lines=[OrderLine(line=line, amount_ht=order_line_amount(line)) for line in lines],
        totals=order_totals(lines),
        receipts=[],
    )


def order_file(*, actor=None, order: PurchaseOrder) -> OrderFile:
    """The order, its lines with their amounts, the TGC by rate and the receipts."""
    lines = list(
        CommitmentLine.objects.filter(commitment_id=order.commitment_id)
        .select_related("tax_rate", "budget_line")
        .order_by("position")
    )
    receipts = receipts_of(actor=actor, commitment_id=order.commitment_id)
    return OrderFile(
        order=order,
        lines=[OrderLine(line=line, amount_ht=order_line_amount(line)) for line in lines],
        totals=order_totals(lines),
        receipts=receipts,
    )
