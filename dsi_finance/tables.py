"""The project's base table, and the tables of the shell's own pages."""

import django_tables2 as tables
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.timezone import localtime
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


def state_badge(state: str, label, colours: dict) -> str:
    """A document's state as a coloured badge (`colours`: state -> Bootstrap class;
    an unknown state is light), with `data-state` for the tests and the styles."""
    return format_html(
        '<span class="badge {}" data-state="{}">{}</span>',
        colours.get(state, "text-bg-light"),
        state,
        label,
    )


def person(user) -> str:
    """A user's full name (else their username) in a cell; nobody -> `—`."""
    return (user.get_full_name() or user.get_username()) if user else "—"


def document_link(document) -> str:
    """The document's page when it has one, else its name."""
    try:
        url = document.get_absolute_url()
    except (AttributeError, NoReverseMatch):
        return str(document)
    return format_html('<a href="{}" hx-boost="false" class="text-nowrap">{}</a>', url, document)


class BaseTable(tables.Table):
    """Every list page's table: Bootstrap 5, sortable headers and pagination that
    htmx swaps in place (templates/tables/table.html)."""

    class Meta:
        template_name = "tables/table.html"
        attrs = {"class": "table table-sm table-hover align-middle"}
        per_page = 50


def signed_francs(value: int) -> str:
    """`+1 000` / `-1 000`: a movement, not a balance (the header names the currency)."""
    return ("+" if value > 0 else "") + francs(value)


class LineLedgerTable(BaseTable):
    """Ledger entries (budgets.LedgerEntry, the one record every app's movements of
    credits go through): a line's ledger, or the dashboard's recent entries.
    `documents` maps (type id, id) to the documents of the page's entries, fetched
    once per type (budgets.selectors.documents_of)."""

    created_at = tables.Column(verbose_name=_("Date"), order_by=("pk",))
    kind = tables.Column(verbose_name=_("Movement"), orderable=False)
    amount = tables.Column(
        verbose_name=with_currency(_("Amount")), attrs=AMOUNT_ATTRS, orderable=False
    )
    available_after = tables.Column(
        verbose_name=with_currency(_("Available after")), attrs=AMOUNT_ATTRS, orderable=False
    )
    user = tables.Column(verbose_name=_("By"), orderable=False)
    document = tables.Column(verbose_name=_("Document"), accessor="document_id", orderable=False)
    reason = tables.Column(verbose_name=_("Reason"), orderable=False, default="")

    class Meta(BaseTable.Meta):
        order_by = ("-created_at",)
        empty_text = _("No ledger entry.")
        row_attrs = {"data-kind": lambda record: record.kind}

    def __init__(self, *args, **kwargs):
        self.documents: dict = {}
        # Budget documents (revisions, transfers) open for the roles that read everything:
        # the others see their name, not a link that would answer 403.
        self.may_open_budget_documents = True
        super().__init__(*args, **kwargs)

    def render_created_at(self, value):
        return date_format(localtime(value), "d/m/Y H:i")

    def render_kind(self, record):
        return record.get_kind_display()

    def render_amount(self, value):
        return signed_francs(value)

    def render_available_after(self, value):
        return amount_html(value)

    def render_user(self, value):
        return person(value)

    def render_document(self, record):
        document = self.documents.get((record.document_type_id, record.document_id))
        if document is None:
            return f"{record.document_type.name} {record.document_id}"
        if document._meta.app_label == "budgets" and not self.may_open_budget_documents:
            return str(document)
        return document_link(document)


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
