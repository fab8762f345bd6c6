from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DsiFinanceConfig(AppConfig):
    name = "dsi_finance"
    verbose_name = _("DSI Finance")
