"""The variance page: voted, committed, liquidated and forecast side by side, the
overruns, the surpluses and the proposals that would cover the ones from the others;
`pilotage` turns the proposals into a draft DM, or one of them into a transfer request.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.dates import MONTHS
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from budgets.models import BudgetRevision, Transfer
from budgets.selectors import fiscal_years
from dsi_finance.exports import (
    export_filename,
    export_url,
    wants_export,
    xlsx_file,
    xlsx_response,
)
from dsi_finance.idempotency import once_from_form
from dsi_finance.roles import holds
from dsi_finance.views import CapabilityRequiredMixin

from ..reports.common import export_columns
from ..reports.variance import line_columns
from ..reports.variance import line_values as report_line_values
from ..selectors.variance import (
    cover_proposals,
    overruns,
    surpluses,
    uncovered,
    variance_rows,
    variance_totals,
)
from ..services.variance import next_amending_kind, variance_draft_dm, variance_transfer_request
from .forecasts import Period, month_choices, read_period


def _variance_url(period: Period) -> str:
    params = {}
    if period.fiscal_year is not None:
        params["year"] = period.fiscal_year.year
    if period.month is not None:
        params["month"] = period.month
    return f"{reverse('reporting:variance')}?{urlencode(params)}"


def variance_export(rows, period: Period):
    """The page's rows as XLSX, in the variance report's layout (the report adds the
    summary, the overruns, the surpluses and the proposals)."""
    cells = (report_line_values(row) for row in rows)
    output = xlsx_file(cells, export_columns(line_columns()), title=_("Variance analysis"))
    stem = f"pilotage-ecarts-{period.fiscal_year.year}"
    if period.month:
        stem += f"-{period.month:02d}"
    return xlsx_response(output, filename=export_filename(stem))


class VarianceView(CapabilityRequiredMixin, View):
    capability = "view_all"
    template_name = "reporting/variance.html"

    def get(self, request):
        period = read_period(request.GET, month_required=False)
        user = request.user
        context = {
            "period": period,
            "months": month_choices(),
            "errors": period.errors,
            "years": fiscal_years(actor=user),
        }
        if period.errors:
            return render(request, self.template_name, context, status=400)
        year = period.fiscal_year
        rows = variance_rows(actor=user, fiscal_year=year, month=period.month)
        if wants_export(request):
            return variance_export(rows, period)
        proposals = cover_proposals(rows)
        pending = set(
            Transfer.objects.filter(fiscal_year=year, state=Transfer.State.REQUESTED).values_list(
                "source_id", "target_id"
            )
        )
        kind = next_amending_kind(year)
        draft = BudgetRevision.objects.filter(fiscal_year=year, kind=kind).first() if kind else None
        context.update(
            rows=rows,
            totals=variance_totals(rows),
            overruns=overruns(rows),
            surpluses=surpluses(rows),
            proposals=[
                {"proposal": p, "pending": (p.source.pk, p.target.pk) in pending} for p in proposals
            ],
            uncovered=uncovered(rows, proposals),
            without_forecast=sum(1 for row in rows if not row.forecast_entered),
            month_name=str(MONTHS[period.month]).lower() if period.month else "",
            next_dm=kind,
            existing_dm=draft,
            may_draft_dm=holds(user, "enter_forecast") and holds(user, "prepare_budget"),
            may_request_transfer=holds(user, "request_transfer"),
            export_url=export_url(request),
        )
        return render(request, self.template_name, context)


class VarianceDraftDmView(CapabilityRequiredMixin, View):
    """POST: the proposals become a draft DM (enter_forecast and prepare_budget)."""

    http_method_names = ["post"]
    capability = "enter_forecast"

    def post(self, request):
        period = read_period(request.POST, month_required=False)
        if period.errors:
            for error in period.errors:
                messages.error(request, error)
            return redirect("reporting:variance")
        try:
            revision, created = once_from_form(
                request,
                "reporting.variance-draft-dm",
                lambda: variance_draft_dm(
                    user=request.user, fiscal_year=period.fiscal_year, month=period.month
                ),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(_variance_url(period))
        if created:
            messages.success(
                request,
                _(
                    "%(revision)s: draft filled from the variance analysis "
                    "(%(count)d lines, balanced). Review it, then submit it."
                )
                % {"revision": revision, "count": revision.items.count()},
            )
        return redirect(revision)


class VarianceTransferView(CapabilityRequiredMixin, View):
    """POST: request the transfer one same-section proposal describes (request_transfer)."""

    http_method_names = ["post"]
    capability = "request_transfer"

    def post(self, request):
        period = read_period(request.POST, month_required=False)
        source, target = request.POST.get("source", ""), request.POST.get("target", "")
        if not (source.isdigit() and target.isdigit()):
            period.errors.append(_("Choose a proposal of the variance analysis."))
        if period.errors:
            for error in period.errors:
                messages.error(request, error)
            return redirect(_variance_url(period) if period.fiscal_year else "reporting:variance")
        try:
            transfer, created = once_from_form(
                request,
                "reporting.variance-transfer",
                lambda: variance_transfer_request(
                    user=request.user,
                    fiscal_year=period.fiscal_year,
                    month=period.month,
                    source_id=int(source),
                    target_id=int(target),
                ),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(_variance_url(period))
        if created:
            messages.success(
                request,
                _("Transfer requested from %(source)s to %(target)s; it waits for a decision.")
                % {"source": transfer.source.code, "target": transfer.target.code},
            )
        return redirect(transfer)


urlpatterns = [
    path("ecarts/", VarianceView.as_view(), name="variance"),
    path("ecarts/projet-de-dm/", VarianceDraftDmView.as_view(), name="variance-draft-dm"),
    path("ecarts/virement/", VarianceTransferView.as_view(), name="variance-transfer"),
]
