"""What reporting adds to the home page (dsi_finance.home): the dashboard below the
queues for the roles that read it, and the forecasts to refresh.

Registered from ReportingConfig.ready().
"""

from django.utils.translation import gettext_lazy as _

from budgets.selectors import lines_forecast_due
from dsi_finance.home import HomePanel, HomeQueue, register_panel, register_queues
from dsi_finance.roles import Role


def _dashboard_context(request) -> dict:
    from .views.dashboard import dashboard_context  # views load late: ready() runs first

    return dashboard_context(request)


def register() -> None:
    register_panel(
        HomePanel(
            code="dashboard",
            capability="view_dashboard",
            template_name="reporting/home_dashboard.html",
            context=_dashboard_context,
        )
    )
    register_queues(
        HomeQueue(
            code="forecasts-due",
            label=_("Forecasts to refresh this month"),
            role=Role.PILOTAGE,
            capability="enter_forecast",
            selector=lambda user: lines_forecast_due(actor=user),
            url_name="reporting:forecast-entry",
            age_field="last_forecast_at",
            order=33,
        )
    )
