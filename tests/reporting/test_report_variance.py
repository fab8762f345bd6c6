"""The variance analysis report: the variance selector's rows, totals, overruns,
surpluses and proposals, as XLSX and PDF."""

import pytest
from openpyxl import load_workbook

from budgets import services
from dsi_finance.xlsx import PERCENT_NUMBER_FORMAT, XPF_NUMBER_FORMAT
from reporting.reports import builder_for, clean_parameters
from reporting.selectors.variance import variance_rows, variance_totals
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)
from tests.reporting.report_helpers import normalise, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(chef):
    """A will overrun by 2 M; B gives 3 M (same section: a transfer); C (investment,
    no forecast) 8 M."""
    year = FiscalYearFactory(year=2026)
    operating = ChapterFactory(code="011")
    investment = ChapterFactory(code="21", label="Immobilisations", section="I")
    a = BudgetLineFactory(
        fiscal_year=year,
        code="A-MAINT",
        label="=Maintenance",
        nature_account=NatureAccountFactory(number="6156", chapter=operating),
    )
    b = BudgetLineFactory(
        fiscal_year=year,
        code="B-LIC",
        label="Licences",
        nature_account=NatureAccountFactory(number="6051", chapter=operating),
    )
    c = BudgetLineFactory(
        fiscal_year=year,
        code="C-SERV",
        label="Serveurs",
        nature_account=NatureAccountFactory(number="2183", chapter=investment),
    )
    fund({a: 10_000_000, b: 5_000_000, c: 8_000_000})
    services.credits_commit(user=chef, document=year, amounts={a: 4_000_000, b: 1_000_000})
    services.forecast_set(user=chef, budget_line=a, month=10, amount=12_000_000)
    services.forecast_set(user=chef, budget_line=b, month=10, amount=2_000_000)
    return year


def build(fmt, raw):
    return builder_for("variance", fmt)(
        parameters=clean_parameters("variance", raw), progress=lambda p, n: None
    )


def test_the_xlsx_holds_the_selectors_rows_totals_and_proposals(year):
    built = build("xlsx", {"year": 2026, "month": 10})
    assert built.filename.startswith("analyse-des-ecarts-2026-10_")
    workbook = load_workbook(built.path)
    assert workbook.sheetnames == [
        "Synthèse",
        "Par ligne",
        "Dépassements",
        "Excédents",
        "Propositions de couverture",
        "Non couverts",
    ]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
    totals = variance_totals(variance_rows(fiscal_year=year, month=10))
    summary = {row[0]: row[1] for row in workbook["Synthèse"].iter_rows(values_only=True)}
    assert summary["Voté"] == totals.opened == 23_000_000
    assert summary["Atterrissage"] == totals.forecast == 14_000_000
    assert summary["Dépassements"] == 2_000_000 and summary["Excédents"] == 11_000_000
    lines = [list(row) for row in workbook["Par ligne"].iter_rows(values_only=True)]
    assert lines[1][:2] == ["A-MAINT", "'=Maintenance"]
    assert lines[-1][3:8] == [23_000_000, 5_000_000, 0, 14_000_000, -9_000_000]
    assert workbook["Par ligne"]["D2"].number_format == XPF_NUMBER_FORMAT
    # Rates are fractions in a percent format: a gap of 2 M on 10 M is 0.2, shown 20,0 %.
    assert lines[1][8] == pytest.approx(0.2)
    assert workbook["Par ligne"]["I2"].number_format == PERCENT_NUMBER_FORMAT == "0.0%"
    proposals = [
        list(r) for r in workbook["Propositions de couverture"].iter_rows(values_only=True)
    ]
    assert proposals[1] == ["B-LIC", "A-MAINT", 2_000_000, "virement"]
    assert proposals[-1][2] == 2_000_000
    built.path.unlink()


def test_the_pdf_shows_the_summary_the_views_and_the_lines(year):
    built = build("pdf", {"year": 2026})
    text = normalise(pdf_text(built.path))
    assert "Analyse des écarts" in text and "derniers atterrissages" in text
    assert "Direction des systèmes d’information" in text and "Page 1 / " in text
    assert "23 000 000 F CFP" in text and "11 000 000 F CFP" in text
    assert "=Maintenance" in text and "virement" in text
    built.path.unlink()
