"""The table-less holder of the role capabilities (see dsi_finance/roles.py), and the keys
that make a creation sent twice record once (see dsi_finance/idempotency.py)."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
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


class IdempotencyKey(models.Model):
    """A key a client sent with a creation (an `Idempotency-Key` header, a form's token)
    and the object that creation recorded (dsi_finance/idempotency.py).

    The row is inserted in the transaction that creates the object, before it: a second
    creation with the same (user, scope, key) waits on the unique index, then finds the
    first one's object instead of recording another. `content_type` and `object_id` are
    filled in the same transaction once the object exists, so a committed row always
    names its object.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    scope = models.CharField(_("scope"), max_length=100)
    key = models.CharField(_("key"), max_length=200)
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        verbose_name=_("object type"),
    )
    object_id = models.PositiveBigIntegerField(_("object id"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=("user", "scope", "key"), name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
