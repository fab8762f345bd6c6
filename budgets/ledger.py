"""Posting to the ledger: the one place where a line's credits change.

Every function here expects to run inside `transaction.atomic()` with the lines
it touches already locked (`lock_lines`): the services in budgets.services do
both. Posting writes the immutable entry and moves the cached total of the line
in the same transaction (DESIGN.md, rules 1 and 3).
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

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
