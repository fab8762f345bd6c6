"""The TGC rates in force in New Caledonia since 1 October 2018 (reference data, editable in the admin)."""

from datetime import date
from decimal import Decimal

from django.db import migrations

TGC_START = date(2018, 10, 1)
RATES = [
    ("22", "Taux supérieur"),
    ("11", "Taux normal"),
    ("6", "Taux réduit spécifique"),
    ("3", "Taux réduit"),
    ("0", "Exonéré"),
]


def add_rates(apps, schema_editor):
    TaxRate = apps.get_model("procurement", "TaxRate")
    for rate, label in RATES:
        TaxRate.objects.get_or_create(
            rate=Decimal(rate), valid_from=TGC_START, defaults={"label": label}
        )


class Migration(migrations.Migration):
    dependencies = [("procurement", "0001_initial")]

    operations = [migrations.RunPython(add_rates, migrations.RunPython.noop)]
