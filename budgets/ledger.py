"""Posting to the ledger: the one place where a line's credits change.

Every function here expects to run inside `transaction.atomic()` with the lines
it touches already locked (`lock_lines`): the services in budgets.services do
both. Posting writes the immutable entry and moves the cached total of the line
in the same transaction (DESIGN.md, rules 1 and 3).
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from .models import BudgetLine, LedgerEntry


def lock_lines(line_ids: Iterable[int]) -> dict[int, BudgetLine]:
    """Lock the lines' rows, always in primary-key order, and return them by id.

    One order for everyone means two transactions locking overlapping sets of
    lines wait for each other instead of deadlocking. `of=("self",)` keeps the
    lock on the budget line rows only, not on the joined nomenclature.
    """
    ids = sorted(set(line_ids))
    lines = (
        BudgetLine.objects.select_for_update(of=("self",))
        .select_related("fiscal_year", "nature_account__chapter")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    return {line.pk: line for line in lines}


def post_entries(
    movements: Iterable[tuple[BudgetLine, str, int]],
    *,
    document: Model,
    user,
    reason: str = "",
) -> list[LedgerEntry]:
    """Record (line, kind, signed amount) movements and move the lines' cached totals.

    The lines must be locked by the caller. Each entry carries the line's
    available amount after it, so that a line's ledger reads like a bank statement.
    """
    document_type = ContentType.objects.get_for_model(document, for_concrete_model=False)
    entries = []
    touched: dict[int, BudgetLine] = {}
    for line, kind, amount in movements:
        bucket, _sign = LedgerEntry.BUCKET[kind]
        setattr(line, bucket, getattr(line, bucket) + amount)
        touched[line.pk] = line
        entries.append(
            LedgerEntry(
                budget_line=line,
                kind=kind,
                amount=amount,
                available_after=line.available,
                document_type=document_type,
                document_id=document.pk,
                user=user,
                reason=reason,
            )
        )
    LedgerEntry.objects.bulk_create(entries)
    for line in touched.values():
        BudgetLine.objects.filter(pk=line.pk).update(
            opened=line.opened, committed=line.committed, liquidated=line.liquidated
        )
    return entries


# One statement checks and consumes: the row lock the UPDATE takes makes a concurrent
# commitment on the same line wait, then re-evaluate the WHERE clause on the row as
# the first one left it (PostgreSQL's READ COMMITTED re-check), so no franc is taken
# twice. Only for an open year controlled line by line; anything else takes the
# full path, which locks, explains a shortage and handles overrides.
_COMMIT_WITHIN_AVAILABLE = """
UPDATE budgets_budgetline
   SET committed = committed + %s
 WHERE id = %s
   AND opened - committed >= %s
   AND fiscal_year_id IN (
       SELECT id FROM budgets_fiscalyear WHERE state = 'open' AND control_level = 'line'
   )
RETURNING opened - committed
"""

_INSERT_ENTRY = """
INSERT INTO budgets_ledgerentry
       (budget_line_id, kind, amount, available_after, document_type_id, document_id,
        user_id, created_at, reason)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id
"""


def commit_within_available(
    line_id: int, amount: int, *, document: Model, user
) -> LedgerEntry | None:
    """The fast path of a one-line commitment that fits: one guarded UPDATE, then the
    entry. Returns None, having changed nothing, when the line lacks credits or is
    not under line-level control of an open year; the caller then takes the full,
    locking path (budgets.services.credits_commit), which says why."""
    with connection.cursor() as cursor:
        cursor.execute(_COMMIT_WITHIN_AVAILABLE, [amount, line_id, amount])
        row = cursor.fetchone()
    if row is None:
        return None
    # The entry in plain SQL too: this path is the hot one of every approval, and the
    # ORM's insert machinery costs more than the statement itself.
    entry = LedgerEntry(
        budget_line_id=line_id,
        kind=LedgerEntry.Kind.COMMIT,
        amount=amount,
        available_after=row[0],
        document_type=ContentType.objects.get_for_model(document, for_concrete_model=False),
        document_id=document.pk,
        user_id=user.pk,
        created_at=timezone.now(),
        reason="",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_ENTRY,
            [
                entry.budget_line_id,
                entry.kind,
                entry.amount,
                entry.available_after,
                entry.document_type.pk,
                entry.document_id,
                entry.user_id,
                connection.ops.adapt_datetimefield_value(entry.created_at),
                entry.reason,
            ],
        )
        entry.pk = cursor.fetchone()[0]
    entry._state.adding = False
    return entry
