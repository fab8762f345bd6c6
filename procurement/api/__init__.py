"""The procurement API: each module lists its (prefix, viewset, basename) ROUTES,
which dsi_finance/api_urls.py registers under /api/v1/."""

from . import commitments, invoices, orders, receipts, requests, suppliers

ROUTES = [
    *suppliers.ROUTES,
    *requests.ROUTES,
    *commitments.ROUTES,
    *orders.ROUTES,
    *receipts.ROUTES,
    *invoices.ROUTES,
]
