"""The budgets section of the menu (dsi_finance.menu), registered from BudgetsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from dsi_finance.menu import BUDGET_ORDER, MenuItem, MenuSection, register_menu


def register() -> None:
    register_menu(
        MenuSection(
            _("Budget"),
            (
                MenuItem(
                    _("Available amounts (DISCO)"), "budgets:disco", "speedometer2", "view_budget"
                ),
                MenuItem(
                    _("BP and DM"),
                    "budgets:revision-list",
                    "journal-text",
                    "view_all",
                    serves=("prepare_budget", "submit_budget"),
                ),
                MenuItem(
                    _("Transfers"),
                    "budgets:transfer-list",
                    "arrow-left-right",
                    "view_all",
                    serves=("request_transfer", "approve_transfer"),
                ),
                MenuItem(_("Fiscal years"), "budgets:fiscal-year-list", "calendar3", "view_budget"),
            ),
            "budgets",
            BUDGET_ORDER,
        )
    )
