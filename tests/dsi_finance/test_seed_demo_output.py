"""What seed_demo says while it works (a minute or two): one French line per step with
its counts, each flushed as it ends, a summary counted in the database, and nothing
with -v0. The seeding itself is stood in for here (tests/dsi_finance/test_seed_demo.py
runs the real one, slowly, and checks its lines too)."""

import io

import pytest
from django.core.management import call_command

from budgets.demo import BudgetSeedResult, YearSeeded
from procurement.demo import ProcurementSeedResult
from reporting.models import Report
from tests.factories import BudgetLineFactory

pytestmark = pytest.mark.django_db


class Stream(io.StringIO):
    """stdout that remembers what had been flushed when."""

    def __init__(self):
        super().__init__()
        self.flushed = ""

    def flush(self):
        self.flushed = self.getvalue()


def purchasing(year: int, **counts) -> ProcurementSeedResult:
    return ProcurementSeedResult(year=year, **counts)


@pytest.fixture
def steps(monkeypatch):
    """A stand-in for dsi_finance.demo.seed_demo_budget that tells its progress as the
    real one does; `steps.flushed` holds what stdout had flushed after each step."""
    flushed = []
    out = Stream()

    def seed(*, progress):
        def step(call, *args):
            call(*args)
            flushed.append(out.flushed)

        step(progress.budget_year, YearSeeded(2024, 148, ("BP", "DM1", "DM2"), 4, 0, True))
        step(progress.budget_year, YearSeeded(2025, 150, ("BP", "DM1", "DM2"), 1, 0, True))
        for month in range(1, 13):
            count = month * 10
            step(
                progress.purchasing_month,
                month,
                purchasing(2025, requests=count, orders=count - 5, invoices=2 * count),
            )
        step(
            progress.purchasing,
            purchasing(
                2025,
                requests=130,
                commitments=128,
                orders=110,
                receipts=100,
                invoices=300,
                suppliers=42,
            ),
        )
        step(progress.budget_year, YearSeeded(2026, 152, ("BP", "DM1"), 3, 1, False))
        step(progress.purchasing, purchasing(2026, skipped="existing"))
        step(progress.forecasts, 456)
        return BudgetSeedResult(created=[2024, 2025, 2026], lines=450, revisions=8, transfers=8)

    monkeypatch.setattr("dsi_finance.management.commands.seed_demo.seed_demo_budget", seed)
    monkeypatch.setattr("reporting.demo.seed_demo_monthly_report", lambda **kwargs: [])
    seed.flushed, seed.out = flushed, out
    return seed


def run(*args, out=None) -> Stream:
    out = out or Stream()
    call_command("seed_demo", *args, stdout=out)
    return out


def test_each_step_prints_its_french_line_with_its_counts_flushed_as_it_ends(settings, steps):
    settings.DEBUG = True
    BudgetLineFactory.create_batch(3)
    Report.objects.create(kind=Report.Kind.MONTHLY_EXECUTION, format=Report.Format.PDF)
    out = run(out=steps.out)
    lines = out.getvalue().splitlines()
    budget = lines.index(
        "Chargement du budget de démonstration et de ses achats : une à deux minutes…"
    )
    assert lines[budget + 1 :] == [
        "Budget 2024 : 148 lignes, BP, DM1 et DM2 votés, 4 virements approuvés, "
        "clos au 31 décembre.",
        "Budget 2025 : 150 lignes, BP, DM1 et DM2 votés, 1 virement approuvé, clos au 31 décembre.",
        "Achats 2025 jusqu’en mars : 30 demandes, 25 commandes, 60 factures.",
        "Achats 2025 jusqu’en juin : 60 demandes, 55 commandes, 120 factures.",
        "Achats 2025 jusqu’en septembre : 90 demandes, 85 commandes, 180 factures.",
        "Achats 2025 : 130 demandes, 128 engagements, 110 commandes, 100 services faits, "
        "300 factures, 42 fournisseurs.",
        "Budget 2026 : 152 lignes, BP et DM1 votés, 3 virements approuvés, 1 en attente.",
        "Achats 2026 déjà présents : laissés tels quels.",
        "Atterrissages : 456 prévisions saisies par chef sur les derniers mois.",
        "Budget de démonstration créé (exercices 2024, 2025, 2026) : 450 lignes, "
        "8 révisions votées, 8 virements.",
        # Counted in the database, whatever loaded it.
        "Données de démonstration à jour : 1 exercice, 3 lignes budgétaires, "
        "0 demande d’achat, 0 commande, 0 facture, 1 rapport.",
    ]
    # Each step's line was out (flushed) before the next step began.
    assert "Budget 2024 : 148 lignes" in steps.flushed[0]
    assert "Achats 2025 jusqu’en mars" in steps.flushed[4]
    assert steps.flushed[-1].endswith("sur les derniers mois.\n")


def test_the_users_are_named_in_french(settings, steps):
    settings.DEBUG = True
    text = run().getvalue()
    assert "Utilisateur créé : chef" in text and "Utilisateur créé : controleur" in text
    assert "Utilisateur déjà présent" not in text


def test_verbosity_2_tells_every_month_and_0_says_nothing(settings, steps):
    settings.DEBUG = True
    chatty = run("-v2").getvalue()
    assert chatty.count("Achats 2025 jusqu’en") == 12
    assert "Achats 2025 jusqu’en décembre : 120 demandes" in chatty
    assert run("-v0").getvalue() == ""


def test_missing_purchasing_actors_are_said(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr(
        "dsi_finance.management.commands.seed_demo.seed_demo_budget",
        lambda *, progress: progress.purchasing(None),
    )
    assert (
        "Achats non joués : il faut les utilisateurs de démonstration et un exercice ouvert."
        in run().getvalue()
    )
