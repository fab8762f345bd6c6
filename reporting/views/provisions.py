"""The provisions of the closing (received, not invoiced) and their arguments:
the roles that read everything see the list; pilotage (run_closing) writes the
argument of each row, in place (htmx) or through the plain form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from budgets.models import BudgetLine
from budgets.selectors import fiscal_years
from dsi_finance.exports import (
    export_filename,
    export_url,
    wants_export,
    xlsx_file,
    xlsx_response,
)
from dsi_finance.roles import holds
from dsi_finance.views import CapabilityRequiredMixin
from procurement.models import Supplier

from ..reports.common import export_columns
from ..reports.provisions import as_of_for
from ..reports.provisions import columns as report_columns
from ..reports.provisions import values as report_values
from ..selectors.provisions import ProvisionRow, provisions, provisions_total
from ..services.provisions import provision_argument_set
from .forecasts import read_period


def _page_url(year: int | None) -> str:
    query = f"?{urlencode({'year': year})}" if year else ""
    return f"{reverse('reporting:provisions')}{query}"


def provisions_export(rows, year: int):
    """The page's rows as XLSX, in the provisions report's layout."""
    cells = (report_values(row) for row in rows)
    output = xlsx_file(cells, export_columns(report_columns()), title=_("Provisions at closing"))
    return xlsx_response(output, filename=export_filename(f"pilotage-provisions-{year}"))


class ProvisionsView(CapabilityRequiredMixin, View):
    capability = "view_all"
    template_name = "reporting/provisions.html"

    def get(self, request):
        period = read_period(request.GET, month_required=False)
        context = {
            "period": period,
            "errors": period.errors,
            "years": fiscal_years(actor=request.user),
            "may_write": holds(request.user, "run_closing"),
        }
        if period.errors:
            return render(request, self.template_name, context, status=400)
        year = period.fiscal_year
        as_of = as_of_for(year.year)
        rows = provisions(actor=request.user, fiscal_year=year, as_of=as_of)
        if wants_export(request):
            return provisions_export(rows, year.year)
        context.update(
            rows=rows, total=provisions_total(rows), as_of=as_of, export_url=export_url(request)
        )
        return render(request, self.template_name, context)


class ProvisionArgumentView(CapabilityRequiredMixin, View):
    """POST budget_line, supplier, text (and year, to come back to): writes the argument.
    htmx gets the row back; a plain form goes back to the page."""

    capability = "run_closing"
    http_method_names = ["post"]

    def post(self, request):
        line = get_object_or_404(BudgetLine, pk=_int(request.POST.get("budget_line")))
        supplier = get_object_or_404(Supplier, pk=_int(request.POST.get("supplier")))
        text = request.POST.get("text", "")
        error = ""
        try:
            provision_argument_set(
                user=request.user, budget_line=line, supplier=supplier, text=text
            )
        except PermissionDenied:
            raise
        except ValidationError as exc:
            error = " ".join(exc.messages)
        if request.headers.get("HX-Request"):
            row = next(
                (
                    row
                    for row in provisions(
                        actor=request.user,
                        fiscal_year=line.fiscal_year,
                        as_of=as_of_for(line.fiscal_year.year),
                    )
                    if row.budget_line.pk == line.pk and row.supplier.pk == supplier.pk
                ),
                None,
            ) or ProvisionRow(line, supplier)
            return render(
                request,
                "reporting/provisions.html#row",
                {"row": row, "may_write": True, "error": error, "typed": text, "saved": not error},
                status=400 if error else 200,
            )
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request,
                _("Argument saved for %(line)s — %(supplier)s.")
                % {"line": line.code, "supplier": supplier.name},
            )
        return redirect(_page_url(line.fiscal_year.year))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


urlpatterns = [
    path("provisions/", ProvisionsView.as_view(), name="provisions"),
    path("provisions/argument/", ProvisionArgumentView.as_view(), name="provision-argument"),
]
