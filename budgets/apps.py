from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = _("Budgets")

    def ready(self):
        from dsi_finance.filters import register_current_year

        from . import home, menu  # its queues on the home page, its menu section
        from .selectors import current_fiscal_year

        home.register()
        menu.register()
        # The lists' `year` filter starts on the current fiscal year (dsi_finance.filters).
        register_current_year(lambda: getattr(current_fiscal_year(), "year", None))
