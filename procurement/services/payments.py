"""Payment dates of liquidated invoices: typed one by one, or imported from a spreadsheet.

The Finance Direction pays; the DSI records when, to follow payment delays. A date is
on or after the invoice date, never in the future, and only a liquidated invoice is
paid. The import reads its XLSX with the kernel's safe reader (dsi_finance.xlsx): each
row names an invoice by our number (FA-…) or by the supplier's RIDET and invoice number,
and gives its payment date; every row right and all recorded, or nothing and every
row's error listed.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from dsi_finance import xlsx
from dsi_finance.roles import require_any_capability

from ..models import Invoice
from ..supplier_numbers import supplier_number_key
from .common import ProcurementError
from .invoices import local_today, lock_invoice

__all__ = [
    "PAYMENT_CAPABILITIES",
    "PaymentImportResult",
    "PaymentRowError",
    "invoice_payments_import",
    "invoice_set_payment_date",
    "payment_import_headers",
]

PAYMENT_CAPABILITIES = ("enter_invoice", "liquidate_invoice")


def _check_payment_date(invoice: Invoice, payment_date) -> date:
    if not isinstance(payment_date, date) or isinstance(payment_date, datetime):
        raise ProcurementError(_("The payment date is required."), code="payment_date")
    if invoice.state != Invoice.State.LIQUIDATED:
        raise ProcurementError(
            _("The invoice %(number)s is %(state)s: only a liquidated invoice is paid.")
            % {"number": invoice.number, "state": invoice.get_state_display().lower()},
            code="invoice_state",
        )
    if payment_date < invoice.invoice_date:
        raise ProcurementError(
            _("The payment date %(date)s is before the invoice date (%(invoice_date)s).")
            % {
                "date": payment_date.strftime("%d/%m/%Y"),
                "invoice_date": invoice.invoice_date.strftime("%d/%m/%Y"),
            },
            code="payment_date",
        )
    if payment_date > local_today():
        raise ProcurementError(
            _("The payment date %(date)s is in the future.")
            % {"date": payment_date.strftime("%d/%m/%Y")},
            code="payment_date",
        )
    return payment_date


@transaction.atomic
def invoice_set_payment_date(*, user, invoice: Invoice, payment_date: date) -> Invoice:
    """Record (or correct) the date a liquidated invoice was paid, to follow payment delays."""
    require_any_capability(user, *PAYMENT_CAPABILITIES)
    invoice = lock_invoice(invoice)
    _check_payment_date(invoice, payment_date)
    if invoice.payment_date != payment_date:
        invoice.payment_date = payment_date
        invoice._change_reason = _("Payment date entered")
        invoice.save()
    return invoice


# ---------------------------------------------------------------------------
# Payment dates imported from a spreadsheet

PAYMENT_IMPORT_MAX_BYTES = xlsx.MAX_BYTES
PAYMENT_IMPORT_MAX_ROWS = xlsx.MAX_ROWS
PAYMENT_IMPORT_MAX_UNCOMPRESSED = xlsx.MAX_UNCOMPRESSED

# A column is found by its header, in any order, in the current language or in English.
PAYMENT_COLUMNS = (
    xlsx.Column("number", gettext_lazy("Invoice number")),
    xlsx.Column("ridet", gettext_lazy("Supplier RIDET")),
    xlsx.Column("supplier_number", gettext_lazy("Supplier's invoice number")),
    xlsx.Column(
        "payment_date",
        gettext_lazy("Payment date"),
        kind=xlsx.DATE,
        label=gettext_lazy("The payment date"),
    ),
)


@dataclass(frozen=True)
class PaymentRowError:
    row: int  # the sheet's row number (the header is row 1)
    message: str


@dataclass
class PaymentImportResult:
    """What an import did: every row's error and nothing applied, or all applied."""

    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    errors: list[PaymentRowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def payment_import_headers() -> list[str]:
    return [str(column.title) for column in PAYMENT_COLUMNS]


def _header_ok(found: set[str]) -> bool:
    """The payment date, and our invoice number or the supplier's RIDET and number."""
    has_key = "number" in found or {"ridet", "supplier_number"} <= found
    return "payment_date" in found and has_key


def _header_error() -> xlsx.ImportFileError:
    return xlsx.ImportFileError(
        _(
            "The first row of the sheet must name the columns: %(columns)s "
            "(our invoice number, or the supplier's RIDET and invoice number, and the payment date)."
        )
        % {"columns": ", ".join(payment_import_headers())},
        code="header",
    )


def read_payment_sheet(file) -> list[xlsx.SheetRow]:
    """The data rows of the first sheet (blank rows skipped), read by the kernel's safe
    reader; ProcurementError when the file cannot be used."""
    try:
        content = xlsx.upload_content(file, max_bytes=PAYMENT_IMPORT_MAX_BYTES)
        rows = xlsx.read_sheet(
            content,
            PAYMENT_COLUMNS,
            in_order=False,
            header_ok=_header_ok,
            header_error=_header_error,
            max_bytes=PAYMENT_IMPORT_MAX_BYTES,
            max_rows=PAYMENT_IMPORT_MAX_ROWS,
            max_uncompressed=PAYMENT_IMPORT_MAX_UNCOMPRESSED,
        )
    except xlsx.ImportFileError as error:
        raise ProcurementError(error.messages[0], code=error.code) from None
    for row in rows:
        row.values["number"] = row["number"].upper()
    return rows


def _row_payment_date(row: xlsx.SheetRow) -> date:
    if "payment_date" in row.errors:
        raise ProcurementError(row.errors["payment_date"], code="payment_date")
    if row["payment_date"] is None:
        raise ProcurementError(_("The payment date is required."), code="payment_date")
    return row["payment_date"]


@transaction.atomic
def invoice_payments_import(*, user, file) -> PaymentImportResult:
    """Payment dates from an XLSX sheet, all or nothing.

    Each row names an invoice by our number (FA-…) or by the supplier's RIDET and
    invoice number, and gives its payment date. When every row is right, every
    date is recorded in one transaction (with its history); otherwise nothing
    is, and the result lists every row's error. A file that cannot be read at
    all raises ProcurementError.
    """
    require_any_capability(user, *PAYMENT_CAPABILITIES)
    rows = read_payment_sheet(file)
    result = PaymentImportResult(rows=len(rows))
    if not rows:
        raise ProcurementError(_("The sheet has no row to import."), code="empty")

    numbers = {row["number"] for row in rows if row["number"]}
    # The supplier's numbers are compared by their key: the Finance Direction's "F2026-1187"
    # finds the invoice entered as "f2026 1187".
    supplier_numbers = {
        supplier_number_key(row["supplier_number"]) for row in rows if not row["number"]
    }
    ridets = {row["ridet"] for row in rows if not row["number"]}
    # Locked in id order: a cancellation or a manual entry of the same invoices waits.
    found = list(
        Invoice.objects.select_for_update(of=("self",))
        .select_related("supplier")
        .filter(number__in=numbers)
        .order_by("pk")
    )
    if supplier_numbers:
        found += list(
            Invoice.objects.select_for_update(of=("self",))
            .select_related("supplier")
            .filter(supplier_number_key__in=supplier_numbers, supplier__ridet__in=ridets)
            .exclude(number__in=numbers)
            .order_by("pk")
        )
    by_number = {invoice.number: invoice for invoice in found}
    by_supplier: dict[tuple[str, str], list[Invoice]] = defaultdict(list)
    for invoice in found:
        by_supplier[(invoice.supplier.ridet, invoice.supplier_number_key)].append(invoice)

    seen: dict[int, int] = {}
    changes: list[Invoice] = []
    for row in rows:
        try:
            invoice = _payment_row_invoice(row, by_number, by_supplier)
            if invoice.pk in seen:
                raise ProcurementError(
                    _("The invoice %(number)s is already on row %(row)s.")
                    % {"number": invoice.number, "row": seen[invoice.pk]},
                    code="twice",
                )
            seen[invoice.pk] = row.number
            payment_date = _check_payment_date(invoice, _row_payment_date(row))
        except ProcurementError as error:
            result.errors.append(
                PaymentRowError(
                    row.number,
                    _("Row %(row)s: %(message)s")
                    % {"row": row.number, "message": " ".join(error.messages)},
                )
            )
            continue
        if invoice.payment_date == payment_date:
            result.unchanged += 1
            continue
        invoice.payment_date = payment_date
        changes.append(invoice)
    if result.errors:
        return result
    if changes:
        bulk_update_with_history(
            changes,
            Invoice,
            ["payment_date"],
            batch_size=1000,
            default_user=user,
            default_change_reason=_("Payment date imported"),
        )
    result.applied = len(changes)
    return result


def _payment_row_invoice(
    row: xlsx.SheetRow,
    by_number: dict[str, Invoice],
    by_supplier: dict[tuple[str, str], list[Invoice]],
) -> Invoice:
    if row["number"]:
        invoice = by_number.get(row["number"])
        if invoice is None:
            raise ProcurementError(
                _("No invoice is numbered %(number)s.") % {"number": row["number"]}, code="unknown"
            )
        if (row["ridet"] and row["ridet"] != invoice.supplier.ridet) or (
            row["supplier_number"]
            and supplier_number_key(row["supplier_number"]) != invoice.supplier_number_key
        ):
            raise ProcurementError(
                _(
                    "The invoice %(number)s is the invoice %(supplier_number)s of %(supplier)s, "
                    "not the one the row names."
                )
                % {
                    "number": invoice.number,
                    "supplier_number": invoice.supplier_number,
                    "supplier": invoice.supplier.name,
                },
                code="mismatch",
            )
        return invoice
    if not (row["ridet"] and row["supplier_number"]):
        raise ProcurementError(
            _("Give our invoice number, or the supplier's RIDET and invoice number."),
            code="no_key",
        )
    candidates = by_supplier.get((row["ridet"], supplier_number_key(row["supplier_number"])), [])
    live = [invoice for invoice in candidates if invoice.state != Invoice.State.CANCELLED]
    if live:
        return live[0]
    if candidates:
        return candidates[0]  # cancelled: the state check says so
    raise ProcurementError(
        _("No invoice %(supplier_number)s of the supplier with RIDET %(ridet)s.")
        % {"supplier_number": row["supplier_number"], "ridet": row["ridet"]},
        code="unknown",
    )
