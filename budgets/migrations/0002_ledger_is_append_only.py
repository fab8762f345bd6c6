"""The ledger refuses UPDATE and DELETE at the database level (DESIGN.md, rule 1).

PostgreSQL only: SQLite, the embedded default, relies on LedgerEntry.save() and
delete(). TRUNCATE is left alone on purpose: it is what the test suite's flush
uses, and no application code issues it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION budgets_ledger_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Le grand livre est en ajout seul : %% refusé sur budgets_ledgerentry. Passez une écriture de contrepassation.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER budgets_ledger_no_update_or_delete
    BEFORE UPDATE OR DELETE ON budgets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION budgets_ledger_is_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS budgets_ledger_no_update_or_delete ON budgets_ledgerentry;
DROP FUNCTION IF EXISTS budgets_ledger_is_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("budgets", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
