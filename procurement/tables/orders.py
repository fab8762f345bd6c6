"""Table of the purchase order list."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from dsi_finance.tables import AMOUNT_ATTRS, BaseTable, francs, state_badge, with_currency

from ..models import PurchaseOrder
from .commitments import local_date, number_link

ORDER_STATE_COLOURS = {
    PurchaseOrder.State.ISSUED: "text-bg-warning",
    PurchaseOrder.State.SENT: "text-bg-success",
    PurchaseOrder.State.CANCELLED: "text-bg-secondary",
}


def order_state_badge(order) -> str:
    return state_badge(order.state, order.get_state_display(), ORDER_STATE_COLOURS)


class PurchaseOrderTable(BaseTable):
    number = tables.Column(verbose_name=_("Number"), order_by=("number",))
    issued_at = tables.Column(verbose_name=_("Issued on"))
    supplier = tables.Column(verbose_name=_("Supplier"), order_by=("supplier__name",))
    subject = tables.Column(
        verbose_name=_("Subject"), accessor="commitment__subject", orderable=False
    )
    commitment = tables.Column(verbose_name=_("Commitment"), order_by=("commitment__number",))
    amount_ht = tables.Column(
        verbose_name=with_currency(_("Amount before tax")), attrs=AMOUNT_ATTRS
    )
    amount_ttc = tables.Column(verbose_name=with_currency(_("Amount with tax")), attrs=AMOUNT_ATTRS)
    state = tables.Column(verbose_name=_("State"))

    class Meta(BaseTable.Meta):
        order_by = ("-issued_at",)
        empty_text = _("No order matches these filters.")
        row_attrs = {"data-number": lambda record: record.number}

    def render_number(self, record):
        return number_link(record)

    def render_issued_at(self, value):
        return local_date(value)

    def render_commitment(self, value):
        return number_link(value)

    def render_amount_ht(self, value):
        return francs(value)

    def render_amount_ttc(self, value):
        return francs(value)

    def render_state(self, record):
        return order_state_badge(record)
