"""The same figures everywhere: the ledger, the DISCO page and its export, the API and
the fiscal years page, on the demo budget with commitments and liquidations on top."""

import io
import random

import pytest
from django.db.models import Q, Sum
from django.urls import reverse
from openpyxl import load_workbook

from budgets import services
from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from budgets.selectors import FIGURE_KINDS, current_fiscal_year
from dsi_finance.demo import seed_demo_budget, seed_demo_users

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

FIGURES = ("opened", "committed", "liquidated")


@pytest.fixture
def demo_year(django_user_model):
    seed_demo_users(password="x")
    seed_demo_budget()
    year = current_fiscal_year()
    chef = django_user_model.objects.get(username="chef")
    directeur = django_user_model.objects.get(username="directeur")
    rng = random.Random(2026)  # noqa: S311 -- a reproducible sample, not a secret
    lines = list(BudgetLine.objects.filter(fiscal_year=year).order_by("code"))
    for line in rng.sample(lines, 40):
        line.refresh_from_db()
        amount = rng.randint(1, max(1, line.available // 2))
        services.credits_commit(user=chef, document=year, amounts={line: amount})
        services.credits_liquidate(user=chef, document=year, line=line, amount=amount // 3 or 1)
    # One override, so that an available amount below zero is in the sums too.
    line = lines[0]
    line.refresh_from_db()
    services.credits_commit(
        user=directeur,
        document=year,
        amounts={line: line.available + 5_000},
        override_reason="Panne majeure : remplacement en urgence",
    )
    return year


def ledger_figures(year: FiscalYear) -> dict[str, dict[str, int]]:
    """Each line's figures summed from the ledger itself, by line code."""
    sums = (
        LedgerEntry.objects.filter(budget_line__fiscal_year=year)
        .values("budget_line__code")
        .annotate(
            **{
                figure: Sum("amount", filter=Q(kind__in=FIGURE_KINDS[figure]), default=0)
                for figure in FIGURES
            }
        )
    )
    figures = {
        code: dict.fromkeys(FIGURES, 0)
        for code in BudgetLine.objects.filter(fiscal_year=year).values_list("code", flat=True)
    }
    for row in sums:
        figures[row["budget_line__code"]] = {figure: row[figure] for figure in FIGURES}
    for line in figures.values():
        line["to_liquidate"] = line["committed"] - line["liquidated"]
        line["available"] = line["opened"] - line["committed"]
    return figures


def total(figures: dict, name: str) -> int:
    return sum(line[name] for line in figures.values())


def test_disco_export_api_and_years_page_show_the_ledger_figures(
    demo_year, client, django_user_model
):
    expected = ledger_figures(demo_year)
    assert any(line["available"] < 0 for line in expected.values())
    client.force_login(django_user_model.objects.get(username="controleur"))

    # The DISCO page: its totals row.
    page = client.get(reverse("budgets:disco"), {"year": demo_year.year})
    totals = page.context["table"].totals
    for name in (*FIGURES, "to_liquidate", "available"):
        assert getattr(totals, name) == total(expected, name), name

    # Its XLSX export: every line, and the totals row.
    export = client.get(reverse("budgets:disco-export"), {"year": demo_year.year})
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body, totals_row = rows[0], rows[1:-1], rows[-1]
    code_at = 1
    amount_at = header.index("Crédits ouverts")
    exported = {
        row[code_at]: dict(
            zip(
                ("opened", "committed", "liquidated", "to_liquidate", "available"),
                row[amount_at : amount_at + 5],
                strict=True,
            )
        )
        for row in body
    }
    assert exported == expected
    assert list(totals_row[amount_at : amount_at + 5]) == [
        total(expected, name)
        for name in ("opened", "committed", "liquidated", "to_liquidate", "available")
    ]

    # The API: every line, and the year.
    api = client.get(
        reverse("api:budget-line-list"), {"year": demo_year.year, "page_size": 1000}
    ).json()
    assert api["count"] == len(expected)
    for line in api["results"]:
        assert {
            name: line[name]
            for name in ("opened", "committed", "liquidated", "to_liquidate", "available")
        } == expected[line["code"]], line["code"]
    (year_row,) = [
        row
        for row in client.get(reverse("api:fiscal-year-list")).json()["results"]
        if row["year"] == demo_year.year
    ]
    for name in (*FIGURES, "to_liquidate", "available"):
        assert year_row[name] == total(expected, name), name

    # The fiscal years page.
    (row,) = [
        row
        for row in client.get(reverse("budgets:fiscal-year-list")).context["rows"]
        if row["year"].pk == demo_year.pk
    ]
    assert (row["figures"].opened, row["figures"].committed, row["figures"].available) == (
        total(expected, "opened"),
        total(expected, "committed"),
        total(expected, "available"),
    )


def test_a_cache_out_of_step_with_the_ledger_would_show(demo_year, client, django_user_model):
    """The comparison above can fail: a cached total moved behind the ledger's back shows."""
    line = BudgetLine.objects.filter(fiscal_year=demo_year).order_by("code").first()
    BudgetLine.objects.filter(pk=line.pk).update(committed=line.committed + 1)
    client.force_login(django_user_model.objects.get(username="controleur"))
    page = client.get(reverse("budgets:disco"), {"year": demo_year.year})
    assert (
        page.context["table"].totals.committed == total(ledger_figures(demo_year), "committed") + 1
    )
