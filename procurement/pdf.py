"""The purchase order form as a PDF (WeasyPrint), in French, A4.

The layout is templates/procurement/pdf/order.html, self-contained: its style is
inline and its fonts are the system's (DejaVu Sans from Debian, found by
fontconfig), so that rendering never fetches anything (the fetcher only accepts
data: URLs). The figures are those of procurement.selectors.orders.order_file, the
same as the order page's.

The operator's identity comes from the `OPERATOR_*` settings (environment variables).
While OPERATOR_ADDRESS is still the shipped placeholder ("BP 000"), a production
instance (DEBUG off) refuses to build a form a supplier would receive with a false
address (OrderPdfUnavailable, answered 409 with a French message naming the setting);
a development instance builds it with a visible « adresse à compléter » mark.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import PurchaseOrder
from .selectors.orders import order_file


def order_pdf_filename(order: PurchaseOrder) -> str:
    return f"{order.number}.pdf"


class OrderPdfUnavailable(Exception):
    """The order form cannot be built yet; the message (French) says which setting to fill."""


def operator_address_is_placeholder() -> bool:
    address = (settings.OPERATOR_ADDRESS or "").strip()
    return not address or address == settings.OPERATOR_ADDRESS_PLACEHOLDER


def order_pdf_check() -> None:
    """OrderPdfUnavailable when a production instance still has the placeholder address."""
    if operator_address_is_placeholder() and not settings.DEBUG:
        raise OrderPdfUnavailable(
            _(
                "The order form cannot be built: the operator's address is still the "
                "placeholder “%(placeholder)s”. Set the OPERATOR_ADDRESS environment variable "
                "to the operator's postal address and restart the application."
            )
            % {"placeholder": settings.OPERATOR_ADDRESS_PLACEHOLDER}
        )


def pdf_unavailable_message() -> str:
    """Why no order form can be built now (French), or "" when it can."""
    try:
        order_pdf_check()
    except OrderPdfUnavailable as error:
        return str(error)
    return ""


def operator_identity() -> dict:
    """The operator's header and signatory, from the OPERATOR_* settings."""
    return {
        "name": settings.OPERATOR_NAME,
        "department": settings.OPERATOR_DEPARTMENT,
        # An environment variable holds one line: "\n" written in it breaks the line.
        "address": settings.OPERATOR_ADDRESS.replace("\\n", "\n"),
        "address_missing": operator_address_is_placeholder(),
        "ridet": settings.OPERATOR_RIDET,
        "signatory_name": settings.OPERATOR_SIGNATORY_NAME,
        "signatory_title": settings.OPERATOR_SIGNATORY_TITLE,
    }


def budget_imputation(file) -> list[dict]:
    """The order's amounts before tax per budget line, in the order of the lines: the
    imputation the Finance Direction checks the supplier's invoice against."""
    rows: dict[int, dict] = {}
    for line in file.lines:
        budget_line = line.line.budget_line
        row = rows.setdefault(
            budget_line.pk, {"line": budget_line, "positions": [], "amount_ht": 0}
        )
        row["positions"].append(line.position)
        row["amount_ht"] += line.amount_ht
    return list(rows.values())


def render_order_pdf(order: PurchaseOrder) -> bytes:
    """The order form of `order`, as PDF bytes; OrderPdfUnavailable when it may not be
    built (order_pdf_check)."""
    order_pdf_check()
    # Imported here: WeasyPrint is heavy to load, and only this page needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    file = order_file(order=order)
    commitment = order.commitment
    context = {
        "order": order,
        "file": file,
        "imputation": budget_imputation(file),
        "commitment": commitment,
        "request": commitment.purchase_request,
        "supplier": order.supplier,
        "payment_terms_days": order.supplier.payment_terms_days,
        "issued_on": timezone.localdate(order.issued_at),
        "operator": operator_identity(),
    }
    with translation.override("fr"):
        html = render_to_string("procurement/pdf/order.html", context)
    document = HTML(
        string=html,
        base_url=str(settings.BASE_DIR),
        url_fetcher=URLFetcher(allowed_protocols=("data",)),
    )
    return document.write_pdf()
