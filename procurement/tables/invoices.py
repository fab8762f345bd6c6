"""Table of the invoice list.

No column sorts: each tab has its order, read from an index of the Invoice model
(newest received first; oldest due first in the "to liquidate" and "late" tabs).
Sorting a million invoices by amount or by supplier on every page view would not
stay fast. The rows are written by templates/procurement/partials/invoice_table.html.
"""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dsi_finance.tables import AMOUNT_ATTRS, BaseTable, with_currency


def days_late_text(days_late) -> str:
    """`12 days` for a timedelta past the due date; empty when not late."""
    if days_late is None or days_late.days <= 0:
        return ""
    return ngettext("%(days)s day", "%(days)s days", days_late.days) % {"days": days_late.days}


def _column(label, **kwargs) -> tables.Column:
    return tables.Column(verbose_name=label, orderable=False, **kwargs)


class InvoiceTable(BaseTable):
    number = _column(_("Number"))
    received_on = _column(_("Received on"))
    supplier = _column(_("Supplier"))
    supplier_number = _column(_("Supplier's number"))
    commitment = _column(_("Commitment"))
    amount_ht = _column(with_currency(_("Amount before tax")), attrs=AMOUNT_ATTRS)
    amount_ttc = _column(with_currency(_("Amount with tax")), attrs=AMOUNT_ATTRS)
    due_on = _column(_("Due on"))
    days_late = _column(_("Late"), attrs=AMOUNT_ATTRS)
    state = _column(_("State"))

    class Meta(BaseTable.Meta):
        template_name = "procurement/partials/invoice_table.html"
        empty_text = _("No invoice matches these filters.")
