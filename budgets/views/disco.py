"""The DISCO page (every line and its available amount), its XLSX export, and the line page with its ledger."""

from itertools import islice

from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from dsi_finance.exports import XlsxExportMixin, export_filename, full_name
from dsi_finance.roles import perm
from dsi_finance.tables import LineLedgerTable
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin, render_line_availability

from .. import selectors
from ..exports import LINE_LEDGER_EXPORT, XLSX_CONTENT_TYPE, disco_workbook
from ..filters import DiscoFilter
from ..models import FiscalYear, LedgerEntry
from ..tables import DiscoTable

EXPORT_CHUNK = 2000

# The filters carried from the page to its export (not the sorting nor the page number).
FILTER_PARAMETERS = ("year", "section", "chapter", "cost_centre", "project", "q", "low")

FIGURE_LABELS = {
    "opened": gettext_lazy("Opened credits"),
    "committed": gettext_lazy("Committed"),
    "liquidated": gettext_lazy("Liquidated"),
    "to_liquidate": gettext_lazy("To liquidate"),
    "available": gettext_lazy("Available"),
}


class DiscoView(CapabilityRequiredMixin, HtmxTableMixin, SingleTableMixin, FilterView):
    """Every budget line with its figures, filtered, sorted and paginated, with the totals of
    the whole filtered set: one count, one sum and one page query, however many lines."""

    capability = "view_budget"
    template_name = "budgets/disco.html"
    table_class = DiscoTable
    filterset_class = DiscoFilter

    def get_queryset(self):
        return selectors.line_availability(actor=self.request.user)

    def get_table_kwargs(self):
        kwargs = {"totals": selectors.availability_totals(self.object_list)}
        if self.filterset.is_valid() and self.filterset.form.cleaned_data.get("year"):
            kwargs["exclude"] = ("year",)  # one year: the column would repeat it
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.filterset.data
        query = urlencode(
            [(name, data.get(name)) for name in FILTER_PARAMETERS if data.get(name) is not None]
        )
        context["export_url"] = f"{reverse('budgets:disco-export')}?{query}"
        return context


class DiscoExportView(CapabilityRequiredMixin, View):
    """The DISCO page's filtered lines, all of them, as an XLSX file built row by row."""

    capability = "view_budget"

    def get(self, request):
        filterset = DiscoFilter(
            request.GET, queryset=selectors.line_availability(actor=request.user), request=request
        )
        if not filterset.is_valid():
            # Back to the page, which lists what is wrong with the filters.
            messages.error(request, _("Some filters are not valid: nothing was exported."))
            return redirect(f"{reverse('budgets:disco')}?{request.GET.urlencode()}")
        lines = filterset.qs.order_by("fiscal_year__year", "code")
        year = filterset.form.cleaned_data.get("year")
        filename = f"disponible-{year.year}.xlsx" if year else "disponible.xlsx"
        workbook = disco_workbook(lines, selectors.availability_totals(lines))
        return FileResponse(
            workbook,
            as_attachment=True,
            filename=filename,
            content_type=XLSX_CONTENT_TYPE,
        )


class LineDetailView(
    CapabilityRequiredMixin, XlsxExportMixin, HtmxTableMixin, SingleTableMixin, DetailView
):
    """A line, its figures, and the ledger entries behind the figure chosen (`?figure=`)."""

    capability = "view_budget"
    template_name = "budgets/line_detail.html"
    table_class = LineLedgerTable
    context_object_name = "line"
    export_columns = LINE_LEDGER_EXPORT
    export_title = gettext_lazy("Ledger")

    def get_queryset(self):
        return selectors.line_availability(actor=self.request.user)

    def get(self, request, *args, **kwargs):
        self.figure = request.GET.get("figure") or None
        if self.figure is not None and self.figure not in selectors.FIGURE_KINDS:
            messages.warning(request, _("Unknown figure: every entry of the line is listed."))
            self.figure = None
        return super().get(request, *args, **kwargs)

    def is_table_request(self) -> bool:
        htmx = getattr(self.request, "htmx", None)
        return bool(htmx and htmx.target == self.table_region)

    def get_table_data(self):
        kinds = selectors.FIGURE_KINDS[self.figure] if self.figure else None
        return selectors.line_ledger(actor=self.request.user, line=self.object, kinds=kinds)

    def get_export_filename(self):
        return export_filename(f"budget-ligne-{slugify(self.object.code)}-ecritures")

    def get_export_rows(self):
        """The entries the page lists (its figure, its order), all of them, each with
        its document named: the documents are fetched once per type and chunk."""
        entries = self.get_export_queryset().iterator(chunk_size=EXPORT_CHUNK)
        kinds = dict(LedgerEntry.Kind.choices)
        while chunk := list(islice(entries, EXPORT_CHUNK)):
            documents = selectors.documents_of(chunk)
            for entry in chunk:
                document = documents.get((entry.document_type_id, entry.document_id))
                user = entry.user
                yield [
                    entry.created_at,
                    str(kinds.get(entry.kind, entry.kind)),
                    entry.amount,
                    entry.available_after,
                    full_name(user.first_name, user.last_name, user.username) if user else "",
                    str(document)
                    if document is not None
                    else f"{entry.document_type.name} {entry.document_id}",
                    entry.reason,
                ]

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        # Evaluate the page once and fetch its documents once per type (no query per row);
        # rendering then reads the same, already evaluated, page.
        entries = [row.record for row in table.paginated_rows]
        table.documents = selectors.documents_of(entries)
        table.may_open_budget_documents = self.request.user.has_perm(perm("view_all"))
        return table

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        line = self.object
        context["figure"] = self.figure
        context["figure_label"] = FIGURE_LABELS.get(self.figure, "")
        if not self.is_table_request():
            context["revision_items"] = selectors.line_revision_items(
                actor=self.request.user, line=line
            )
            context["transfers"] = (
                selectors.transfers(actor=self.request.user)
                .filter(Q(source=line) | Q(target=line))
                .order_by("-requested_at", "-pk")
            )
            user = self.request.user
            context["may_see_transfers"] = user.has_perm(perm("view_all"))
            context["may_request_transfer"] = user.has_perm(
                perm("request_transfer")
            ) and line.fiscal_year.state in (FiscalYear.State.OPEN, FiscalYear.State.PREPARATION)
        return context


class LineAvailabilityView(CapabilityRequiredMixin, View):
    """htmx fragment: a line's opened, committed and available credits (forms reuse it)."""

    capability = "view_budget"

    def get(self, request, pk):
        line = get_object_or_404(selectors.line_availability(actor=request.user), pk=pk)
        return render_line_availability(request, line)


urlpatterns = [
    path("disponible/", DiscoView.as_view(), name="disco"),
    path("disponible/export/", DiscoExportView.as_view(), name="disco-export"),
    path("lignes/<int:pk>/", LineDetailView.as_view(), name="line-detail"),
    path("lignes/<int:pk>/disponible/", LineAvailabilityView.as_view(), name="line-availability"),
]
