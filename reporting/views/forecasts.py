"""Forecast entry (atterrissage): for a year and a month, the grid of the lines with
their opened, committed and liquidated amounts, the previous forecast and the
month's, which `pilotage` fills in and saves in one POST.

Readable by every role that reads everything (view_all); only enter_forecast may
save. Bad parameters (unknown year, month out of 1–12, text) get a French message.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from budgets.models import BudgetLine, Chapter, FiscalYear, Forecast, Section
from budgets.selectors import current_fiscal_year, current_forecasts, line_availability
from budgets.services import forecasts_set
from dsi_finance.home import active_queue_of
from dsi_finance.idempotency import (
    FORM_TOKEN_FIELD,
    IdempotencyKeyError,
    run_once,
    validate_key,
)
from dsi_finance.money import parse_francs
from dsi_finance.roles import holds
from dsi_finance.views import CapabilityRequiredMixin

FIELD_PREFIX = "forecast-"
QUEUE_URL_NAME = "reporting:forecast-entry"


@dataclass
class Period:
    """The year and month a page is about, read from its query string."""

    fiscal_year: FiscalYear | None
    month: int | None
    errors: list[str]


def default_month(fiscal_year: FiscalYear) -> int:
    """The current month (Pacific/Noumea) in the current year, December for a past
    year, January for a future one."""
    today = timezone.localdate()
    if fiscal_year.year == today.year:
        return today.month
    return 12 if fiscal_year.year < today.year else 1


def read_period(params: QueryDict, *, month_required: bool) -> Period:
    """`year` (e.g. 2026; the current year by default) and `month` (1–12): the values,
    or French messages saying what is wrong."""
    errors = []
    raw_year = (params.get("year") or "").strip()
    fiscal_year = None
    if raw_year:
        if raw_year.isdigit() and len(raw_year) <= 4:
            fiscal_year = FiscalYear.objects.filter(year=int(raw_year)).first()
        if fiscal_year is None:
            errors.append(_("The fiscal year “%(year)s” does not exist.") % {"year": raw_year[:20]})
    else:
        fiscal_year = current_fiscal_year()
        if fiscal_year is None:
            errors.append(_("No fiscal year exists yet."))
    raw_month = (params.get("month") or "").strip()
    month = None
    if raw_month:
        if raw_month.isdigit() and 1 <= int(raw_month) <= 12:
            month = int(raw_month)
        else:
            errors.append(
                _("The month “%(month)s” is not valid: choose a month from 1 to 12.")
                % {"month": raw_month[:20]}
            )
    elif month_required and fiscal_year is not None:
        month = default_month(fiscal_year)
    return Period(fiscal_year, month, errors)


def month_choices() -> list[tuple[int, str]]:
    return [(number, str(name).capitalize()) for number, name in MONTHS.items()]


@dataclass
class GridRow:
    line: BudgetLine
    previous: object  # the Forecast current before this month, or None
    current: object  # this month's Forecast, or None
    value: str  # what the input shows
    error: str = ""

    @property
    def previous_month_name(self) -> str:
        return str(MONTHS[self.previous.month]).lower() if self.previous else ""


def _grid_lines(fiscal_year: FiscalYear, params: QueryDict, errors: list[str], base=None):
    """The lines of the grid: the year's (or those of `base`, a home queue's rows, in
    that year), narrowed by the section and chapter filters."""
    if base is None:
        lines = line_availability(fiscal_year=fiscal_year)
    else:
        lines = base.filter(fiscal_year=fiscal_year).order_by("code")
    section = (params.get("section") or "").strip()
    if section:
        if section in Section.values:
            lines = lines.filter(section=section)
        else:
            errors.append(
                _("The section “%(section)s” does not exist.") % {"section": section[:20]}
            )
    chapter = (params.get("chapter") or "").strip()
    if chapter:
        if Chapter.objects.filter(code=chapter).exists():
            lines = lines.filter(nature_account__chapter__code=chapter)
        else:
            errors.append(
                _("The chapter “%(chapter)s” does not exist.") % {"chapter": chapter[:20]}
            )
    return lines, section, chapter


def _grid_rows(fiscal_year: FiscalYear, month: int, lines, posted: dict | None = None):
    before = (
        {f.budget_line_id: f for f in current_forecasts(fiscal_year=fiscal_year, month=month - 1)}
        if month > 1
        else {}
    )
    this_month = {
        f.budget_line_id: f
        for f in Forecast.objects.filter(budget_line__fiscal_year=fiscal_year, month=month)
    }
    rows = []
    for line in lines:
        current = this_month.get(line.pk)
        if posted is not None and line.pk in posted:
            value, error = posted[line.pk]
        else:
            value, error = ("" if current is None else str(current.amount)), ""
        rows.append(GridRow(line, before.get(line.pk), current, value, error))
    return rows


class ForecastEntryView(CapabilityRequiredMixin, View):
    """GET: the grid of a year and month; POST (enter_forecast): save it."""

    capability = "view_all"
    template_name = "reporting/forecast_entry.html"

    def get(self, request):
        period = read_period(request.GET, month_required=True)
        return self.render(request, period, request.GET)

    @staticmethod
    def home_queue(request, params):
        """The home queue the grid was opened with (?queue=forecasts-due, kept by its
        forms): only that queue's lines."""
        return active_queue_of(request, params.get("queue", ""), QUEUE_URL_NAME)

    def render(self, request, period: Period, params, *, posted=None, problems=(), status=200):
        """The page; `period.errors` and bad filters show no grid (400), `problems` (a
        refused save) show the grid again with what was typed."""
        errors = list(period.errors)
        context = {
            "period": period,
            "months": month_choices(),
            "years": FiscalYear.objects.order_by("-year"),
            "sections": Section.choices,
            "chapters": Chapter.objects.order_by("code"),
            "may_enter": holds(request.user, "enter_forecast"),
            "field_prefix": FIELD_PREFIX,
            "rows": None,
        }
        queue = self.home_queue(request, params)
        context["home_queue"] = queue
        context["list_url"] = reverse(QUEUE_URL_NAME)
        if not errors:
            base = queue.selector(request.user) if queue else None
            lines, section, chapter = _grid_lines(period.fiscal_year, params, errors, base)
            context.update(
                section=section,
                chapter=chapter,
                month_name=str(MONTHS[period.month]).lower(),
                editable=period.fiscal_year.state
                in (FiscalYear.State.PREPARATION, FiscalYear.State.OPEN),
            )
            if not errors:
                context["rows"] = _grid_rows(period.fiscal_year, period.month, lines, posted)
        if errors:
            status = 400
        context["errors"] = errors + list(problems)
        return render(request, self.template_name, context, status=status)

    def post(self, request):
        if not holds(request.user, "enter_forecast"):
            raise PermissionDenied(_("Your role does not allow this action."))
        period = read_period(request.POST, month_required=False)
        if period.month is None and not period.errors:
            period.errors.append(_("Choose the month of the forecasts."))
        if period.errors:
            return self.render(request, period, request.POST, status=400)
        amounts, posted, problems = self._read_grid(request.POST, period.fiscal_year)
        if not problems:
            try:
                self._save(request, period, amounts)
            except ValidationError as error:
                problems = list(error.messages)
            else:
                return redirect(self._back_url(period, request.POST))
        return self.render(request, period, request.POST, posted=posted, problems=problems)

    @staticmethod
    def _read_grid(data: QueryDict, fiscal_year: FiscalYear):
        """{line id: francs or None}, what each input held, and French messages."""
        ids = {}
        for name in data:
            if name.startswith(FIELD_PREFIX):
                suffix = name[len(FIELD_PREFIX) :]
                if not suffix.isdigit():
                    raise BadRequest(_("The forecast grid is malformed."))
                ids[int(suffix)] = data.get(name, "")
        codes = dict(
            BudgetLine.objects.filter(pk__in=list(ids), fiscal_year=fiscal_year).values_list(
                "pk", "code"
            )
        )
        amounts, posted, problems = {}, {}, []
        for line_id, raw in ids.items():
            code = codes.get(line_id, f"#{line_id}")
            try:
                amounts[line_id] = parse_francs(
                    raw.strip() or None, label=_("The forecast amount of %(code)s") % {"code": code}
                )
                posted[line_id] = (raw, "")
            except ValidationError as error:
                posted[line_id] = (raw, error.messages[0])
                problems.append(error.messages[0])
        return amounts, posted, problems

    def _save(self, request, period: Period, amounts):
        token = request.POST.get(FORM_TOKEN_FIELD, "")
        outcome = {}

        def save():
            outcome["result"] = forecasts_set(
                user=request.user,
                fiscal_year=period.fiscal_year,
                month=period.month,
                amounts=amounts,
            )
            return period.fiscal_year

        if token:
            try:
                validate_key(token)
            except IdempotencyKeyError as error:
                raise BadRequest(error.messages[0]) from None
            _obj, created = run_once(
                user=request.user, scope="reporting.forecasts-set", key=token, create=save
            )
        else:
            save()
            created = True
        if not created:
            messages.info(
                request, _("This grid had already been saved: nothing was recorded twice.")
            )
            return None
        result = outcome["result"]
        when = f"{MONTHS[period.month].lower()} {period.fiscal_year.year}"
        if result.touched == 0:
            messages.info(request, _("Forecasts of %(when)s: nothing changed.") % {"when": when})
        else:
            messages.success(
                request,
                _(
                    "Forecasts of %(when)s saved: %(created)d entered, %(changed)d changed, "
                    "%(removed)d removed (the previous month’s forecast applies again)."
                )
                % {
                    "when": when,
                    "created": result.created,
                    "changed": result.changed,
                    "removed": result.removed,
                },
            )
        return result

    @staticmethod
    def _back_url(period: Period, data: QueryDict) -> str:
        params = {"year": period.fiscal_year.year, "month": period.month}
        for name in ("section", "chapter", "queue"):
            if data.get(name):
                params[name] = data[name]
        return f"{reverse('reporting:forecast-entry')}?{urlencode(params)}"


urlpatterns = [
    path("atterrissage/", ForecastEntryView.as_view(), name="forecast-entry"),
]
