# The dashboard (reporting.selectors.dashboard): ledger sums by month and up to a date.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0005_forecast"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["budget_line", "kind", "created_at", "amount"],
                name="ledger_line_kind_created",
            ),
        ),
    ]
