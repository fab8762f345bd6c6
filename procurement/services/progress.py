"""Where a purchase request stands, derived from what happened to its commitment.

After approval, a request's state follows its commitment: an order was issued,
goods arrived in part or in full, invoices came, the commitment was closed. The
services of orders, receipts, invoices and commitments call
`request_progress_refresh` after their write, in the same transaction, so the
state shown is never out of step with the documents.
"""

from ..models import Commitment, Invoice, PurchaseOrder, PurchaseRequest

FOLLOWING_APPROVAL = {
    PurchaseRequest.State.APPROVED,
    PurchaseRequest.State.ORDERED,
    PurchaseRequest.State.PARTLY_RECEIVED,
    PurchaseRequest.State.RECEIVED,
    PurchaseRequest.State.INVOICED,
    PurchaseRequest.State.CLOSED,
}


def request_progress(commitment: Commitment) -> str:
    """The state a request should show, given its commitment's documents."""
    State = PurchaseRequest.State
    if commitment.state == Commitment.State.CLOSED:
        return State.CLOSED
    if commitment.state == Commitment.State.CANCELLED:
        return State.CANCELLED
    lines = list(commitment.lines.all())
    ordered = [line for line in lines if line.quantity]
    received_any = any(line.received_quantity > 0 for line in ordered)
    received_all = bool(ordered) and all(
        line.received_quantity >= line.quantity for line in ordered
    )
    invoiced = commitment.invoices.exclude(state=Invoice.State.CANCELLED).exists()
    if invoiced and (received_all or not ordered):
        return State.INVOICED
    if received_all:
        return State.RECEIVED
    if received_any:
        return State.PARTLY_RECEIVED
    has_order = PurchaseOrder.objects.filter(commitment=commitment).exclude(
        state=PurchaseOrder.State.CANCELLED
    )
    if has_order.exists():
        return State.ORDERED
    return State.APPROVED


def request_progress_refresh(commitment: Commitment) -> None:
    """Set the state of the commitment's purchase request (if any) from its documents."""
    if not commitment.purchase_request_id:
        return
    request = PurchaseRequest.objects.get(pk=commitment.purchase_request_id)
    if request.state not in FOLLOWING_APPROVAL:
        return
    state = request_progress(commitment)
    if state != request.state:
        request.state = state
        request.save(update_fields=["state"])
