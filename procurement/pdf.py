"""The purchase order form as a PDF (WeasyPrint), in French, A4.

The layout is templates/procurement/pdf/order.html, self-contained: its style is
inline and its fonts are the system's (DejaVu Sans from Debian, found by
fontconfig), so that rendering never fetches anything (the fetcher only accepts
data: URLs). The figures are those of procurement.selectors.orders.order_file, the
same as the order page's.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import PurchaseOrder
from .selectors.orders import order_file


def order_pdf_filename(order: PurchaseOrder) -> str:
    return f"{order.number}.pdf"


def render_order_pdf(order: PurchaseOrder) -> bytes:
    """The order form of `order`, as PDF bytes."""
    # Imported here: WeasyPrint is heavy to load, and only this page needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    file = order_file(order=order)
    commitment = order.commitment
    context = {
        "order": order,
        "file": file,
        "commitment": commitment,
        "request": commitment.purchase_request,
        "supplier": order.supplier,
        "issued_on": timezone.localdate(order.issued_at),
        "operator": {
            "name": settings.OPERATOR_NAME,
            "department": settings.OPERATOR_DEPARTMENT,
            "address": settings.OPERATOR_ADDRESS,
            "ridet": settings.OPERATOR_RIDET,
        },
    }
    with translation.override("fr"):
        html = render_to_string("procurement/pdf/order.html", context)
    document = HTML(
        string=html,
        base_url=str(settings.BASE_DIR),
        url_fetcher=URLFetcher(allowed_protocols=("data",)),
    )
    return document.write_pdf()
