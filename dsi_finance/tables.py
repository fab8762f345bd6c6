"""The project's base table, and the tables of the shell's own pages."""

import django_tables2 as tables
from django.contrib.auth import get_user_model
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .exports import DATETIME, ExportColumn
from .money import format_francs
from .roles import Role

# --- Amount columns --------------------------------------------------------------
# A list writes its currency once, in the column header ("Montant HT (F CFP)"), and
# its cells show the grouped figure only: "1 234 567". The `.amount` class (app.css)
# right-aligns them with tabular figures and keeps each figure on one line.

AMOUNT_ATTRS = {"th": {"class": "amount"}, "td": {"class": "amount"}, "tf": {"class": "amount"}}
CURRENCY = "F\u00a0CFP"


def with_currency(label):
    """`Montant HT` -> `Montant HT (F CFP)`, for the header of a column of francs."""
    return format_lazy("{} ({})", label, CURRENCY)


def francs(value) -> str:
    """`1234567` -> `1 234 567` (no currency: the header names it); empty -> `—`."""
    return format_francs(value)


def amount_html(value) -> str:
    """An amount of a list cell, in red when negative."""
    css = "text-danger fw-semibold" if value is not None and value < 0 else ""
    return format_html('<span class="{}">{}</span>', css, francs(value))


class BaseTable(tables.Table):
    """Every list page's table: Bootstrap 5, sortable headers and pagination that
    htmx swaps in place (templates/tables/table.html)."""

    class Meta:
        template_name = "tables/table.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        per_page = 50


class UserDirectoryTable(BaseTable):
    full_name = tables.Column(
        verbose_name=_("Name"), accessor="last_name", order_by=("last_name", "first_name")
    )
    username = tables.Column(verbose_name=_("Username"))
    email = tables.EmailColumn(verbose_name=_("E-mail"))
    roles = tables.Column(verbose_name=_("Roles"), accessor="pk", orderable=False)
    last_login = tables.DateTimeColumn(verbose_name=_("Last login"), format="SHORT_DATETIME_FORMAT")
    is_active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta(BaseTable.Meta):
        model = get_user_model()
        fields = ("full_name", "username", "email", "roles", "last_login", "is_active")
        order_by = ("full_name",)
        empty_text = _("Nobody matches these filters.")

    def render_full_name(self, record) -> str:
        return record.get_full_name() or record.get_username()

    def render_roles(self, record) -> str:
        # record.groups is prefetched by the selector: no query per row.
        labels = {role.value: role.label for role in Role}
        names = [group.name for group in record.groups.all() if group.name in labels]
        if not names:
            return format_html('<span class="badge text-bg-warning">{}</span>', _("No role"))
        return format_html_join(
            " ",
            '<span class="badge text-bg-secondary">{}</span>',
            ((labels[name],) for name in names),
        )


# The directory's XLSX export (dsi_finance.exports): the rows come from
# UserDirectoryView.get_export_rows, which reads the prefetched groups.
USER_DIRECTORY_EXPORT = [
    ExportColumn(_("Name"), width=28),
    ExportColumn(_("Username"), width=18),
    ExportColumn(_("E-mail"), width=30),
    ExportColumn(_("Roles"), width=40),
    ExportColumn(_("Last login"), kind=DATETIME),
    ExportColumn(_("Active"), width=8),
]
