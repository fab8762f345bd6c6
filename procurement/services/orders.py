"""Purchase orders (bons de commande): issued for an approved request's commitment,
marked as sent, cancelled while nothing has arrived.

An order is numbered BC-YYYY-NNNNN by `next_number` inside the creating
transaction: concurrent creations queue on the sequence row (no duplicate) and a
creation that rolls back gives its number back (no gap). Its amounts are those of
the commitment's lines at the time of ordering (quantity × unit price, the TGC by
rate). An order moves no credits: the commitment already holds them.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dsi_finance.roles import require_capability

from ..models import Commitment, CommitmentLine, Invoice, PurchaseOrder
from .commitments import lock_commitment
from .common import (
    ProcurementError,
    Totals,
    document_totals,
    line_amount,
    next_number,
    validate_text,
)
from .progress import request_progress_refresh

TEXT_MAX = 2000


def _require_open(commitment: Commitment) -> None:
    if commitment.state != Commitment.State.OPEN:
        raise ProcurementError(
            _("The commitment %(number)s is %(state)s.")
            % {"number": commitment.number, "state": commitment.get_state_display().lower()},
            code="commitment_state",
        )


def order_line_amount(line: CommitmentLine) -> int:
    """What the order says of a line before tax: quantity × unit price (the amount the
    request approved), whatever an invoice above it later added to the commitment."""
    if line.quantity is not None and line.unit_price is not None:
        return line_amount(line.quantity, line.unit_price)
    return line.amount


def order_totals(lines: list[CommitmentLine]) -> Totals:
    """HT, TGC by rate and TTC of the commitment lines an order lists."""
    missing = [line for line in lines if line.tax_rate_id is None]
    if missing:
        raise ProcurementError(
            _("The line %(position)s (%(description)s) has no TGC rate: it cannot be ordered.")
            % {"position": missing[0].position, "description": missing[0].description},
            code="tax_rate",
        )
    return document_totals((order_line_amount(line), line.tax_rate.rate) for line in lines)


def active_order(commitment: Commitment) -> PurchaseOrder | None:
    """The commitment's order unless it was cancelled."""
    return (
        PurchaseOrder.objects.filter(commitment=commitment)
        .exclude(state=PurchaseOrder.State.CANCELLED)
        .first()
    )


@transaction.atomic
def purchase_order_create(
    *,
    user,
    commitment: Commitment,
    delivery_address: str = "",
    delivery_date: date | None = None,
    notes: str = "",
) -> PurchaseOrder:
    """Issue the order of an approved purchase request's commitment.

    The commitment is locked first: two buyers ordering it at once queue, and the
    second one is told it is already ordered instead of failing on the unique key.
    """
    require_capability(user, "record_order")
    commitment = lock_commitment(commitment)
    if commitment.kind != Commitment.Kind.REQUEST:
        raise ProcurementError(
            _(
                "The commitment %(number)s was not opened by a purchase request: "
                "only an approved request is ordered."
            )
            % {"number": commitment.number},
            code="commitment_kind",
        )
    _require_open(commitment)
    existing = PurchaseOrder.objects.filter(commitment=commitment).first()
    if existing is not None:
        if existing.state == PurchaseOrder.State.CANCELLED:
            message = _(
                "The order %(order)s of the commitment %(number)s was cancelled: "
                "a commitment is ordered once."
            )
        else:
            message = _("The commitment %(number)s is already ordered (%(order)s).")
        raise ProcurementError(
            message % {"number": commitment.number, "order": existing.number},
            code="already_ordered",
        )
    supplier = commitment.supplier
    if not supplier.is_active:
        raise ProcurementError(
            _("The supplier %(name)s is deactivated: reactivate it before ordering.")
            % {"name": supplier.name},
            code="supplier_inactive",
        )
    delivery_address = validate_text(
        delivery_address, label=_("The delivery address"), max_length=TEXT_MAX, required=False
    )
    notes = validate_text(notes, label=_("The notes"), max_length=TEXT_MAX, required=False)
    today = timezone.localdate()
    if delivery_date is not None:
        if not isinstance(delivery_date, date):
            raise ProcurementError(_("The delivery date is not a date."), code="date")
        if delivery_date < today:
            raise ProcurementError(
                _("The expected delivery date (%(date)s) is already past.")
                % {"date": delivery_date.strftime("%d/%m/%Y")},
                code="date",
            )
    lines = list(commitment.lines.select_related("tax_rate").order_by("position"))
    totals = order_totals(lines)
    order = PurchaseOrder(
        fiscal_year=commitment.fiscal_year,
        number=next_number("BC", commitment.fiscal_year.year),
        commitment=commitment,
        supplier=supplier,
        delivery_address=delivery_address,
        delivery_date=delivery_date,
        notes=notes,
        amount_ht=totals.ht,
        amount_tax=totals.tax,
        amount_ttc=totals.ttc,
        issued_by=user,
    )
    order._history_user = user  # who, also outside a web request (commands, tasks)
    order.save()
    request_progress_refresh(commitment)
    return order


