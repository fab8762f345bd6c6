"""The invoice list's orders read from indexes at a million invoices (helper "invoices"):
every year newest received first, and the "to liquidate" and "late for payment" tabs
oldest due first (partial indexes holding only their tab's invoices)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("procurement", "0003_orders_order_cancellation"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["-received_on", "-id"], name="invoice_received_desc"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("state__in", ("entered", "to_validate"))),
                fields=["due_on", "id"],
                name="invoice_to_liquidate_due",
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(
                    models.Q(("state", "cancelled"), _negated=True), ("payment_date__isnull", True)
                ),
                fields=["due_on", "id"],
                name="invoice_unpaid_due",
            ),
        ),
    ]
