"""The table-less holder of the role capabilities (see dsi_finance/roles.py)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .history import register_account_history
from .roles import CAPABILITIES


class Access(models.Model):
    """Carries the capability permissions; it has no table and no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(CAPABILITIES.items())
        verbose_name = _("access right")
        verbose_name_plural = _("access rights")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


# The history models of the user accounts (and of their role groups) live in this app.
register_account_history()
