"""Tables of the budgets list pages (django-tables2, on the project BaseTable)."""

import django_tables2 as tables
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dsi_finance.tables import (
    AMOUNT_ATTRS,
    BaseTable,
    amount_html,
    francs,
    person,
    state_badge,
    with_currency,
)

from .models import Transfer
from .selectors import Figures

# --- DISCO, line ledger and transfers (helper "disco") ----------------------


def percent(value) -> str:
    return "—" if value is None else f"{number_format(value, 1)}\u00a0%"


def _lines_count_footer(table) -> str:
    count = table.paginator.count if hasattr(table, "paginator") else len(table.rows)
    return ngettext("%(count)s line", "%(count)s lines", count) % {"count": count}


class FigureColumn(tables.Column):
    """One of a line's figures: right aligned, sortable; its footer is the filtered set's
    total. The cells (a link to the entries behind the figure, red when negative) are
    written by the DISCO table's template."""

    def __init__(self, figure: str, **kwargs):
        self.figure = figure
        kwargs.setdefault("attrs", AMOUNT_ATTRS)
        super().__init__(**kwargs)

    def render_footer(self, table):
        return amount_html(getattr(table.totals, self.figure))


class DiscoTable(BaseTable):
    """Every line and its figures (selectors.line_availability); `totals`, the
    selectors.Figures of the whole filtered set, fills the footer.

    The columns give the headers, the sorting and the footer; the rows are written by
    templates/budgets/partials/disco_table.html, which is several times faster than
    rendering 700 cells through the columns (the page must stay fast at 10 000 lines).
    """

    year = tables.Column(verbose_name=_("Fiscal year"), accessor="fiscal_year__year")
    code = tables.Column(
        verbose_name=_("Code"),
        order_by=("code", "fiscal_year__year"),
        footer=lambda table: format_html("<strong>{}</strong>", _("Total")),
    )
    label = tables.Column(verbose_name=_("Label"), footer=_lines_count_footer)
    section = tables.Column(verbose_name=_("Section"))
    chapter = tables.Column(verbose_name=_("Chapter"), accessor="nature_account__chapter__code")
    account = tables.Column(verbose_name=_("Account"), accessor="nature_account__number")
    cost_centre = tables.Column(verbose_name=_("Cost centre"), accessor="cost_centre__code")
    project = tables.Column(verbose_name=_("Project"), accessor="project__code")
    opened = FigureColumn("opened", verbose_name=with_currency(_("Opened credits")))
    committed = FigureColumn("committed", verbose_name=with_currency(_("Committed")))
    liquidated = FigureColumn("liquidated", verbose_name=with_currency(_("Liquidated")))
    to_liquidate = FigureColumn(
        "to_liquidate",
        verbose_name=with_currency(_("To liquidate")),
        accessor="to_liquidate_amount",
    )
    available = FigureColumn(
        "available", verbose_name=with_currency(_("Available")), accessor="available_amount"
    )
    execution_rate = tables.Column(
        verbose_name=_("Execution rate"),
        attrs=AMOUNT_ATTRS,
        footer=lambda table: percent(table.totals.execution_rate),
    )

    class Meta(BaseTable.Meta):
        template_name = "budgets/partials/disco_table.html"
        order_by = ("code",)
        empty_text = _("No budget line matches these filters.")
        attrs = {"class": "table table-sm table-hover align-middle small"}

    def __init__(self, *args, totals: Figures | None = None, **kwargs):
        self.totals = totals or Figures()
        self.show_year = "year" not in (kwargs.get("exclude") or ())
        super().__init__(*args, **kwargs)


def line_code(line) -> str:
    """A budget line's code on one line (F-611-WEB-PORTAIL), its label on hover."""
    return format_html('<span class="text-nowrap" title="{}">{}</span>', line.label, line.code)


class TransferTable(BaseTable):
    number = tables.Column(verbose_name=_("Transfer"), accessor="pk", order_by=("pk",))
    requested_at = tables.Column(verbose_name=_("Requested at"))
    source = tables.Column(verbose_name=_("From"), order_by=("source__code",))
    target = tables.Column(verbose_name=_("To"), order_by=("target__code",))
    amount = tables.Column(verbose_name=with_currency(_("Amount")), attrs=AMOUNT_ATTRS)
    state = tables.Column(verbose_name=_("State"))
    requested_by = tables.Column(verbose_name=_("Requested by"), orderable=False)
    decided_by = tables.Column(verbose_name=_("Decided by"), orderable=False, default="—")

    class Meta(BaseTable.Meta):
        order_by = ("-requested_at",)
        empty_text = _("No transfer matches these filters.")

    def render_number(self, record):
        return format_html(
            '<a href="{}" hx-boost="false" class="fw-semibold text-nowrap">{}</a>',
            record.get_absolute_url(),
            record,
        )

    def render_requested_at(self, value):
        return date_format(localtime(value), "d/m/Y H:i")

    def render_source(self, value):
        return line_code(value)

    def render_target(self, value):
        return line_code(value)

    def render_amount(self, value):
        return francs(value)

    def render_state(self, record):
        return transfer_state_badge(record)

    def render_requested_by(self, value):
        return person(value)

    def render_decided_by(self, value):
        return person(value)


TRANSFER_STATE_COLOURS = {
    Transfer.State.REQUESTED: "text-bg-warning",
    Transfer.State.APPROVED: "text-bg-success",
    Transfer.State.REJECTED: "text-bg-danger",
    Transfer.State.CANCELLED: "text-bg-secondary",
}


def transfer_state_badge(transfer) -> str:
    return state_badge(transfer.state, transfer.get_state_display(), TRANSFER_STATE_COLOURS)
