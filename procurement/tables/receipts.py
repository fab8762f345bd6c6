"""Table of the receipt list."""

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from dsi_finance.tables import BaseTable, person, state_badge

from .commitments import number_link

RECEIPT_STATE_COLOURS = {"live": "text-bg-success", "cancelled": "text-bg-secondary"}


def receipt_state_badge(receipt) -> str:
    if receipt.is_cancelled:
        return state_badge("cancelled", _("Cancelled"), RECEIPT_STATE_COLOURS)
    return state_badge("live", _("Recorded"), RECEIPT_STATE_COLOURS)


class ReceiptTable(BaseTable):
    number = tables.Column(verbose_name=_("Number"), order_by=("number",))
    received_on = tables.Column(verbose_name=_("Received on"))
    supplier = tables.Column(
        verbose_name=_("Supplier"),
        accessor="commitment__supplier",
        order_by=("commitment__supplier__name",),
    )
    subject = tables.Column(
        verbose_name=_("Subject"), accessor="commitment__subject", orderable=False
    )
    order = tables.Column(
        verbose_name=_("Order"),
        accessor="commitment__order",
        order_by=("commitment__order__number",),
        default="—",
    )
    commitment = tables.Column(verbose_name=_("Commitment"), order_by=("commitment__number",))
    recorded_by = tables.Column(verbose_name=_("Recorded by"), orderable=False)
    state = tables.Column(
        verbose_name=_("State"), accessor="cancelled_at", orderable=False, empty_values=()
    )

    class Meta(BaseTable.Meta):
        order_by = ("-received_on",)
        empty_text = _("No receipt matches these filters.")
        row_attrs = {"data-number": lambda record: record.number}

    def render_number(self, record):
        return number_link(record)

    def render_received_on(self, value):
        return date_format(value, "d/m/Y")

    def render_order(self, value):
        return number_link(value)

    def render_commitment(self, value):
        return number_link(value)

    def render_recorded_by(self, value):
        return person(value)

    def render_state(self, record):
        return receipt_state_badge(record)
