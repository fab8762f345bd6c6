"""The fast path of a one-line commitment: the same entry as the full path, read back intact."""

import pytest

from budgets import services
from budgets.models import LedgerEntry
from tests.factories import BudgetLineFactory, fund

pytestmark = pytest.mark.django_db


def test_a_commitment_that_fits_is_recorded_whole_and_reads_back_as_written(chef):
    line = BudgetLineFactory()
    revision = fund({line: 10_000})
    result = services.credits_commit(user=chef, document=revision, amounts={line: 2_500})
    (entry,) = result.entries
    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert (stored.kind, stored.amount, stored.available_after, stored.user, stored.reason) == (
        "commit",
        2_500,
        7_500,
        chef,
        "",
    )
    assert stored.document == revision
    assert stored.created_at == entry.created_at
    line.refresh_from_db()
    assert (line.opened, line.committed, line.available) == (10_000, 2_500, 7_500)


def test_a_commitment_that_does_not_fit_changes_nothing_and_says_why(chef):
    line = BudgetLineFactory()
    revision = fund({line: 1_000})
    with pytest.raises(services.CreditsShortError) as refused:
        services.credits_commit(user=chef, document=revision, amounts={line: 1_001})
    assert line.code in refused.value.messages[0]
    line.refresh_from_db()
    assert line.committed == 0
    assert not LedgerEntry.objects.filter(kind="commit").exists()


def test_a_year_controlled_by_chapter_never_takes_the_line_path(chef, directeur):
    """The line has room but its chapter does not: the chapter decides."""
    line, neighbour = BudgetLineFactory(), BudgetLineFactory()
    assert line.nature_account.chapter == neighbour.nature_account.chapter
    year = line.fiscal_year
    revision = fund({line: 1_000, neighbour: 1_000})
    services.credits_commit(
        user=directeur, document=revision, amounts={neighbour: 1_500}, override_reason="Urgence"
    )
    year.control_level = "chapter"
    year.save()
    with pytest.raises(services.CreditsShortError) as refused:
        services.credits_commit(user=chef, document=revision, amounts={line: 800})
    assert "chapitre 011" in refused.value.messages[0]
    line.refresh_from_db()
    assert line.committed == 0