def _lock_order(order: PurchaseOrder | int) -> PurchaseOrder:
    pk = getattr(order, "pk", order)
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("commitment", "supplier")
        .get(pk=pk)
    )


@transaction.atomic
def purchase_order_mark_sent(*, user, order: PurchaseOrder) -> PurchaseOrder:
    """Issued -> sent: the buyer sent the order form to the supplier."""
    require_capability(user, "record_order")
    order = _lock_order(order)
    if order.state == PurchaseOrder.State.SENT:
        raise ProcurementError(
            _("The order %(number)s was already marked as sent on %(date)s.")
            % {
                "number": order.number,
                "date": timezone.localtime(order.sent_at).strftime("%d/%m/%Y"),
            },
            code="order_state",
        )
    if order.state != PurchaseOrder.State.ISSUED:
        raise ProcurementError(
            _("The order %(number)s is cancelled: it cannot be sent.") % {"number": order.number},
            code="order_state",
        )
    order.state = PurchaseOrder.State.SENT
    order.sent_by = user
    order.sent_at = timezone.now()
    order._history_user = user
    order.save(update_fields=["state", "sent_by", "sent_at"])
    return order


@transaction.atomic
def purchase_order_cancel(*, user, order: PurchaseOrder, reason: str) -> PurchaseOrder:
    """Cancel an order nothing has arrived on nor been invoiced against.

    The order keeps its number (no gap, the supplier may hold it); its commitment
    keeps its credits and goes back to "approved" for its request: cancelling the
    request, or closing the commitment, gives them back.
    """
    require_capability(user, "record_order")
    reason = validate_text(reason, label=_("The reason"), max_length=TEXT_MAX)
    commitment = lock_commitment(order.commitment_id)
    order = _lock_order(order)
    if order.state == PurchaseOrder.State.CANCELLED:
        raise ProcurementError(
            _("The order %(number)s is already cancelled.") % {"number": order.number},
            code="order_state",
        )
    received = commitment.receipts.filter(cancelled_at__isnull=True).values_list(
        "number", flat=True
    )
    if received:
        raise ProcurementError(
            _(
                "Receipts %(numbers)s are recorded for the order %(number)s: "
                "cancel them before the order."
            )
            % {"numbers": ", ".join(received), "number": order.number},
            code="order_received",
        )
    invoiced = commitment.invoices.exclude(state=Invoice.State.CANCELLED).values_list(
        "number", flat=True
    )
    if invoiced:
        raise ProcurementError(
            _("Invoices %(numbers)s are entered against the order %(number)s: it stays.")
            % {"numbers": ", ".join(invoiced), "number": order.number},
            code="order_invoiced",
        )
    order.state = PurchaseOrder.State.CANCELLED
    order.cancelled_by = user
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason
    order._change_reason = reason[:100]  # the history keeps 100 characters; the field keeps all
    order._history_user = user
    order.save()
    request_progress_refresh(commitment)
    return order
