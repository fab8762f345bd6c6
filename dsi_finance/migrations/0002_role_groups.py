"""Creates the five role groups with their capabilities (dsi_finance/roles.py).

When roles.py changes, add a migration with the same RunPython: it sets every
group to exactly what roles.py says.
"""

from django.db import migrations

from dsi_finance.roles import sync_role_groups


def create_role_groups(apps, schema_editor):
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("dsi_finance", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
