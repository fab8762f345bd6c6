"""Reading commitments for the screens and the API: the list with its remainders,
and one commitment with its lines, order, receipts and invoices.

Every role of procurement.access.COMMITMENTS sees every commitment: the buyer
orders and receives against them, the accountant matches invoices to them, the
readers read. Who may change one is the services' business.
"""

from dataclasses import dataclass, field

from django.db.models import F, Prefetch, QuerySet

from budgets.models import FiscalYear
from budgets.selectors import line_availability

from ..models import Commitment, CommitmentLine, Invoice, PurchaseOrder, Receipt, ReceiptLine
from ..services.receipts import quantity_text


def commitment_list(*, actor=None) -> QuerySet:
    """Commitments with their supplier and year, and `remaining` (committed − liquidated −
    released) for sorting and filtering."""
    return Commitment.objects.select_related(
        "fiscal_year", "supplier", "purchase_request"
    ).annotate(remaining=F("amount") - F("liquidated") - F("released"))


def commitment_lines(*, actor=None, commitment: Commitment) -> QuerySet:
    """A commitment's lines, by position, with their budget line and TGC rate."""
    return (
        CommitmentLine.objects.filter(commitment=commitment)
        .select_related("budget_line", "tax_rate")
        .order_by("position")
    )


@dataclass
class CommitmentFile:
    """Everything the commitment page shows, fetched in a fixed number of queries."""

    commitment: Commitment
    lines: list[CommitmentLine]
    order: PurchaseOrder | None
    receipts: list[Receipt]
    invoices: list[Invoice]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def has_quantities(self) -> bool:
        return any(line.quantity is not None for line in self.lines)

    @property
    def receivable(self) -> bool:
        """Some ordered line still waits for goods."""
        return any(
            line.quantity is not None and line.received_quantity < line.quantity
            for line in self.lines
        )


def with_quantity_texts(lines):
    """Sets `quantity_text`, `received_text` and `invoiced_text` on commitment lines
    (`2`, `1,5`: what the pages show)."""
    for line in lines:
        line.quantity_text = "—" if line.quantity is None else quantity_text(line.quantity)
        line.received_text = quantity_text(line.received_quantity)
        line.invoiced_text = quantity_text(line.invoiced_quantity)
    return lines


def receipts_of(*, actor=None, commitment_id: int) -> list[Receipt]:
    """A commitment's receipts, newest first, with their lines (each with `quantity_text`)."""
    receipts = list(
        Receipt.objects.filter(commitment_id=commitment_id)
        .select_related("recorded_by", "cancelled_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReceiptLine.objects.select_related("commitment_line").order_by(
                    "commitment_line__position"
                ),
            )
        )
        .order_by("-received_on", "-pk")
    )
    for receipt in receipts:
        for line in receipt.lines.all():
            line.quantity_text = quantity_text(line.quantity)
    return receipts


def commitment_file(*, actor=None, commitment: Commitment) -> CommitmentFile:
    lines = with_quantity_texts(list(commitment_lines(actor=actor, commitment=commitment)))
    order = PurchaseOrder.objects.filter(commitment=commitment).select_related("issued_by").first()
    receipts = receipts_of(actor=actor, commitment_id=commitment.pk)
    invoices = list(
        Invoice.objects.filter(commitment=commitment)
        .select_related("supplier")
        .order_by("-received_on", "-pk")
    )
    totals = {
        name: sum(getattr(line, name) for line in lines)
        for name in ("amount", "liquidated", "released", "remainder", "invoiced")
    }
    return CommitmentFile(
        commitment=commitment,
        lines=lines,
        order=order,
        receipts=receipts,
        invoices=invoices,
        totals=totals,
    )


def release_preview(*, actor=None, commitment: Commitment) -> list[CommitmentLine]:
    """The lines closing would release something on, with their remainder."""
    return [
        line for line in commitment_lines(actor=actor, commitment=commitment) if line.remainder > 0
    ]


def open_year_lines(*, actor=None) -> QuerySet:
    """The budget lines a new commitment may take credits on: the open years' lines,
    with their figures (budgets.selectors.line_availability)."""
    return (
        line_availability(actor=actor)
        .filter(fiscal_year__state=FiscalYear.State.OPEN)
        .order_by("-fiscal_year__year", "section", "code")
    )
