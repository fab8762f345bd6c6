"""The director's dashboard (`/pilotage/tableau-de-bord/`), and the list of the ledger
entries behind its figures dated up to a day (the monthly liquidated points, last
year's figures at the same date), which no other page lists.

The home page of a role holding `view_dashboard` shows the same dashboard
(dsi_finance.views.HomeView calls `dashboard_context`).
"""

from datetime import date

import django_tables2 as tables
from django.contrib import messages
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from django_tables2 import SingleTableMixin
from django_tables2.paginators import LazyPaginator

from budgets.selectors import current_fiscal_year, documents_of
from dsi_finance.roles import perm
from dsi_finance.tables import LineLedgerTable
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin

from ..selectors.dashboard import (
    ENTRY_FIGURES,
    Dashboard,
    UnknownYear,
    dashboard,
    entries_total,
    figure_entries,
    fiscal_year_from,
)

CAPABILITY = "view_dashboard"

CARD_LABELS = {
    "opened": gettext_lazy("Opened credits"),
    "committed": gettext_lazy("Committed"),
    "liquidated": gettext_lazy("Liquidated"),
    "available": gettext_lazy("Available"),
    "execution_rate": gettext_lazy("Execution rate"),
}
CARD_ICONS = {
    "opened": "safe",
    "committed": "pen",
    "liquidated": "receipt",
    "available": "piggy-bank",
    "execution_rate": "speedometer2",
}


def requested_year(request):
    """The fiscal year of `?year=`; an unknown year gets a French message and the current one."""
    try:
        return fiscal_year_from(request.GET.get("year"))
    except UnknownYear as error:
        messages.error(
            request,
            _("The fiscal year “%(year)s” does not exist: the current year is shown.")
            % {"year": error.year},
        )
        return current_fiscal_year()


def chart_data(board: Dashboard) -> dict:
    """What static/reporting/dashboard.js draws: plain numbers, labels and the URLs of
    the lists behind each point or segment."""
    month_names = [date_format(date(2000, m, 1), "N") for m in range(1, 13)]

    def bars(rows):
        return {
            "labels": [bar.label for bar in rows],
            "liquidated": [bar.liquidated for bar in rows],
            "to_liquidate": [bar.to_liquidate for bar in rows],
            "available": [bar.available for bar in rows],
            "committed": [bar.committed for bar in rows],
            "opened": [bar.opened for bar in rows],
            "urls": [bar.url for bar in rows],
            "pace": [bar.pace for bar in rows],
        }

    year = board.fiscal_year.year if board.fiscal_year else None
    previous = board.previous_year.year if board.previous_year else None
    return {
        "months": {
            "labels": month_names,
            "liquidated": [p.liquidated for p in board.months],
            "linear": [p.linear for p in board.months],
            "last_year": [p.last_year for p in board.months],
            "urls": [p.url for p in board.months],
            "last_year_urls": [p.last_year_url for p in board.months],
            "pace": [p.pace for p in board.months],
        },
        "sections": bars(board.sections),
        "chapters": bars(board.chapters),
        "labels": {
            "liquidated": _("Liquidated %(year)s") % {"year": year},
            "linear": _("Linear path"),
            "last_year": _("Liquidated %(year)s") % {"year": previous} if previous else "",
            "bar_liquidated": _("Liquidated"),
            "bar_to_liquidate": _("Committed, to liquidate"),
            "bar_available": _("Available"),
            "committed": _("Committed"),
            "opened": _("Opened credits"),
            "pace": {
                "ahead": _("Spending ahead of the linear path"),
                "behind": _("Spending behind the linear path"),
                "on_track": _("Spending close to the linear path"),
            },
        },
    }


def dashboard_context(request) -> dict:
    """The dashboard of `?year=` for the request's user: what its template needs."""
    board = dashboard(actor=request.user, fiscal_year=requested_year(request))
    cards = [
        {"card": card, "label": CARD_LABELS[card.key], "icon": CARD_ICONS[card.key]}
        for card in board.cards
    ]
    return {"board": board, "cards": cards, "chart_data": chart_data(board)}


class DashboardView(CapabilityRequiredMixin, TemplateView):
    """The year's figures beside last year's, the charts, the lines at risk, the requests
    waiting for approval and the invoices late for payment; every figure is a link."""

    capability = CAPABILITY
    template_name = "reporting/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(dashboard_context(self.request))
        return context


class EntryTable(LineLedgerTable):
    """Ledger entries of several lines: the line first, no running balance."""

    budget_line = tables.Column(verbose_name=gettext_lazy("Budget line"), orderable=False)

    class Meta(LineLedgerTable.Meta):
        sequence = ("created_at", "budget_line", "...")
        exclude = ("available_after",)
        order_by = ("created_at",)

    def render_budget_line(self, value):
        url = reverse("budgets:line-detail", args=[value.pk])
        return format_html(
            '<a href="{}" hx-boost="false" class="text-nowrap">{}</a>', url, value.code
        )


class DashboardEntriesView(CapabilityRequiredMixin, HtmxTableMixin, SingleTableMixin, TemplateView):
    """The ledger entries that make a figure of a year's lines (`?figure=`), posted up to
    a day (`?until=`, Nouméa time) when given, with their total: what a point of the
    monthly chart or a "same date last year" figure sums."""

    capability = CAPABILITY
    template_name = "reporting/dashboard_entries.html"
    table_class = EntryTable
    paginator_class = LazyPaginator

    def get(self, request, *args, **kwargs):
        self.fiscal_year = requested_year(request)
        self.figure = request.GET.get("figure") or "liquidated"
        if self.figure not in ENTRY_FIGURES:
            messages.error(request, _("Unknown figure: the liquidated amounts are listed."))
            self.figure = "liquidated"
        raw_until = request.GET.get("until") or ""
        try:
            self.until = parse_date(raw_until) if raw_until else None
        except ValueError:
            self.until = None
        if raw_until and self.until is None:
            messages.error(
                request,
                _("The date “%(date)s” is not valid: every date is listed.")
                % {"date": raw_until[:20]},
            )
        return super().get(request, *args, **kwargs)

    def entries(self):
        if self.fiscal_year is None:
            return figure_entries(fiscal_year=0, figure=self.figure).none()
        return figure_entries(
            actor=self.request.user,
            fiscal_year=self.fiscal_year,
            figure=self.figure,
            until=self.until,
        )

    def get_table_data(self):
        return self.entries().select_related("budget_line", "user", "document_type")

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        entries = [row.record for row in table.paginated_rows]
        table.documents = documents_of(entries)
        table.may_open_budget_documents = self.request.user.has_perm(perm("view_all"))
        return table

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "fiscal_year": self.fiscal_year,
                "figure": self.figure,
                "figure_label": CARD_LABELS[self.figure],
                "until": self.until,
                "total": entries_total(self.entries(), self.figure),
                "dashboard_url": reverse("reporting:dashboard")
                + (f"?year={self.fiscal_year.year}" if self.fiscal_year else ""),
            }
        )
        return context


urlpatterns = [
    path("tableau-de-bord/", DashboardView.as_view(), name="dashboard"),
    path(
        "tableau-de-bord/mouvements/",
        DashboardEntriesView.as_view(),
        name="dashboard-entries",
    ),
]
