"""Change history of the user accounts: who gave whom which role, and when."""

from django.contrib.auth.models import User
from simple_history import register
from simple_history.models import HistoricalRecords

# Secrets are never copied into the history; last_login changes at every login.
ACCOUNT_EXCLUDED_FIELDS = ["password", "last_login"]


class AccountHistory(HistoricalRecords):
    """Django's history records, without a row for a save that touches only excluded
    fields (a login saves last_login alone)."""

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


def register_account_history() -> None:
    register(
        User,
        app="dsi_finance",
        records_class=AccountHistory,
        m2m_fields=[User.groups.field],
        excluded_fields=ACCOUNT_EXCLUDED_FIELDS,
    )
