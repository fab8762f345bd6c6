"""The demo budget (budgets.demo): three years built through the services, the same every run."""

import io
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from budgets.demo import demo_plan, seed_demo_budget
from budgets.models import (
    BudgetLine,
    BudgetRevision,
    Chapter,
    CostCentre,
    FiscalYear,
    LedgerEntry,
    NatureAccount,
    Project,
    RevisionItem,
    Section,
    Transfer,
)
from dsi_finance.roles import Role
from tests.factories import FiscalYearFactory, UserFactory

pytestmark = pytest.mark.slow  # seeds the whole demo budget

MODELS = (
    Chapter,
    NatureAccount,
    CostCentre,
    Project,
    FiscalYear,
    BudgetLine,
    BudgetRevision,
    RevisionItem,
    Transfer,
    LedgerEntry,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo budget seeded once for the module (it takes a second or two), rolled back after.

    Each test runs in a savepoint inside this transaction, so what a test adds is undone.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        chef = UserFactory(username="chef", roles=[Role.PILOTAGE])
        directeur = UserFactory(username="directeur", roles=[Role.DIRECTION])
        today = timezone.localdate()
        result = seed_demo_budget(preparer=chef, director=directeur, today=today)
        yield {"result": result, "today": today, "chef": chef, "directeur": directeur}
        transaction.set_rollback(True)


@pytest.fixture
def current(seeded, db) -> FiscalYear:
    return FiscalYear.objects.get(year=seeded["today"].year)


def test_the_plan_is_the_same_in_every_process_whatever_the_hash_seed():
    script = (
        "import django, hashlib; django.setup(); from datetime import date; "
        "from budgets.demo import demo_plan; "
        "print(hashlib.sha256(repr(demo_plan(date(2026, 11, 29))).encode()).hexdigest())"
    )
    env = {"DJANGO_SETTINGS_MODULE": "dsi_finance.settings", "DEBUG": "1"}
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "PYTHONHASHSEED": seed, "PATH": ""},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(digests) == 1
    assert demo_plan(date(2026, 11, 29)) == demo_plan(date(2026, 11, 29))


def test_the_plan_gives_past_years_other_figures_than_the_current_year():
    past, previous, current = demo_plan(date(2026, 11, 29))
    assert (past.year, previous.year, current.year) == (2024, 2025, 2026)
    amounts = {line.code: line.amount for line in current.lines}
    changed = [line for line in previous.lines if amounts.get(line.code) != line.amount]
    assert len(changed) > len(previous.lines) // 2


def test_seeding_builds_about_150_lines_in_the_current_year_over_both_sections(seeded, current):
    lines = BudgetLine.objects.filter(fiscal_year=current)
    assert 140 <= lines.count() <= 160
    by_section = Counter(lines.values_list("section", flat=True))
    assert by_section[Section.OPERATING] >= 60
    assert by_section[Section.INVESTMENT] >= 40
    assert set(lines.values_list("nature_account__chapter__code", flat=True)) == {
        "011",
        "65",
        "20",
        "21",
        "23",
    }
    assert lines.filter(project__isnull=False).values("project").distinct().count() >= 5
    assert lines.values("cost_centre").distinct().count() >= 6


def test_the_current_budget_is_a_few_hundred_million_francs_in_realistic_amounts(seeded, current):
    lines = BudgetLine.objects.filter(fiscal_year=current)
    total = lines.aggregate(total=Sum("opened"))["total"]
    assert 300_000_000 <= total <= 1_500_000_000
    for line in lines:
        assert 100_000 <= line.opened <= 100_000_000, line.code
        assert line.committed == line.liquidated == 0
    labels = " ".join(lines.values_list("label", flat=True))
    for word in ("Microsoft", "Oracle", "VMware", "OPT-NC", "Gondwana", "Azure", "EDR"):
        assert word in labels


def test_the_current_year_is_open_with_its_bp_and_dm1_voted_by_the_director(seeded, current):
    assert current.state == FiscalYear.State.OPEN
    revisions = {r.kind: r for r in BudgetRevision.objects.filter(fiscal_year=current)}
    assert set(revisions) == {"BP", "DM1"}
    bp, dm1 = revisions["BP"], revisions["DM1"]
    for revision in (bp, dm1):
        assert revision.state == BudgetRevision.State.VOTED
        assert revision.vote_reference.startswith("Délibération n° ")
        assert revision.created_by == seeded["chef"]
        assert revision.submitted_by == revision.voted_by == seeded["directeur"]
    assert bp.vote_date == date(current.year - 1, 12, 11)
    assert bp.vote_date < dm1.vote_date <= seeded["today"]


def test_the_dm1_raises_some_lines_cuts_others_and_opens_a_few_new_ones(seeded, current):
    dm1 = BudgetRevision.objects.get(fiscal_year=current, kind="DM1")
    amounts = list(dm1.items.values_list("amount", flat=True))
    assert sum(1 for a in amounts if a > 0) >= 5
    assert sum(1 for a in amounts if a < 0) >= 5
    new_lines = BudgetLine.objects.filter(fiscal_year=current).exclude(
        revision_items__revision__kind="BP"
    )
    assert 3 <= new_lines.count() <= 10
    assert all(item.justification for item in dm1.items.all())
    for line in new_lines:
        assert line.revision_items.get().revision == dm1


