"""The supplier's invoice number compared in a normalised form (issue 11, item 3).

Adds `supplier_number_key` to invoices (and their history), fills it for the
invoices already entered, and moves the unique constraint of a supplier's live
invoice numbers from the raw number to the key: "f2026 1187" after "F2026-1187"
is then the same invoice.

Invoices entered twice before this migration (two live invoices of a supplier
whose numbers differ only in format) cannot both hold the key: the oldest keeps
it, each later one gets its key followed by "#" and its id, and the migration
names them, so that the accounting assistant cancels the duplicate. No state or
amount is changed here.
"""

from django.conf import settings
from django.db import migrations, models

from procurement.supplier_numbers import supplier_number_key

BATCH = 2000


def duplicate_key(key: str, pk: int) -> str:
    """The key kept by a live duplicate found at migration time: unique, and never typed."""
    return f"{key}#{pk}"


def fill_keys(apps, schema_editor):
    Invoice = apps.get_model("procurement", "Invoice")
    HistoricalInvoice = apps.get_model("procurement", "HistoricalInvoice")
    seen: set[tuple[int, str]] = set()
    duplicates = []
    batch = []
    rows = Invoice.objects.order_by("pk").only("pk", "supplier_id", "supplier_number", "state")
    for invoice in rows.iterator(chunk_size=BATCH):
        key = supplier_number_key(invoice.supplier_number)
        if invoice.state != "cancelled":
            if (invoice.supplier_id, key) in seen:
                duplicates.append(invoice)
                key = duplicate_key(key, invoice.pk)
            else:
                seen.add((invoice.supplier_id, key))
        invoice.supplier_number_key = key
        batch.append(invoice)
        if len(batch) >= BATCH:
            Invoice.objects.bulk_update(batch, ["supplier_number_key"])
            batch = []
    if batch:
        Invoice.objects.bulk_update(batch, ["supplier_number_key"])
    # The history's rows read as the invoice did: the key of their number.
    batch = []
    history = HistoricalInvoice.objects.order_by("history_id").only("history_id", "supplier_number")
    for row in history.iterator(chunk_size=BATCH):
        row.supplier_number_key = supplier_number_key(row.supplier_number)
        batch.append(row)
        if len(batch) >= BATCH:
            HistoricalInvoice.objects.bulk_update(batch, ["supplier_number_key"])
            batch = []
    if batch:
        HistoricalInvoice.objects.bulk_update(batch, ["supplier_number_key"])
    if duplicates:
        print(  # read by whoever runs the migration
            "\n  Invoices entered twice under one supplier's number (cancel the duplicate): "
            + ", ".join(f"{invoice.pk} ({invoice.supplier_number})" for invoice in duplicates)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("budgets", "0006_dashboard_ledger_line_kind_created"),
        ("procurement", "0006_invoices_dashboard_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalinvoice",
            name="supplier_number_key",
            field=models.CharField(
                db_index=True,
                default="",
                editable=False,
                max_length=120,
                verbose_name="supplier's invoice number (compared)",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="invoice",
            name="supplier_number_key",
            field=models.CharField(
                db_index=True,
                default="",
                editable=False,
                max_length=120,
                verbose_name="supplier's invoice number (compared)",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(model_name="invoice", name="invoice_supplier_number_unique"),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "cancelled"), _negated=True),
                fields=("supplier", "supplier_number_key"),
                name="invoice_supplier_number_key_unique",
            ),
        ),
    ]
