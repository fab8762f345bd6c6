"""The steering section of the menu (dsi_finance.menu), registered from ReportingConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from dsi_finance.menu import STEERING_ORDER, MenuItem, MenuSection, register_menu


def register() -> None:
    register_menu(
        MenuSection(
            _("Steering"),
            (
                MenuItem(_("Dashboard"), "reporting:dashboard", "graph-up", "view_dashboard"),
                MenuItem(
                    _("Year-end forecasts"),
                    "reporting:forecast-entry",
                    "pencil-square",
                    "view_all",
                    serves=("enter_forecast",),
                ),
                MenuItem(
                    _("Variance analysis"), "reporting:variance", "bar-chart-steps", "view_all"
                ),
                MenuItem(
                    _("Provisions at closing"),
                    "reporting:provisions",
                    "hourglass-split",
                    "view_all",
                ),
                MenuItem(
                    _("Reports"),
                    "reporting:report-list",
                    "file-earmark-bar-graph",
                    "download_report",
                    serves=("request_report",),
                ),
                MenuItem(
                    _("Ledger checks"), "reporting:ledger-check-list", "shield-check", "run_closing"
                ),
            ),
            "reporting",
            STEERING_ORDER,
        )
    )
