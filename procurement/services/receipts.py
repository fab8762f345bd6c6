"""Receipts (service fait): what arrived of an order, line by line, on a date.

A receipt adds its quantities to the commitment lines' `received_quantity`
under a lock of the commitment row, so that two receipts recorded at once cannot
both receive the last units. Nothing may be received beyond the ordered
quantity: the receipt tolerance (PROCUREMENT_RECEIPT_TOLERANCE_PERCENT) is for
invoices against receipts, not for receipts against the order. A receipt is
cancelled with a reason, never deleted; its quantities are then taken back,
unless invoices already count on them.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from dsi_finance.roles import require_capability

from ..models import Commitment, CommitmentLine, PurchaseOrder, Receipt, ReceiptLine
from .commitments import lock_commitment
from .common import (
    ProcurementError,
    next_number,
    validate_quantity,
    validate_text,
)
from .orders import active_order
from .progress import request_progress_refresh

TEXT_MAX = 2000


def quantity_text(quantity: Decimal) -> str:
    """`2.000` -> `2`, `1.500` -> `1,5` (in French): a quantity in a message."""
    quantity = Decimal(quantity)
    if quantity == quantity.to_integral_value():
        quantity = quantity.quantize(Decimal(1))
    else:
        quantity = quantity.normalize()
    return number_format(quantity)


def _line_name(line: CommitmentLine) -> str:
    return _("line %(position)s “%(description)s”") % {
        "position": line.position,
        "description": line.description,
    }


def _typed_quantity(value, *, line: CommitmentLine) -> Decimal | None:
    """The quantity typed for a line; None when left empty or zero (nothing arrived)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    label = _("The quantity of the %(line)s") % {"line": _line_name(line)}
    try:
        return validate_quantity(value, label=label)
    except ProcurementError as error:
        refused = error
    try:
        zero = Decimal(str(value).strip().replace(",", ".")) == 0
    except (InvalidOperation, ValueError):
        zero = False
    if zero and not isinstance(value, float | bool):
        return None
    raise refused


def _require_open(commitment: Commitment) -> None:
    if commitment.state != Commitment.State.OPEN:
        raise ProcurementError(
            _("The commitment %(number)s is %(state)s.")
            % {"number": commitment.number, "state": commitment.get_state_display().lower()},
            code="commitment_state",
        )


def _line_key(key) -> int:
    pk = getattr(key, "pk", key)
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise ProcurementError(
            _("Unknown commitment line: %(line)s.") % {"line": key}, code="line"
        ) from None


