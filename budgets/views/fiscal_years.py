"""Fiscal years: their state (preparation, open, closed) and their control settings.

One page lists the years with their figures; POST-only actions open, close and
create a year and set its controls, each through one service.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from dsi_finance.exports import XlsxExportMixin
from dsi_finance.roles import perm
from dsi_finance.views import CapabilityRequiredMixin

from .. import services
from ..exports import FISCAL_YEAR_EXPORT
from ..models import FiscalYear
from ..selectors import availability_by, fiscal_years, line_availability


class FiscalYearControlsForm(forms.Form):
    control_level = forms.ChoiceField(
        label=gettext_lazy("Control level"), choices=FiscalYear.ControlLevel.choices
    )
    control_mode = forms.ChoiceField(
        label=gettext_lazy("Control mode"), choices=FiscalYear.ControlMode.choices
    )


class FiscalYearListView(CapabilityRequiredMixin, XlsxExportMixin, TemplateView):
    capability = "view_budget"
    template_name = "budgets/fiscal_year_list.html"
    export_columns = FISCAL_YEAR_EXPORT
    export_name = "budget-exercices"
    export_title = gettext_lazy("Fiscal years")

    def get_export_rows(self):
        """The years as the page lists them, with the same figures (availability_by)."""
        user = self.request.user
        figures = {
            row.key[0]: row for row in availability_by(line_availability(actor=user), "year")
        }
        for year in fiscal_years(actor=user):
            row = figures.get(year.year)
            sums = row.figures if row else None
            yield [
                year.year,
                year.get_state_display(),
                row.lines if row else 0,
                *(
                    (
                        sums.opened,
                        sums.committed,
                        sums.liquidated,
                        sums.to_liquidate,
                        sums.available,
                    )
                    if sums
                    else (None,) * 5
                ),
                sums.execution_rate if sums else None,
                year.get_control_level_display(),
                year.get_control_mode_display(),
            ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        figures = {
            row.key[0]: row for row in availability_by(line_availability(actor=user), "year")
        }
        years = list(fiscal_years(actor=user))
        context["rows"] = [
            {
                "year": year,
                "figures": figures[year.year].figures if year.year in figures else None,
                "lines": figures[year.year].lines if year.year in figures else 0,
                "form": FiscalYearControlsForm(
                    initial={
                        "control_level": year.control_level,
                        "control_mode": year.control_mode,
                    },
                    prefix=f"y{year.pk}",
                ),
            }
            for year in years
        ]
        context["next_year"] = (years[0].year + 1) if years else None
        context["may"] = {
            code: user.has_perm(perm(code))
            for code in ("prepare_budget", "submit_budget", "run_closing", "override_available")
        }
        return context


class FiscalYearActionView(CapabilityRequiredMixin, View):
    """POST one action on a year; the service checks the capability and the state."""

    http_method_names = ["post"]
    capability = "use_app"
    action = ""

    def post(self, request, pk=None):
        try:
            if self.action == "create":
                year = _parse_year(request.POST.get("year"))
                services.fiscal_year_create(user=request.user, year=year)
                messages.success(request, _("Fiscal year %(year)s created.") % {"year": year})
                return redirect("budgets:fiscal-year-list")
            fiscal_year = get_object_or_404(FiscalYear, pk=pk)
            if self.action == "open":
                services.fiscal_year_open(user=request.user, fiscal_year=fiscal_year)
                messages.success(
                    request, _("Fiscal year %(year)s is open.") % {"year": fiscal_year}
                )
            elif self.action == "close":
                services.fiscal_year_close(user=request.user, fiscal_year=fiscal_year)
                messages.success(
                    request, _("Fiscal year %(year)s is closed.") % {"year": fiscal_year}
                )
            else:
                form = FiscalYearControlsForm(request.POST, prefix=f"y{fiscal_year.pk}")
                if not form.is_valid():
                    raise ValidationError(_("Choose a control level and a control mode."))
                services.fiscal_year_set_controls(
                    user=request.user, fiscal_year=fiscal_year, **form.cleaned_data
                )
                messages.success(
                    request,
                    _("Controls of fiscal year %(year)s saved.") % {"year": fiscal_year},
                )
        except PermissionDenied:
            raise
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("budgets:fiscal-year-list")


def _parse_year(value) -> int:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("The year must be a number such as 2027.")) from None
    if not 2000 <= year <= 2100:
        raise ValidationError(_("The year must be between 2000 and 2100."))
    return year


urlpatterns = [
    path("exercices/", FiscalYearListView.as_view(), name="fiscal-year-list"),
    path(
        "exercices/nouveau/",
        FiscalYearActionView.as_view(action="create"),
        name="fiscal-year-create",
    ),
    path(
        "exercices/<int:pk>/ouvrir/",
        FiscalYearActionView.as_view(action="open"),
        name="fiscal-year-open",
    ),
    path(
        "exercices/<int:pk>/cloturer/",
        FiscalYearActionView.as_view(action="close"),
        name="fiscal-year-close",
    ),
    path(
        "exercices/<int:pk>/controles/",
        FiscalYearActionView.as_view(action="controls"),
        name="fiscal-year-controls",
    ),
]
