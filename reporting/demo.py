"""Demo forecasts (atterrissage) for the current demo year, entered by `chef` through
`budgets.services.forecasts_set` for the last three past months, so that the variance
page has something to say: most lines land near their credits, five overrun, and
the lines that are little committed keep a clear surplus.

Deterministic (a seeded generator) and idempotent: a year that already has forecasts
is left alone.

And last month's monthly execution report, XLSX and PDF, as celery beat requests it
on the 1st (reporting.services.reports.monthly_reports_request), built at once so
that the reports list of a fresh demo shows it done.
"""

import random
from datetime import date

from django.contrib.auth import get_user_model
from django.utils import timezone

from budgets.models import BudgetLine, FiscalYear, Forecast
from budgets.services import forecasts_set
from dsi_finance.roles import perm
from reporting.models import Report
from reporting.selectors.execution import last_complete_month
from reporting.services import reports as report_services

OVERRUNS = 5  # lines forecast above their credits
MONTHS_ENTERED = 3  # the last past months that get a forecast


def _round(amount: float) -> int:
    return max(round(amount / 1_000) * 1_000, 0)


def demo_forecasts(lines: list[BudgetLine], *, seed: str) -> dict[int, int]:
    """{line id: year-end forecast} for the lines (with their current figures)."""
    rnd = random.Random(seed)  # noqa: S311 (demo figures, not security)
    funded = [line for line in lines if line.opened > 0]
    advanced = [line for line in funded if line.committed >= 0.75 * line.opened]
    overrun_ids = {line.pk for line in rnd.sample(advanced, min(OVERRUNS, len(advanced)))}
    forecasts = {}
    for line in funded:
        left = line.opened - line.committed
        if line.pk in overrun_ids:
            amount = line.opened * rnd.uniform(1.06, 1.22)
        elif line.committed < 0.4 * line.opened:
            amount = line.committed + left * rnd.uniform(0.15, 0.45)  # a clear surplus
        else:
            amount = line.committed + left * rnd.uniform(0.75, 0.98)  # lands near its credits
        forecasts[line.pk] = _round(amount)
    return forecasts


def seed_demo_forecasts(*, today: date | None = None) -> int | None:
    """Forecasts of the demo year (the year of today in Noumea), as `chef`: the number
    of forecasts entered, or None when there is nothing to do (no such year, no past
    month, `chef` missing or without enter_forecast, forecasts already there)."""
    today = today or timezone.localdate()
    year = FiscalYear.objects.filter(
        year=today.year, state__in=(FiscalYear.State.PREPARATION, FiscalYear.State.OPEN)
    ).first()
    chef = get_user_model().objects.filter(username="chef", is_active=True).first()
    last_month = today.month - 1
    if (
        year is None
        or chef is None
        or last_month < 1
        or not chef.has_perm(perm("enter_forecast"))
        or Forecast.objects.filter(budget_line__fiscal_year=year).exists()
    ):
        return None
    lines = list(BudgetLine.objects.filter(fiscal_year=year).order_by("code"))
    final = demo_forecasts(lines, seed=f"forecasts-{year.year}")
    entered = 0
    first_month = max(1, last_month - MONTHS_ENTERED + 1)
    for month in range(first_month, last_month + 1):
        # Earlier estimates were a little lower: the trend firms up month after month.
        factor = 1 - 0.025 * (last_month - month)
        amounts = {line_id: _round(amount * factor) for line_id, amount in final.items()}
        forecasts_set(user=chef, fiscal_year=year, month=month, amounts=amounts)
        entered += len(amounts)
    return entered


def seed_demo_monthly_report(*, today: date | None = None) -> list[Report]:
    """Last month's monthly execution report, as XLSX and as PDF, requested as the
    schedule does on the 1st and built here at once, without a worker (the demo's is
    not running yet while it seeds).
    The reports built, done; [] when that month's scheduled report is already there or
    its year is not in the books."""
    year, month = last_complete_month(today or timezone.localdate())
    scheduled = Report.objects.filter(
        kind=Report.Kind.MONTHLY_EXECUTION,
        requested_by=None,
        parameters__year=year,
        parameters__month=month,
    )
    if scheduled.exists():
        return []
    # Built here, so sent to no worker (a queued report left behind would be sent again
    # by the requeue schedule).
    reports = report_services.monthly_reports_request(today=today, enqueue=False)
    return [report_services.report_build(report_id=report.pk) for report in reports]