@transaction.atomic
def receipt_create(
    *,
    user,
    commitment: Commitment,
    received_on: date,
    quantities: Mapping[CommitmentLine | int, Decimal | str],
    note: str = "",
) -> Receipt:
    """Record what arrived on `received_on`: {commitment line (or its id): quantity}.

    Lines left out, empty or at zero received nothing this time. Refused, with
    nothing written, when the commitment is not open, has no order (a request's),
    the date is in the future or before the order, a quantity is not a positive
    number, a line carries no quantity, or a line would receive more than ordered.
    """
    require_capability(user, "record_receipt")
    commitment = lock_commitment(commitment)
    _require_open(commitment)
    order: PurchaseOrder | None = active_order(commitment)
    if commitment.kind == Commitment.Kind.REQUEST and order is None:
        raise ProcurementError(
            _("The commitment %(number)s has no order: issue the order before receiving.")
            % {"number": commitment.number},
            code="no_order",
        )
    if not isinstance(received_on, date):
        raise ProcurementError(_("The receipt date is not a date."), code="date")
    today = timezone.localdate()
    if received_on > today:
        raise ProcurementError(
            _("The receipt date (%(date)s) is in the future.")
            % {"date": received_on.strftime("%d/%m/%Y")},
            code="date",
        )
    start = (
        timezone.localdate(order.issued_at) if order else timezone.localdate(commitment.created_at)
    )
    if received_on < start:
        raise ProcurementError(
            _("The receipt date (%(date)s) is before the order (%(start)s).")
            % {"date": received_on.strftime("%d/%m/%Y"), "start": start.strftime("%d/%m/%Y")},
            code="date",
        )
    note = validate_text(note, label=_("The note"), max_length=TEXT_MAX, required=False)

    lines = {line.pk: line for line in commitment.lines.order_by("position")}
    received: list[tuple[CommitmentLine, Decimal]] = []
    for key, value in quantities.items():
        pk = _line_key(key)
        line = lines.get(pk)
        if line is None:
            raise ProcurementError(
                _("The line %(line)s is not a line of the commitment %(number)s.")
                % {"line": key, "number": commitment.number},
                code="line",
            )
        quantity = _typed_quantity(value, line=line)
        if quantity is None:
            continue
        if line.quantity is None:
            raise ProcurementError(
                _("The %(line)s has no ordered quantity: nothing is received on it.")
                % {"line": _line_name(line)},
                code="no_quantity",
            )
        if line.received_quantity + quantity > line.quantity:
            raise ProcurementError(
                _(
                    "The %(line)s: %(quantity)s received would exceed the quantity ordered "
                    "(%(ordered)s ordered, %(received)s already received, %(left)s left)."
                )
                % {
                    "line": _line_name(line),
                    "quantity": quantity_text(quantity),
                    "ordered": quantity_text(line.quantity),
                    "received": quantity_text(line.received_quantity),
                    "left": quantity_text(line.quantity - line.received_quantity),
                },
                code="over_receipt",
            )
        received.append((line, quantity))
    if not received:
        raise ProcurementError(
            _("Enter the quantity received on at least one line."), code="nothing_received"
        )

    receipt = Receipt(
        commitment=commitment,
        number=next_number("SF", commitment.fiscal_year.year),
        received_on=received_on,
        note=note,
        recorded_by=user,
    )
    receipt._history_user = user  # who, also outside a web request (commands, tasks)
    receipt.save()
    ReceiptLine.objects.bulk_create(
        ReceiptLine(receipt=receipt, commitment_line=line, quantity=quantity)
        for line, quantity in sorted(received, key=lambda item: item[0].position)
    )
    for line, quantity in received:
        CommitmentLine.objects.filter(pk=line.pk).update(
            received_quantity=F("received_quantity") + quantity
        )
    request_progress_refresh(commitment)
    return receipt


def receipt_tolerance() -> Decimal:
    """How much more than received may be invoiced: 1 + the tolerance in percent."""
    return 1 + Decimal(settings.PROCUREMENT_RECEIPT_TOLERANCE_PERCENT) / 100


@transaction.atomic
def receipt_cancel(*, user, receipt: Receipt, reason: str) -> Receipt:
    """Cancel a receipt: its quantities are no longer received.

    Refused when the invoices of a line would then exceed what remains received
    beyond the tolerance (cancel or correct those invoices first).
    """
    require_capability(user, "record_receipt")
    reason = validate_text(reason, label=_("The reason"), max_length=TEXT_MAX)
    commitment = lock_commitment(receipt.commitment_id)
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.is_cancelled:
        raise ProcurementError(
            _("The receipt %(number)s is already cancelled.") % {"number": receipt.number},
            code="receipt_state",
        )
    _require_open(commitment)
    tolerance = receipt_tolerance()
    receipt_lines = list(
        receipt.lines.select_related("commitment_line").order_by("commitment_line__position")
    )
    for receipt_line in receipt_lines:
        line = CommitmentLine.objects.get(pk=receipt_line.commitment_line_id)
        left = line.received_quantity - receipt_line.quantity
        if line.invoiced_quantity > left * tolerance:
            raise ProcurementError(
                _(
                    "The %(line)s: %(invoiced)s is invoiced, and only %(left)s would remain "
                    "received: cancel or correct the invoices first."
                )
                % {
                    "line": _line_name(line),
                    "invoiced": quantity_text(line.invoiced_quantity),
                    "left": quantity_text(left),
                },
                code="invoiced_above_received",
            )
    for receipt_line in receipt_lines:
        CommitmentLine.objects.filter(pk=receipt_line.commitment_line_id).update(
            received_quantity=F("received_quantity") - receipt_line.quantity
        )
    receipt.cancelled_by = user
    receipt.cancelled_at = timezone.now()
    receipt.cancel_reason = reason
    receipt._change_reason = reason[:100]  # the history keeps 100 characters; the field keeps all
    receipt._history_user = user
    receipt.save()
    request_progress_refresh(commitment)
    return receipt