def test_the_two_previous_years_are_closed_with_bp_dm1_and_dm2_voted_in_order(seeded, db):
    year = seeded["today"].year
    for past in (year - 2, year - 1):
        fiscal_year = FiscalYear.objects.get(year=past)
        assert fiscal_year.state == FiscalYear.State.CLOSED
        revisions = BudgetRevision.objects.filter(fiscal_year=fiscal_year).order_by("vote_date")
        assert [r.kind for r in revisions] == ["BP", "DM1", "DM2"]
        assert {r.state for r in revisions} == {BudgetRevision.State.VOTED}
        assert len({r.vote_reference for r in revisions}) == 3
        assert 80 <= fiscal_year.lines.count() <= 160
        dm_amounts = RevisionItem.objects.filter(
            revision__fiscal_year=fiscal_year, revision__kind__in=["DM1", "DM2"]
        ).values_list("amount", flat=True)
        assert min(dm_amounts) < 0 < max(dm_amounts)
        assert not fiscal_year.transfers.filter(state=Transfer.State.REQUESTED).exists()


def test_every_line_opened_equals_its_voted_items_plus_its_approved_transfers(seeded, db):
    expected = defaultdict(int)
    voted = RevisionItem.objects.filter(revision__state=BudgetRevision.State.VOTED)
    for line_id, amount in voted.values_list("budget_line_id", "amount"):
        expected[line_id] += amount
    for transfer in Transfer.objects.filter(state=Transfer.State.APPROVED):
        expected[transfer.source_id] -= transfer.amount
        expected[transfer.target_id] += transfer.amount
    lines = dict(BudgetLine.objects.values_list("pk", "opened"))
    assert len(lines) == seeded["result"].lines
    assert lines == dict(expected)


def test_approved_transfers_are_posted_with_the_transfer_as_their_document(seeded, current):
    approved = Transfer.objects.filter(state=Transfer.State.APPROVED)
    assert approved.values("fiscal_year").distinct().count() == 3
    transfer_type = ContentType.objects.get_for_model(Transfer)
    for transfer in approved:
        entries = LedgerEntry.objects.filter(document_type=transfer_type, document_id=transfer.pk)
        assert sorted((e.budget_line_id, e.kind, e.amount) for e in entries) == sorted(
            [
                (transfer.source_id, "transfer_out", -transfer.amount),
                (transfer.target_id, "transfer_in", transfer.amount),
            ]
        )
        assert transfer.requested_by == seeded["chef"]
        assert transfer.decided_by == seeded["directeur"]
    states = Counter(current.transfers.values_list("state", flat=True))
    assert states[Transfer.State.REQUESTED] == 1
    assert states[Transfer.State.REJECTED] == 1
    assert current.transfers.get(state=Transfer.State.REJECTED).decision_note


def test_votes_and_transfers_are_posted_on_their_planned_dates(seeded, db):
    """The ledger follows the plan: last year's "same date" figures read its credits."""
    noumea = ZoneInfo("Pacific/Noumea")
    revision_type = ContentType.objects.get_for_model(BudgetRevision)
    transfer_type = ContentType.objects.get_for_model(Transfer)
    past = FiscalYear.objects.get(year=seeded["today"].year - 1)
    for revision in BudgetRevision.objects.filter(fiscal_year=past):
        entries = LedgerEntry.objects.filter(document_type=revision_type, document_id=revision.pk)
        days = {entry.created_at.astimezone(noumea).date() for entry in entries}
        assert days == {revision.vote_date}, revision.kind
        assert revision.voted_at.astimezone(noumea).date() == revision.vote_date
    planned = {t.reason: t for t in demo_plan(seeded["today"])[1].transfers}
    for transfer in past.transfers.all():
        entries = LedgerEntry.objects.filter(document_type=transfer_type, document_id=transfer.pk)
        days = {entry.created_at.astimezone(noumea).date() for entry in entries}
        assert days == {planned[transfer.reason].requested_on + timedelta(days=1)}
    assert not LedgerEntry.objects.filter(created_at__gt=timezone.now()).exists()


def test_check_ledger_finds_no_difference_after_seeding(seeded, db):
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert f"{seeded['result'].lines} lignes" in out.getvalue()
    assert "Grand livre conforme" in out.getvalue()


def test_seeding_twice_creates_nothing_twice(seeded, db):
    before = counts()
    again = seed_demo_budget(
        preparer=seeded["chef"], director=seeded["directeur"], today=seeded["today"]
    )
    assert again.created == []
    assert again.existing == [
        seeded["today"].year - 2,
        seeded["today"].year - 1,
        seeded["today"].year,
    ]
    assert counts() == before


def test_a_year_that_already_exists_is_left_alone_and_the_others_are_seeded(seeded, db):
    FiscalYearFactory(year=2039, state=FiscalYear.State.PREPARATION)
    result = seed_demo_budget(
        preparer=seeded["chef"], director=seeded["directeur"], today=date(2040, 3, 2)
    )
    assert result.created == [2038, 2040]
    assert result.existing == [2039]
    assert not BudgetLine.objects.filter(fiscal_year__year=2039).exists()
    assert FiscalYear.objects.get(year=2039).state == FiscalYear.State.PREPARATION
    assert FiscalYear.objects.get(year=2038).state == FiscalYear.State.CLOSED


def test_a_dm1_seeded_early_in_the_year_is_dated_that_day_not_in_the_future(seeded, db):
    seed_demo_budget(preparer=seeded["chef"], director=seeded["directeur"], today=date(2041, 2, 10))
    assert BudgetRevision.objects.get(fiscal_year__year=2041, kind="DM1").vote_date == date(
        2041, 2, 10
    )
    assert BudgetRevision.objects.get(fiscal_year__year=2040, kind="DM1").vote_date == date(
        2040, 6, 26
    )


def test_seeding_as_someone_who_may_not_prepare_a_budget_changes_nothing(seeded, db):
    acheteur = UserFactory(username="acheteur", roles=[Role.ACHAT])
    before = counts()
    with pytest.raises(PermissionDenied):
        seed_demo_budget(preparer=acheteur, director=seeded["directeur"], today=date(2045, 5, 5))
    assert counts() == before
