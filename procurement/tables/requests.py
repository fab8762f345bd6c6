"""Table of the purchase request list (django-tables2, on the project BaseTable)."""

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from dsi_finance.tables import AMOUNT_ATTRS, BaseTable, francs, person, state_badge, with_currency

from ..models import PurchaseRequest

State = PurchaseRequest.State

STATE_COLOURS = {
    State.DRAFT: "text-bg-light border",
    State.SUBMITTED: "text-bg-warning",
    State.APPROVED: "text-bg-success",
    State.REJECTED: "text-bg-danger",
    State.ORDERED: "text-bg-primary",
    State.PARTLY_RECEIVED: "text-bg-info",
    State.RECEIVED: "text-bg-info",
    State.INVOICED: "text-bg-dark",
    State.CLOSED: "text-bg-secondary",
    State.CANCELLED: "text-bg-secondary",
}


def request_state_badge(request) -> str:
    return state_badge(request.state, request.get_state_display(), STATE_COLOURS)


class PurchaseRequestTable(BaseTable):
    number = tables.Column(verbose_name=_("Request"), order_by=("number",))
    created_at = tables.Column(verbose_name=_("Entered on"))
    supplier = tables.Column(verbose_name=_("Supplier"), order_by=("supplier__name",))
    subject = tables.Column(verbose_name=_("Subject"))
    amount_ht = tables.Column(
        verbose_name=with_currency(_("Amount before tax")), attrs=AMOUNT_ATTRS
    )
    amount_ttc = tables.Column(verbose_name=with_currency(_("Amount with tax")), attrs=AMOUNT_ATTRS)
    state = tables.Column(verbose_name=_("State"))
    approver = tables.Column(
        verbose_name=_("Approver"), accessor="for_director", order_by=("amount_ht",)
    )
    requested_by = tables.Column(verbose_name=_("Requested by"), orderable=False)

    class Meta(BaseTable.Meta):
        order_by = ("-created_at",)
        empty_text = _("No purchase request matches these filters.")
        row_attrs = {"data-state": lambda record: record.state}

    def render_number(self, record):
        return format_html(
            '<a href="{}" hx-boost="false" class="fw-semibold text-nowrap"'
            ' data-testid="request-link">{}</a>',
            record.get_absolute_url(),
            record.number,
        )

    def render_created_at(self, value):
        return date_format(localtime(value), "d/m/Y")

    def render_supplier(self, value):
        return value.name

    def render_subject(self, value):
        return value  # a long subject wraps (the list must fit 1 366 px)

    def render_amount_ht(self, value):
        return francs(value)

    def render_amount_ttc(self, value):
        return francs(value)

    def render_state(self, record):
        return request_state_badge(record)

    def render_approver(self, value):
        """Who approves it: the IT director above the threshold or when transmitted to
        him, else the section head."""
        if value:
            return format_html(
                '<span class="badge text-bg-light border" data-testid="over-threshold">{}</span>',
                _("IT director"),
            )
        return _("Section head")

    def render_requested_by(self, value):
        return person(value)
