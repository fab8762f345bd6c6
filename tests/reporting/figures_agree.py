"""On the demo data, every place that shows the year's figures shows the same ones, and
they are the ledger's: the DISCO page, the dashboard (page and API), and each
controlling report, in XLSX and in PDF.

Seeding the whole demo takes minutes: the test that seeds it as `make run` does
(tests/dsi_finance/test_seed_demo.py) calls `assert_figures_agree()` on it.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from budgets.models import LedgerEntry
from budgets.selectors import (
    FIGURE_KINDS,
    availability_totals,
    current_fiscal_year,
    ledger_differences,
    line_availability,
)
from procurement.models import CommitmentLine
from reporting.models import Report
from reporting.reports import builder_for, clean_parameters
from reporting.selectors.dashboard import dashboard
from reporting.selectors.provisions import provision_amount, provisions, provisions_total
from reporting.selectors.variance import variance_rows, variance_totals
from tests.reporting.report_helpers import normalise, pdf_text


def ledger_totals(year) -> dict[str, int]:
    """The year's opened, committed and liquidated amounts summed from the ledger itself."""
    entries = LedgerEntry.objects.filter(budget_line__fiscal_year=year).order_by()
    return entries.aggregate(
        **{
            figure: Sum("amount", filter=Q(kind__in=FIGURE_KINDS[figure]), default=0)
            for figure in ("opened", "committed", "liquidated")
        }
    )


def total_rows(path) -> list[list]:
    """Every row of every sheet whose first cell is a total."""
    workbook = load_workbook(path, read_only=True)
    return [
        list(row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        if row and isinstance(row[0], str) and row[0].startswith("Total")
    ]


def carries(rows: list[list], *figures: int) -> bool:
    """Whether one of the rows holds these figures, side by side in this order."""
    width = len(figures)
    return any(
        list(row[start : start + width]) == list(figures)
        for row in rows
        for start in range(len(row) - width + 1)
    )


def grouped(amount: int) -> str:
    """An amount as the PDFs print it: French digit groups (spaces normalised)."""
    return f"{amount:,}".replace(",", " ")


def build(kind: str, fmt: str, year: int, **extra):
    parameters = clean_parameters(kind, {"year": year, **extra})
    return builder_for(kind, fmt)(parameters=parameters)


def assert_figures_agree() -> None:
    """The dashboard, the DISCO page, the API and every report agree with the ledger on
    the current year of the seeded demo."""
    year = current_fiscal_year()
    directeur = get_user_model().objects.get(username="directeur")
    lines = line_availability(fiscal_year=year)
    totals = availability_totals(lines)

    # The cached totals are the ledger's, line by line and for the year.
    assert ledger_differences() == []
    assert ledger_totals(year) == {
        "opened": totals.opened,
        "committed": totals.committed,
        "liquidated": totals.liquidated,
    }
    assert totals.committed > totals.liquidated > 0  # the demo has real execution

    # The DISCO page.
    client = APIClient()
    client.force_login(directeur)
    page = client.get(reverse("budgets:disco"), {"year": year.year})
    assert page.context["table"].totals == totals

    # The dashboard: cards, bars, monthly curve; the API shows the same.
    board = dashboard(actor=directeur, fiscal_year=year)
    figures = board.figures
    assert (
        figures["opened"].value,
        figures["committed"].value,
        figures["liquidated"].value,
        figures["available"].value,
        figures["execution_rate"].value,
    ) == (
        totals.opened,
        totals.committed,
        totals.liquidated,
        totals.available,
        totals.execution_rate,
    )
    for bars in (board.sections, board.chapters):
        assert sum(bar.opened for bar in bars) == totals.opened
        assert sum(bar.committed for bar in bars) == totals.committed
        assert sum(bar.liquidated for bar in bars) == totals.liquidated
    reached = [point.liquidated for point in board.months if point.liquidated is not None]
    assert reached[-1] == totals.liquidated
    data = client.get(reverse("api:dashboard"), {"year": year.year}).json()
    assert {
        key: data["figures"][key]["value"] for key in ("opened", "committed", "liquidated")
    } == {
        "opened": totals.opened,
        "committed": totals.committed,
        "liquidated": totals.liquidated,
    }
    assert data["figures"]["available"]["value"] == totals.available

    # The reports: each XLSX carries the year's totals side by side, each PDF prints them.
    month = timezone.localdate().month if timezone.localdate().year == year.year else 12
    disco = build(Report.Kind.DISCO, "xlsx", year.year)
    assert carries(
        total_rows(disco.path),
        totals.opened,
        totals.committed,
        totals.liquidated,
        totals.to_liquidate,
        totals.available,
    )
    monthly = build(Report.Kind.MONTHLY_EXECUTION, "xlsx", year.year, month=month)
    assert carries(
        total_rows(monthly.path),
        totals.opened,
        totals.committed,
        totals.liquidated,
        totals.to_liquidate,
        totals.available,
    )
    rows = variance_rows(actor=directeur, fiscal_year=year)
    variance_sums = variance_totals(rows)
    assert (variance_sums.opened, variance_sums.committed, variance_sums.liquidated) == (
        totals.opened,
        totals.committed,
        totals.liquidated,
    )
    variance = build(Report.Kind.VARIANCE, "xlsx", year.year)
    assert carries(total_rows(variance.path), totals.opened, totals.committed, totals.liquidated)

    for kind, extra in (
        (Report.Kind.DISCO, {}),
        (Report.Kind.MONTHLY_EXECUTION, {"month": month}),
        (Report.Kind.VARIANCE, {}),
    ):
        text = normalise(pdf_text(build(kind, "pdf", year.year, **extra).path))
        for amount in (totals.opened, totals.committed, totals.liquidated):
            assert grouped(amount) in text, (kind, amount)

    # The provisions: received and not invoiced, valued from the commitment lines.
    expected = sum(
        provision_amount(line.received_quantity - line.invoiced_quantity, line.unit_price)
        for line in CommitmentLine.objects.filter(
            commitment__fiscal_year=year, unit_price__isnull=False
        ).exclude(commitment__state="cancelled")
        if line.received_quantity > line.invoiced_quantity
    )
    provision_rows = provisions(actor=directeur, fiscal_year=year)
    assert provisions_total(provision_rows) == expected > 0
    provisions_file = build(Report.Kind.PROVISIONS, "xlsx", year.year)
    assert any(expected in row for row in total_rows(provisions_file.path))
    assert grouped(expected) in normalise(
        pdf_text(build(Report.Kind.PROVISIONS, "pdf", year.year).path)
    )
