"""Pages of the controlling reports and of the ledger checks.

Reports: the list (every download_report holder sees every report), the request
form (request_report: pilotage), the report's page whose status region htmx
polls every second while it is queued or running, the download and the retry of
a failed one. Ledger checks: the nightly results and "Run now", for pilotage
(reporting.services.reports.LEDGER_CHECK_CAPABILITY).
"""

from datetime import date

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from budgets.models import FiscalYear, Section
from budgets.selectors import current_fiscal_year
from dsi_finance.errors import ServiceError
from dsi_finance.idempotency import once_from_form
from dsi_finance.roles import holds
from dsi_finance.tables import BaseTable
from dsi_finance.views import CapabilityRequiredMixin, HtmxTableMixin

from .. import reports as catalogue
from ..models import Report
from ..selectors import reports as selectors
from ..services import reports as services

DOWNLOAD = "download_report"
REQUEST = "request_report"
CHECKS = services.LEDGER_CHECK_CAPABILITY
CREATE_SCOPE = "reporting:report-request"
PARAMETER_FIELDS = ("year", "month", "section", "chapter")
STATUS_BADGES = {
    Report.Status.QUEUED: "text-bg-secondary",
    Report.Status.RUNNING: "text-bg-info",
    Report.Status.DONE: "text-bg-success",
    Report.Status.FAILED: "text-bg-danger",
}
MONTHS = (
    (1, gettext_lazy("January")),
    (2, gettext_lazy("February")),
    (3, gettext_lazy("March")),
    (4, gettext_lazy("April")),
    (5, gettext_lazy("May")),
    (6, gettext_lazy("June")),
    (7, gettext_lazy("July")),
    (8, gettext_lazy("August")),
    (9, gettext_lazy("September")),
    (10, gettext_lazy("October")),
    (11, gettext_lazy("November")),
    (12, gettext_lazy("December")),
)


def parameters_text(report: Report) -> str:
    """The parameters as a reader says them: "2026, octobre", "2026, section F"."""
    params = report.parameters or {}
    parts = []
    if params.get("year"):
        parts.append(str(params["year"]))
    if params.get("month"):
        parts.append(str(dict(MONTHS).get(int(params["month"]), params["month"])))
    if params.get("section"):
        parts.append(_("section %(section)s") % {"section": params["section"]})
    if params.get("chapter"):
        parts.append(_("chapter %(chapter)s") % {"chapter": params["chapter"]})
    return ", ".join(parts)


# ---------------------------------------------------------------------------
# List


class ReportFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Report"),
        choices=Report.Kind.choices,
        empty_label=gettext_lazy("All"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"),
        choices=Report.Status.choices,
        empty_label=gettext_lazy("All"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Report
        fields = ("kind", "status")


class ReportTable(BaseTable):
    pk = tables.Column(verbose_name=gettext_lazy("No."), linkify=True)
    kind = tables.Column(verbose_name=gettext_lazy("Report"), linkify=True)
    format = tables.Column(verbose_name=gettext_lazy("Format"))
    parameters = tables.Column(verbose_name=gettext_lazy("Parameters"), orderable=False)
    requested_by = tables.Column(
        verbose_name=gettext_lazy("Requested by"), default=gettext_lazy("Schedule")
    )
    requested_at = tables.DateTimeColumn(
        verbose_name=gettext_lazy("Requested at"), format="SHORT_DATETIME_FORMAT"
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"))
    download = tables.Column(
        verbose_name=gettext_lazy("File"), accessor="pk", orderable=False, empty_values=()
    )

    class Meta(BaseTable.Meta):
        model = Report
        fields = ("pk", "kind", "format", "parameters", "requested_by", "requested_at", "status")
        order_by = ("-requested_at",)
        empty_text = gettext_lazy("No report matches these filters.")
        row_attrs = {"data-report": lambda record: record.pk}

    def render_format(self, record):
        return record.format.upper()

    def render_parameters(self, record):
        return parameters_text(record)

    def render_requested_by(self, value):
        return value.get_full_name() or value.get_username()

    def render_status(self, record):
        label = record.get_status_display()
        if record.status == Report.Status.RUNNING:
            label = f"{label} ({record.progress} %)"
        return format_html(
            '<span class="badge {}" data-status="{}">{}</span>',
            STATUS_BADGES[record.status],
            record.status,
            label,
        )

    def render_download(self, record):
        if record.status != Report.Status.DONE:
            return "—"
        return format_html(
            '<a class="btn btn-outline-primary btn-sm" href="{}" data-testid="download">'
            '<i class="bi bi-download me-1" aria-hidden="true"></i>{}</a>',
            reverse("reporting:report-download", args=[record.pk]),
            _("Download"),
        )


class ReportListView(CapabilityRequiredMixin, HtmxTableMixin, SingleTableMixin, FilterView):
    capability = DOWNLOAD
    template_name = "reporting/report_list.html"
    table_class = ReportTable
    filterset_class = ReportFilter

    def get_queryset(self):
        return selectors.reports(actor=self.request.user)

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        if not self.filters_active():
            table.empty_text = no_report_yet(may_request=holds(self.request.user, REQUEST))
        return table

    def filters_active(self) -> bool:
        """Whether the list is narrowed by a filter (its empty text then says so)."""
        return any(self.request.GET.get(name) for name in self.filterset.filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_request"] = holds(self.request.user, REQUEST)
        return context


def no_report_yet(*, may_request: bool) -> str:
    """The empty list's text when no filter is set: there is no report at all yet, and
    how one comes (asked for by pilotage, or built by the schedule on the 1st)."""
    if may_request:
        return format_html(
            '{} <a href="{}" data-testid="empty-request-link">{}</a>',
            _("No report yet."),
            reverse("reporting:report-request"),
            _("Request one: it is built in the background and appears here."),
        )
    return _(
        "No report yet. The monthly execution report is built on the 1st of each month "
        "and will appear here; the section head may request others."
    )


# ---------------------------------------------------------------------------
# Request


def month_help(kind: str) -> str:
    """What the month left to its default means, for the kind: "Par défaut : novembre 2026,
    dernier mois complet" for the monthly report."""
    if kind == Report.Kind.MONTHLY_EXECUTION:
        default = catalogue.monthly_default(timezone.localdate())
        if default is None:  # a first January: last year is not in the books
            return _("Default: the last complete month of the year.")
        return _("Default: %(month)s, the last complete month.") % {
            "month": date_format(date(*default, 1), "F Y")
        }
    if kind == Report.Kind.VARIANCE:
        return _("Default: the latest forecasts.")
    return ""


class ReportRequestForm(forms.Form):
    """What to build. The parameters are passed as typed to the catalogue's
    clean_parameters, whose French messages come back on their fields."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Report"),
        choices=Report.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=Report.Format.choices,
        widget=forms.RadioSelect,
        initial=Report.Format.XLSX,
    )
    year = forms.CharField(
        label=gettext_lazy("Fiscal year"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    section = forms.CharField(
        label=gettext_lazy("Section"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    chapter = forms.CharField(
        label=gettext_lazy("Chapter (code)"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "011"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years = FiscalYear.objects.order_by("-year").values_list("year", flat=True)
        self.fields["year"].widget.choices = [(str(y), str(y)) for y in years]
        self.fields["month"].widget.choices = [("", _("Default"))] + [
            (str(number), label) for number, label in MONTHS
        ]
        self.fields["month"].help_text = month_help(self.kind_value())
        if self.fields["month"].help_text:
            self.fields["month"].widget.attrs["aria-describedby"] = "id_month-help"
        self.fields["section"].widget.choices = [("", _("Both")), *Section.choices]
        # Choosing another kind swaps in its parameters (the view answers the region).
        self.fields["kind"].widget.attrs.update(
            {
                "hx-get": reverse("reporting:report-request"),
                "hx-target": "#report-parameters",
                "hx-swap": "outerHTML",
                "hx-trigger": "change",
            }
        )

    def kind_value(self) -> str:
        kind = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        return kind if kind in Report.Kind.values else Report.Kind.MONTHLY_EXECUTION

    def parameter_fields(self):
        """The fields of the chosen kind's parameters, in the catalogue's order."""
        return [self[name] for name in catalogue.kind_parameters(self.kind_value())]


class ReportRequestView(CapabilityRequiredMixin, FormView):
    """Records once per form token: a double submit shows the first report."""

    capability = REQUEST
    template_name = "reporting/report_form.html"
    form_class = ReportRequestForm

    def get_initial(self):
        fiscal_year = current_fiscal_year()
        kind = self.request.GET.get("kind")
        kind = kind if kind in Report.Kind.values else Report.Kind.MONTHLY_EXECUTION
        initial = {
            "kind": kind,
            "format": self.request.GET.get("format") or Report.Format.XLSX,
            "year": str(fiscal_year.year) if fiscal_year else "",
        }
        default = catalogue.monthly_default(timezone.localdate())
        if kind == Report.Kind.MONTHLY_EXECUTION and default is not None:
            # The monthly report starts on the last complete month (December of last
            # year in January), which the month's help text names.
            initial.update(year=str(default[0]), month=str(default[1]))
        return initial

    def get_template_names(self):
        htmx = getattr(self.request, "htmx", None)
        if self.request.method == "GET" and htmx and htmx.target == "report-parameters":
            return [f"{self.template_name}#parameters"]
        return [self.template_name]

    def form_valid(self, form):
        data = form.cleaned_data
        parameters = {name: data[name] for name in PARAMETER_FIELDS if data.get(name)}
        try:
            report, recorded = once_from_form(
                self.request,
                CREATE_SCOPE,
                lambda: services.report_request(
                    user=self.request.user,
                    kind=data["kind"],
                    format=data["format"],
                    parameters=parameters,
                ),
            )
        except ServiceError as error:
            _add_errors(form, error)
            return self.form_invalid(form)
        if recorded:
            # Only what stays true: that the build is under way (or waits for the
            # workers) is said by the page's status region, which the page polls and
            # which says "Terminé" once done.
            messages.success(
                self.request,
                _("Report requested: %(report)s.") % {"report": report.get_kind_display()},
            )
        return redirect(report)


def _add_errors(form, error) -> None:
    """The service's messages on the fields they name, the others above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# ---------------------------------------------------------------------------
# One report


class ReportDetailView(CapabilityRequiredMixin, DetailView):
    capability = DOWNLOAD
    template_name = "reporting/report_detail.html"
    context_object_name = "report"

    def get_queryset(self):
        return selectors.reports(actor=self.request.user)

    def get_template_names(self):
        htmx = getattr(self.request, "htmx", None)
        if htmx and htmx.target == "report-status":
            return [f"{self.template_name}#status"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        context["may_request"] = holds(self.request.user, REQUEST)
        context["parameters_text"] = parameters_text(report)
        context["badge"] = STATUS_BADGES[report.status]
        context["in_progress"] = report.status in (Report.Status.QUEUED, Report.Status.RUNNING)
        context["waiting_message"] = services.report_waiting_message(report)
        context["download_name"] = (
            services.report_download_name(report) if report.status == Report.Status.DONE else ""
        )
        return context


class ReportDownloadView(CapabilityRequiredMixin, View):
    capability = DOWNLOAD
    http_method_names = ["get"]

    def get(self, request, pk):
        report = get_object_or_404(selectors.reports(actor=request.user), pk=pk)
        if report.status != Report.Status.DONE or not report.file:
            messages.error(request, _("This report has no file yet."))
            return redirect(report)
        try:
            handle = report.file.open("rb")
        except FileNotFoundError:
            raise Http404(_("The file of this report is missing.")) from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=services.report_download_name(report),
            content_type=catalogue.CONTENT_TYPES[report.format],
        )


class ReportRetryView(CapabilityRequiredMixin, View):
    capability = REQUEST
    http_method_names = ["post"]

    def post(self, request, pk):
        report = get_object_or_404(selectors.reports(actor=request.user), pk=pk)
        try:
            report = services.report_retry(user=request.user, report=report)
        except ServiceError as error:
            for text in error.messages:
                messages.error(request, text)
            return redirect(report)
        # Whether the workers got it is said by the status region (polled), not here.
        messages.success(request, _("The report is queued again."))
        return redirect(report)


# ---------------------------------------------------------------------------
# Ledger checks


class LedgerCheckListView(CapabilityRequiredMixin, ListView):
    capability = CHECKS
    template_name = "reporting/report_ledger_checks.html"
    context_object_name = "checks"
    paginate_by = 30

    def get_queryset(self):
        return selectors.ledger_checks(actor=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["any_running"] = any(check.finished_at is None for check in context["checks"])
        return context


class LedgerCheckRunView(CapabilityRequiredMixin, View):
    capability = CHECKS
    http_method_names = ["post"]

    def post(self, request):
        check = services.ledger_check_request(user=request.user)
        check.refresh_from_db()
        if check.error:
            messages.warning(request, check.error)
        else:
            messages.success(
                request, _("The ledger check is running; its result appears below when done.")
            )
        return redirect("reporting:ledger-check-list")


urlpatterns = [
    path("rapports/", ReportListView.as_view(), name="report-list"),
    path("rapports/nouveau/", ReportRequestView.as_view(), name="report-request"),
    path("rapports/<int:pk>/", ReportDetailView.as_view(), name="report-detail"),
    path("rapports/<int:pk>/telecharger/", ReportDownloadView.as_view(), name="report-download"),
    path("rapports/<int:pk>/relancer/", ReportRetryView.as_view(), name="report-retry"),
    path("controles-du-grand-livre/", LedgerCheckListView.as_view(), name="ledger-check-list"),
    path("controles-du-grand-livre/lancer/", LedgerCheckRunView.as_view(), name="ledger-check-run"),
]
