"""Reading receipts (service fait) for the screens and the API.

Every role of procurement.access.RECEIPTS sees every receipt (the buyer records
them, the accountant checks invoices against them, the readers read).
"""

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet

from ..models import CommitmentLine, Receipt, ReceiptLine


def receipt_list(*, actor=None) -> QuerySet:
    return Receipt.objects.select_related(
        "commitment",
        "commitment__supplier",
        "commitment__fiscal_year",
        "commitment__order",
        "recorded_by",
        "cancelled_by",
    )


def receipts_to_invoice(*, actor=None) -> QuerySet:
    """Live receipts of open commitments with goods received and not invoiced yet (a
    line's received quantity above its invoiced quantity): the invoices to enter
    against them. A home queue (procurement/home.py)."""
    pending = ReceiptLine.objects.filter(
        receipt=OuterRef("pk"),
        commitment_line__received_quantity__gt=F("commitment_line__invoiced_quantity"),
    )
    return (
        receipt_list(actor=actor)
        .filter(cancelled_at__isnull=True, commitment__state="open")
        .filter(Exists(pending))
    )


def receipt_lines(*, actor=None, receipt: Receipt) -> QuerySet:
    return (
        ReceiptLine.objects.filter(receipt=receipt)
        .select_related("commitment_line")
        .order_by("commitment_line__position")
    )


def receipt_with_lines(*, actor=None) -> QuerySet:
    """Receipts with their lines prefetched (the API's nested lines)."""
    return receipt_list(actor=actor).prefetch_related(
        Prefetch(
            "lines",
            queryset=ReceiptLine.objects.select_related("commitment_line").order_by(
                "commitment_line__position"
            ),
        )
    )


def receivable_lines(*, actor=None, commitment) -> list[CommitmentLine]:
    """The commitment's lines that carry a quantity, with what is left to receive
    (`left`), for the receipt form."""
    lines = list(
        CommitmentLine.objects.filter(commitment=commitment, quantity__isnull=False).order_by(
            "position"
        )
    )
    for line in lines:
        line.left = line.quantity - line.received_quantity
    return lines
