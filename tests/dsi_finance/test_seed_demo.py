"""seed_demo: one user per role, then the demo budget; idempotent, refused outside DEBUG unless forced."""

import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django.utils.formats import date_format

from budgets.models import BudgetLine, BudgetRevision, FiscalYear, LedgerEntry, Transfer
from dsi_finance.demo import DEMO_USERS, seed_demo_users
from reporting.demo import seed_demo_monthly_report
from reporting.models import Report
from reporting.selectors.dashboard import dashboard, ledger_figures
from tests.factories import FiscalYearFactory
from tests.reporting.figures_agree import assert_figures_agree

pytestmark = pytest.mark.django_db

EXPECTED = {
    "chef": "pilotage",
    "acheteur": "achat",
    "comptable": "comptabilite",
    "directeur": "direction",
    "controleur": "controle",
}


def seed(*args, **settings_overrides) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def budget_without_purchasing(request, monkeypatch):
    """The demo's year of purchasing takes half a minute (tests/procurement/test_demo.py
    checks it): the tests about users and the budget skip it, except the one that runs
    exactly what `make run` runs."""
    if request.node.name != "test_make_run_loads_the_demo_whose_figures_agree_everywhere":
        monkeypatch.setattr("procurement.demo.seed_demo_procurement", lambda **kwargs: None)


# The tests that let seed_demo build last month's report (a PDF: seconds of work).
WITH_REPORTS = {
    "test_make_run_loads_the_demo_whose_figures_agree_everywhere",
    "test_seed_demo_loads_the_demo_budget_prepared_by_chef_and_voted_by_directeur",
}


