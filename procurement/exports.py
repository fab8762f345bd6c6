"""The columns of the procurement lists' XLSX exports (dsi_finance.exports).

One list per page, in the page's column order, with the figures as numbers: each
names the `values_list` fields it reads, so that an export of a million rows builds
no model instance and makes no query per row.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dsi_finance.exports import (
    AMOUNT,
    DATE,
    PERCENT,
    QUANTITY,
    ExportColumn,
    person_column,
    yes_no,
)

from .models import Commitment, Invoice, PurchaseOrder, PurchaseRequest

REQUEST_EXPORT = [
    ExportColumn(_("Request"), "number", width=16),
    ExportColumn(_("Entered on"), "created_at", kind=DATE),
    ExportColumn(_("Supplier"), "supplier__name", width=30),
    ExportColumn(_("Subject"), "subject", width=40),
    ExportColumn(_("Before tax"), "amount_ht", kind=AMOUNT),
    ExportColumn(_("With tax"), "amount_ttc", kind=AMOUNT),
    ExportColumn(_("State"), "state", choices=PurchaseRequest.State, width=16),
    ExportColumn(
        _("Approver"),
        "for_director",
        value=lambda over: str(_("IT director") if over else _("Section head")),
    ),
    person_column(_("Requested by"), "requested_by", width=22),
]

COMMITMENT_EXPORT = [
    ExportColumn(_("Number"), "number", width=16),
    ExportColumn(_("Opened on"), "created_at", kind=DATE),
    ExportColumn(_("Kind"), "kind", choices=Commitment.Kind, width=14),
    ExportColumn(_("Supplier"), "supplier__name", width=30),
    ExportColumn(_("Subject"), "subject", width=40),
    ExportColumn(_("Committed"), "amount", kind=AMOUNT),
    ExportColumn(_("Liquidated"), "liquidated", kind=AMOUNT),
    ExportColumn(_("Remainder"), "remaining", kind=AMOUNT),
    ExportColumn(_("State"), "state", choices=Commitment.State, width=12),
]

ORDER_EXPORT = [
    ExportColumn(_("Number"), "number", width=16),
    ExportColumn(_("Issued on"), "issued_at", kind=DATE),
    ExportColumn(_("Supplier"), "supplier__name", width=30),
    ExportColumn(_("Subject"), "commitment__subject", width=40),
    ExportColumn(_("Commitment"), "commitment__number", width=16),
    ExportColumn(_("Before tax"), "amount_ht", kind=AMOUNT),
    ExportColumn(_("With tax"), "amount_ttc", kind=AMOUNT),
    ExportColumn(_("State"), "state", choices=PurchaseOrder.State, width=12),
]

RECEIPT_EXPORT = [
    ExportColumn(_("Number"), "number", width=16),
    ExportColumn(_("Received on"), "received_on", kind=DATE),
    ExportColumn(_("Supplier"), "commitment__supplier__name", width=30),
    ExportColumn(_("Subject"), "commitment__subject", width=40),
    ExportColumn(_("Order"), "commitment__order__number", width=16),
    ExportColumn(_("Commitment"), "commitment__number", width=16),
    person_column(_("Recorded by"), "recorded_by", width=22),
    ExportColumn(
        _("State"),
        "cancelled_at",
        value=lambda cancelled_at: str(_("Cancelled") if cancelled_at else _("Recorded")),
        width=12,
    ),
]


def _days_late(days_late) -> int | None:
    """The timedelta past the due date as a number of days; nothing when not late."""
    if days_late is None or days_late.days <= 0:
        return None
    return days_late.days


INVOICE_EXPORT = [
    ExportColumn(_("Number"), "number", width=16),
    ExportColumn(_("Received on"), "received_on", kind=DATE),
    ExportColumn(_("Supplier"), "supplier__name", width=30),
    ExportColumn(_("Supplier's number"), "supplier_number", width=18),
    ExportColumn(_("Commitment"), "commitment__number", width=16),
    ExportColumn(_("Before tax"), "amount_ht", kind=AMOUNT),
    ExportColumn(_("With tax"), "amount_ttc", kind=AMOUNT),
    ExportColumn(_("Due on"), "due_on", kind=DATE),
    ExportColumn(_("Days late"), "days_late", kind=QUANTITY, value=_days_late),
    ExportColumn(_("State"), "state", choices=Invoice.State, width=16),
    ExportColumn(_("Paid on"), "payment_date", kind=DATE),
]

SUPPLIER_EXPORT = [
    ExportColumn(_("Name"), "name", width=34),
    ExportColumn(_("RIDET"), "ridet", width=12),
    ExportColumn(_("Contact"), "contact_name", width=24),
    ExportColumn(_("E-mail"), "email", width=28),
    ExportColumn(_("Phone"), "phone", width=14),
    ExportColumn(_("Payment terms (days)"), "payment_terms_days", kind=QUANTITY),
    ExportColumn(
        _("State"),
        "is_active",
        value=lambda active: str(_("Active") if active else _("Deactivated")),
        width=12,
    ),
]


def _in_force(valid_from, valid_until) -> str:
    today = timezone.localdate()
    return yes_no(valid_from <= today and (valid_until is None or valid_until >= today))


TAX_RATE_EXPORT = [
    ExportColumn(_("Rate (%)"), "rate", kind=PERCENT),
    ExportColumn(_("Label"), "label", width=30),
    ExportColumn(_("Valid from"), "valid_from", kind=DATE),
    ExportColumn(_("Valid until"), "valid_until", kind=DATE),
    ExportColumn(_("In force today"), ("valid_from", "valid_until"), value=_in_force),
]
