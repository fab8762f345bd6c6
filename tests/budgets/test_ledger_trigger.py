"""The ledger is append-only (DESIGN.md, rule 1): in Python on every database, and
in PostgreSQL at the database level, whoever sends the SQL (the tests connect as a
superuser: the trigger binds it too).

The statements run inside a savepoint (transaction.atomic) so that the refused
statement rolls back cleanly and the row can be read again afterwards.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from budgets import services
from budgets.models import LedgerEntry
from tests.factories import BudgetLineFactory, fund

pytestmark = pytest.mark.django_db

TRIGGER_MESSAGE = "Le grand livre est en ajout seul : {operation} refusé sur budgets_ledgerentry."


@pytest.fixture
def entry(chef):
    line = BudgetLineFactory()
    fund({line: 1_000_000})
    services.credits_commit(user=chef, document=line, amounts={line: 250_000})
    return LedgerEntry.objects.get(budget_line=line, kind="commit")


def row(entry: LedgerEntry) -> tuple:
    return LedgerEntry.objects.filter(pk=entry.pk).values_list(
        "budget_line", "kind", "amount", "available_after", "document_id", "user", "reason"
    )[0]


def test_saving_an_entry_again_is_refused_and_changes_nothing(entry):
    before = row(entry)
    entry.amount = 1
    with translation.override("fr"), pytest.raises(ValidationError) as raised:
        entry.save()
    assert raised.value.messages == [
        "Une écriture du grand livre n’est jamais modifiée : passez une écriture de "
        "contrepassation."
    ]
    assert row(entry) == before


def test_deleting_an_entry_is_refused_and_changes_nothing(entry):
    before = row(entry)
    with translation.override("fr"), pytest.raises(ValidationError) as raised:
        entry.delete()
    assert raised.value.messages == [
        "Une écriture du grand livre n’est jamais supprimée : passez une écriture de "
        "contrepassation."
    ]
    assert row(entry) == before
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("operation", "sql"),
    [
        ("UPDATE", "UPDATE budgets_ledgerentry SET amount = 1 WHERE id = %s"),
        ("UPDATE", "UPDATE budgets_ledgerentry SET amount = amount WHERE id = %s"),
        ("UPDATE", "UPDATE budgets_ledgerentry SET reason = 'corrigé' WHERE id >= %s"),
        ("DELETE", "DELETE FROM budgets_ledgerentry WHERE id = %s"),
        ("DELETE", "DELETE FROM budgets_ledgerentry WHERE id >= %s"),
    ],
)
def test_raw_sql_cannot_change_or_delete_a_ledger_row(postgres_only, entry, operation, sql):
    before = row(entry)
    count = LedgerEntry.objects.count()

    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])

    assert TRIGGER_MESSAGE.format(operation=operation) in str(raised.value)
    assert row(entry) == before
    assert LedgerEntry.objects.count() == count


def test_raw_sql_cannot_empty_the_ledger_table(postgres_only, entry):
    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM budgets_ledgerentry")
    assert TRIGGER_MESSAGE.format(operation="DELETE") in str(raised.value)
    assert LedgerEntry.objects.count() == 2


def test_queryset_update_and_delete_fail_on_postgresql(postgres_only, entry):
    before = row(entry)

    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(available_after=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.all().delete()

    assert row(entry) == before
    assert LedgerEntry.objects.count() == 2


def test_the_ledger_still_takes_new_entries(postgres_only, entry, chef):
    line = entry.budget_line
    (released,) = [services.credits_release(user=chef, document=line, line=line, amount=50_000)]
    assert (released.kind, released.amount, released.available_after) == (
        "release",
        -50_000,
        800_000,
    )
    line.refresh_from_db()
    assert line.committed == 200_000
