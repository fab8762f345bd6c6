"""Procurement forms, one module per document family (suppliers, requests, commitments, orders, receipts, invoices)."""

from django.utils.translation import gettext_lazy as _

# Quantities keep their decimals (days of service, kilos), with a comma or a dot, unlike
# amounts in francs, where a dot separates thousands (dsi_finance.money.parse_francs).
QUANTITY_HELP = _("Decimals accepted: 1,5 or 1.5")