@pytest.fixture(autouse=True)
def reports_in_a_temporary_folder(request, monkeypatch, settings, tmp_path):
    """The report files under tmp_path; the reports skipped where they are not the point."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if request.node.name not in WITH_REPORTS:
        monkeypatch.setattr("reporting.demo.seed_demo_monthly_report", lambda **kwargs: [])


@pytest.fixture
def users_only(monkeypatch):
    """For the tests about users alone: skip the budget, seconds of work the tests below check."""
    monkeypatch.setattr(
        "dsi_finance.management.commands.seed_demo.seed_demo_budget", lambda **kwargs: None
    )


def test_seed_demo_creates_one_user_per_role_with_the_documented_password(settings, users_only):
    settings.DEBUG = True
    seed()
    users = get_user_model().objects.filter(username__in=EXPECTED)
    assert {u.username: [g.name for g in u.groups.all()] for u in users} == {
        name: [role] for name, role in EXPECTED.items()
    }
    for user in users:
        assert user.check_password(settings.DEMO_PASSWORD)
        assert user.is_active and not user.is_staff


def budget_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (FiscalYear, BudgetLine, BudgetRevision, Transfer, LedgerEntry)
    )


def test_seed_demo_twice_creates_nothing_twice(settings):
    settings.DEBUG = True
    seed()
    budget = budget_counts()
    second = seed()
    User = get_user_model()
    assert User.objects.count() == len(DEMO_USERS)
    for user in User.objects.all():
        assert user.groups.count() == 1
    assert "Utilisateur créé" not in second
    assert "Utilisateur déjà présent : chef" in second
    assert budget_counts() == budget
    year = timezone.localdate().year
    assert f"Exercice {year} déjà présent : laissé tel quel." in second
    assert "Budget de démonstration créé" not in second


def test_seed_demo_loads_the_demo_budget_prepared_by_chef_and_voted_by_directeur(settings):
    settings.DEBUG = True
    output = seed()
    year = timezone.localdate().year
    assert f"Budget de démonstration créé (exercices {year - 2}, {year - 1}, {year})" in output
    assert dict(FiscalYear.objects.values_list("year", "state")) == {
        year - 2: "closed",
        year - 1: "closed",
        year: "open",
    }
    revisions = BudgetRevision.objects.all()
    assert {(r.created_by.username, r.voted_by.username) for r in revisions} == {
        ("chef", "directeur")
    }
    assert sorted(revisions.filter(fiscal_year__year=year).values_list("kind", flat=True)) == [
        "BP",
        "DM1",
    ]
    assert 140 <= BudgetLine.objects.filter(fiscal_year__year=year).count() <= 160
    last_month_report_is_built_as_the_schedule_does(output)
    # Each step said what it loaded, in French, as it went; the summary counts the database.
    for fiscal_year in FiscalYear.objects.all():
        revisions = "BP, DM1 et DM2 votés" if fiscal_year.year < year else "BP et DM1 votés"
        lines = BudgetLine.objects.filter(fiscal_year=fiscal_year).count()
        assert f"Budget {fiscal_year.year} : {lines} lignes, {revisions}" in output
    assert output.splitlines()[-1] == (
        f"Données de démonstration à jour : 3 exercices, {BudgetLine.objects.count()} lignes "
        "budgétaires, 0 demande d’achat, 0 commande, 0 facture, 2 rapports."
    )


def last_month_report_is_built_as_the_schedule_does(output: str) -> None:
    """Last month's monthly execution report, XLSX and PDF, requested by nobody (the
    schedule) and done, its files stored; seeding again builds no other."""
    today = timezone.localdate()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    reports = Report.objects.order_by("pk")
    assert [(r.kind, r.format, r.parameters, r.requested_by, r.status) for r in reports] == [
        ("monthly_execution", fmt, {"year": year, "month": month}, None, "done")
        for fmt in ("xlsx", "pdf")
    ]
    for report in reports:
        assert report.file and report.file_size > 1000
        assert report.file.storage.exists(report.file.name)
    with translation.override("fr"):
        month_name = date_format(date(year, month, 1), "F Y")
    assert f"Rapport d’exécution budgétaire de {month_name} construit (PDF)." in output
    assert seed_demo_monthly_report() == []
    assert Report.objects.count() == 2


# `make run` as on Wednesday 17 June 2026 at 10:00 in Noumea (23:00 UTC the day before):
# five and a half months of this year's purchasing, and a last year to compare with at
# the same date; a fixed day, so that every assertion below holds whatever today is.
MAKE_RUN_AT = datetime(2026, 6, 16, 23, 0, tzinfo=UTC)
MAKE_RUN_TODAY = date(2026, 6, 17)


@pytest.mark.slow
def test_make_run_loads_the_demo_whose_figures_agree_everywhere(settings):
    settings.DEBUG = True
    with time_machine.travel(MAKE_RUN_AT, tick=True):
        assert timezone.localdate() == MAKE_RUN_TODAY
        make_run_loads_the_demo_whose_figures_agree_everywhere()


def make_run_loads_the_demo_whose_figures_agree_everywhere() -> None:
    output = seed("--if-empty")
    assert "Utilisateur créé : chef" in output
    assert "Budget de démonstration créé" in output
    assert FiscalYear.objects.count() == 3
    # ... and a year of purchasing: last year's whole, this year's so far.
    from procurement.models import Invoice, PurchaseRequest

    for year in (MAKE_RUN_TODAY.year - 1, MAKE_RUN_TODAY.year):
        assert PurchaseRequest.objects.filter(fiscal_year__year=year).exists(), year
        assert Invoice.objects.filter(fiscal_year__year=year).exists(), year
    call_command("check_ledger", stdout=io.StringIO())
    for year in (MAKE_RUN_TODAY.year - 1, MAKE_RUN_TODAY.year):
        requests = PurchaseRequest.objects.filter(fiscal_year__year=year).count()
        invoices = Invoice.objects.filter(fiscal_year__year=year).count()
        said = rf"^Achats {year} : {requests} demandes?, .* {invoices} factures?, "
        assert re.search(said, output, re.MULTILINE), output
    summary = output.splitlines()[-1]
    assert summary.startswith("Données de démonstration à jour : 3 exercices, ")
    assert f"{PurchaseRequest.objects.count()} demandes d’achat" in summary
    assert f"{Invoice.objects.count()} factures, 2 rapports." in summary
    last_year_has_a_year_of_purchasing_closed_with_it(MAKE_RUN_TODAY)
    last_month_report_is_built_as_the_schedule_does(output)
    # The same seeded demo, read everywhere (one seed: it takes minutes).
    assert_figures_agree()


def last_year_has_a_year_of_purchasing_closed_with_it(today: date) -> None:
    """Last year's purchasing was played in its own dates before its closing, so the
    dashboard compares this year with it; the year before has a budget only."""
    from procurement.models import Commitment, PurchaseRequest

    noumea = ZoneInfo("Pacific/Noumea")
    last = FiscalYear.objects.get(year=today.year - 1)
    assert last.state == "closed"
    assert 120 <= PurchaseRequest.objects.filter(fiscal_year=last).count() <= 200
    assert not Commitment.objects.filter(fiscal_year=last, state="open").exists()
    entries = LedgerEntry.objects.filter(
        budget_line__fiscal_year=last, kind__in=("commit", "liquidate", "release")
    )
    days = [at.astimezone(noumea).date() for at in entries.values_list("created_at", flat=True)]
    assert min(days) >= date(last.year, 1, 1) and max(days) == date(last.year, 12, 31)
    assert len({day.month for day in days}) == 12
    assert not LedgerEntry.objects.filter(
        budget_line__fiscal_year__year=today.year - 2, kind="liquidate"
    ).exists()
    board = dashboard(actor=get_user_model().objects.get(username="directeur"), today=today)
    curve = [point.last_year for point in board.months]
    opened = ledger_figures(fiscal_year=last).opened
    assert curve == sorted(curve) and len(set(curve)) >= 11  # liquidations every month
    assert 0.75 * opened <= curve[-1] <= 0.92 * opened  # December: most credits used
    for key in ("opened", "committed", "liquidated", "execution_rate"):
        assert board.figures[key].last_year > 0, key


def test_seed_demo_if_empty_loads_the_budget_for_demo_users_seeded_before(settings):
    settings.DEBUG = True
    seed_demo_users()
    output = seed("--if-empty")
    assert "données de démonstration non chargées" in output
    assert "Budget de démonstration créé" in output
    assert FiscalYear.objects.filter(state="open").count() == 1


def test_seed_demo_if_empty_leaves_existing_fiscal_years_alone(settings):
    settings.DEBUG = True
    seed_demo_users()
    FiscalYearFactory(year=2031, state="preparation")
    output = seed("--if-empty")
    assert "Des exercices existent déjà : budget de démonstration non chargé." in output
    assert list(FiscalYear.objects.values_list("year", flat=True)) == [2031]
    assert not BudgetLine.objects.exists()


def test_seed_demo_takes_the_current_year_in_noumea_not_in_utc(settings):
    settings.DEBUG = True
    # 31 December 2026 at 14:30 UTC is already 1 January 2027 in Noumea (UTC+11).
    with time_machine.travel(datetime(2026, 12, 31, 14, 30, tzinfo=UTC), tick=False):
        seed()
    assert sorted(FiscalYear.objects.values_list("year", flat=True)) == [2025, 2026, 2027]
    dm1 = BudgetRevision.objects.get(fiscal_year__year=2027, kind="DM1")
    assert dm1.vote_date == datetime(2027, 1, 1).date()


def test_seed_demo_keeps_a_password_that_was_changed(settings, users_only):
    settings.DEBUG = True
    seed()
    chef = get_user_model().objects.get(username="chef")
    chef.set_password("choisi-par-marie-2026")
    chef.save()
    seed()
    chef.refresh_from_db()
    assert chef.check_password("choisi-par-marie-2026")


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuse de tourner avec DEBUG désactivé"):
        seed()
    assert not get_user_model().objects.exists()


def test_seed_demo_runs_with_debug_off_when_forced(settings, users_only):
    settings.DEBUG = False
    seed("--force")
    assert get_user_model().objects.filter(username__in=EXPECTED).count() == 5


def test_seed_demo_if_empty_leaves_a_used_database_alone(settings, chef):
    settings.DEBUG = True
    output = seed("--if-empty")
    assert "non chargées" in output
    assert not get_user_model().objects.filter(username="directeur").exists()
    assert "Budget de démonstration non chargé : il faut les utilisateurs chef" in output
    assert not FiscalYear.objects.exists()
