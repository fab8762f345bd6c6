"""Table of the commitment list."""

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from dsi_finance.tables import (
    AMOUNT_ATTRS,
    BaseTable,
    amount_html,
    francs,
    state_badge,
    with_currency,
)

from ..models import Commitment

COMMITMENT_STATE_COLOURS = {
    Commitment.State.OPEN: "text-bg-primary",
    Commitment.State.CLOSED: "text-bg-success",
    Commitment.State.CANCELLED: "text-bg-secondary",
}


def number_link(record) -> str:
    return format_html(
        '<a href="{}" hx-boost="false" class="fw-semibold text-nowrap">{}</a>',
        record.get_absolute_url(),
        record.number,
    )


def local_date(value) -> str:
    return date_format(localtime(value), "d/m/Y")


class CommitmentTable(BaseTable):
    number = tables.Column(verbose_name=_("Number"), order_by=("number",))
    created_at = tables.Column(verbose_name=_("Opened on"))
    kind = tables.Column(verbose_name=_("Kind"))
    supplier = tables.Column(verbose_name=_("Supplier"), order_by=("supplier__name",))
    subject = tables.Column(verbose_name=_("Subject"))
    amount = tables.Column(verbose_name=with_currency(_("Committed")), attrs=AMOUNT_ATTRS)
    liquidated = tables.Column(verbose_name=with_currency(_("Liquidated")), attrs=AMOUNT_ATTRS)
    remaining = tables.Column(verbose_name=with_currency(_("Remainder")), attrs=AMOUNT_ATTRS)
    state = tables.Column(verbose_name=_("State"))

    class Meta(BaseTable.Meta):
        order_by = ("-created_at",)
        empty_text = _("No commitment matches these filters.")
        row_attrs = {"data-number": lambda record: record.number}

    def render_number(self, record):
        return number_link(record)

    def render_created_at(self, value):
        return local_date(value)

    def render_kind(self, record):
        return record.get_kind_display()

    def render_amount(self, value):
        return francs(value)

    def render_liquidated(self, value):
        return francs(value)

    def render_remaining(self, value):
        return amount_html(value)

    def render_state(self, record):
        return state_badge(record.state, record.get_state_display(), COMMITMENT_STATE_COLOURS)
