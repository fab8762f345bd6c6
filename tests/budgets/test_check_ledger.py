"""`manage.py check_ledger` proves the cached totals equal the ledger (DESIGN.md, rule 3):
silent success on a consistent ledger, every difference printed and a non-zero exit
otherwise.

Corrupting a cached total with QuerySet.update() is allowed (the totals on the line
are a cache); the ledger itself cannot be changed, so a broken running balance is
made by inserting an entry whose `available_after` lies.
"""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from budgets import services
from budgets.models import BudgetLine, LedgerEntry
from tests.factories import BudgetLineFactory, fund

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ledger(chef):
    """Two lines with credits (2 entries), three commitments, a liquidation partly
    reversed and a release: 8 entries in all."""
    licences, reseau = BudgetLineFactory(code="F-LICENCES"), BudgetLineFactory(code="F-RESEAU")
    fund({licences: 1_000_000, reseau: 400_000})
    services.credits_commit(user=chef, document=licences, amounts={licences: 300_000})
    services.credits_commit(user=chef, document=reseau, amounts={licences: 50_000, reseau: 120_000})
    services.credits_liquidate(user=chef, document=licences, line=licences, amount=200_000)
    services.credits_release(user=chef, document=reseau, line=reseau, amount=20_000)
    services.credits_unliquidate(
        user=chef, document=licences, line=licences, amount=10_000, reason="Avoir"
    )
    return {"licences": licences, "reseau": reseau}


def run(*args) -> str:
    out = StringIO()
    call_command("check_ledger", *args, stdout=out)
    return out.getvalue()


def test_a_consistent_ledger_passes_with_one_success_line(ledger):
    assert LedgerEntry.objects.count() == 8

    (line,) = run().splitlines()

    assert line.startswith("Grand livre conforme : 2 lignes, 8 écritures vérifiées en ")


def test_an_empty_ledger_passes(db):
    assert run().startswith("Grand livre conforme : 0 lignes, 0 écritures")


def test_a_corrupted_cached_total_is_printed_and_fails(ledger):
    licences = ledger["licences"]
    BudgetLine.objects.filter(pk=licences.pk).update(committed=F("committed") + 7)

    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("check_ledger", stdout=out)

    (line,) = out.getvalue().splitlines()
    assert line == (
        f"Ligne F-LICENCES (id {licences.pk}) : engagé en cache 350007, grand livre 350000, écart 7"
    )
    assert str(raised.value).startswith("1 total(s) et 0 solde(s) en écart sur 2 lignes et 8")


def test_every_difference_is_printed(ledger):
    BudgetLine.objects.filter(pk=ledger["licences"].pk).update(opened=0, liquidated=5)
    BudgetLine.objects.filter(pk=ledger["reseau"].pk).update(committed=F("committed") - 1)

    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("check_ledger", stdout=out)

    printed = out.getvalue()
    assert (
        "Ligne F-LICENCES" in printed
        and "crédits ouverts en cache 0, grand livre 1000000" in printed
    )
    assert "liquidé en cache 5, grand livre 190000, écart -189995" in printed
    assert "Ligne F-RESEAU" in printed and "engagé en cache 99999, grand livre 100000" in printed
    assert str(raised.value).startswith("3 total(s) et 0 solde(s)")


def test_an_entry_whose_available_after_lies_is_printed_and_fails(ledger, chef):
    reseau = ledger["reseau"]
    reseau.refresh_from_db()
    # An entry the services would never write: the totals move, the balance it states is wrong.
    lying = LedgerEntry.objects.create(
        budget_line=reseau,
        kind=LedgerEntry.Kind.COMMIT,
        amount=1_000,
        available_after=reseau.available,  # should be 1 000 less
        document_type=ContentType.objects.get_for_model(reseau),
        document_id=reseau.pk,
        user=chef,
    )
    BudgetLine.objects.filter(pk=reseau.pk).update(committed=F("committed") + 1_000)

    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("check_ledger", stdout=out)

    assert out.getvalue().splitlines() == [
        f"Écriture {lying.pk} (ligne F-RESEAU) : disponible après 300000 "
        "ne suit pas le cumul du grand livre (299000)"
    ]
    assert str(raised.value).startswith("0 total(s) et 1 solde(s) en écart")
    # --skip-balances checks the totals only, which agree.
    assert run("--skip-balances").startswith("Grand livre conforme : 2 lignes, 9 écritures")


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_with_status_1_when_a_total_differs(postgres_only, ledger):
    """From the shell, as cron or CI would run it (the data must be committed: transaction=True)."""
    BudgetLine.objects.filter(pk=ledger["reseau"].pk).update(opened=F("opened") + 1)
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check_ledger", "--skip-balances"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert "Ligne F-RESEAU" in result.stdout
    assert "en cache 400001, grand livre 400000, écart 1" in result.stdout
    assert "1 total(s) et 0 solde(s) en écart" in result.stderr
