"""The DISCO extract report: the lines and figures of line_availability, as XLSX and PDF."""

import pytest
from openpyxl import load_workbook

from budgets import services
from budgets.selectors import availability_totals, line_availability
from dsi_finance.xlsx import PERCENT_NUMBER_FORMAT, XPF_NUMBER_FORMAT
from reporting.reports import builder_for, clean_parameters
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
def lines(chef):
    year = FiscalYearFactory(year=2026)
    operating = NatureAccountFactory(number="6156", chapter=ChapterFactory(code="011"))
    investment = NatureAccountFactory(
        number="2183",
        chapter=ChapterFactory(code="21", label="Immobilisations corporelles", section="I"),
    )
    maintenance = BudgetLineFactory(
        fiscal_year=year, code="F-011-MAINT", label="Maintenance", nature_account=operating
    )
    formula = BudgetLineFactory(
        fiscal_year=year,
        code="F-011-EVIL",
        label="=HYPERLINK(1)",
        nature_account=NatureAccountFactory(number="6064", chapter=operating.chapter),
    )
    servers = BudgetLineFactory(
        fiscal_year=year, code="I-21-SERV", label="Serveurs", nature_account=investment
    )
    fund({maintenance: 12_345_678, formula: 1_000_000, servers: 40_000_000})
    services.credits_commit(user=chef, document=year, amounts={maintenance: 2_000_000})
    services.credits_liquidate(user=chef, document=year, line=maintenance, amount=1_500_000)
    services.credits_commit(user=chef, document=year, amounts={servers: 10_000_000})
    return {"year": year, "maintenance": maintenance, "formula": formula, "servers": servers}


def build(fmt, raw, progress=None):
    calls = []
    parameters = clean_parameters("disco", raw)
    built = builder_for("disco", fmt)(
        parameters=parameters, progress=progress or (lambda p, n: calls.append((p, n)))
    )
    return built, calls


def test_the_xlsx_extract_holds_every_line_of_the_year_and_the_selectors_totals(lines):
    built, calls = build("xlsx", {"year": 2026})
    assert built.filename.startswith("extrait-disco-2026_") and built.filename.endswith(".xlsx")
    assert built.content_type.endswith("spreadsheetml.sheet")
    sheet = load_workbook(built.path)["Disponible"]
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2"
    assert rows[0][1] == "Code"
    assert [row[1] for row in rows[1:-1]] == ["F-011-EVIL", "F-011-MAINT", "I-21-SERV"]
    assert rows[1][2] == "'=HYPERLINK(1)"  # neutralised
    totals = availability_totals(line_availability().filter(fiscal_year__year=2026))
    assert rows[-1][0] == "Total"
    assert rows[-1][8:13] == (
        totals.opened,
        totals.committed,
        totals.liquidated,
        totals.to_liquidate,
        totals.available,
    )
    assert rows[-1][8:11] == (53_345_678, 12_000_000, 1_500_000)
    assert sheet.cell(row=3, column=9).number_format == XPF_NUMBER_FORMAT
    # Rates are fractions in a percent format: 1 500 000 / 12 345 678 -> 0.122, 12,2 %.
    assert rows[2][13] == pytest.approx(0.122)
    assert sheet.cell(row=3, column=14).number_format == PERCENT_NUMBER_FORMAT == "0.0%"
    assert calls[-1][0] == 100
    assert [percent for percent, _note in calls] == sorted(percent for percent, _n in calls)
    built.path.unlink()


def test_the_extract_can_be_filtered_by_section_and_chapter(lines):
    built, _calls = build("xlsx", {"year": 2026, "section": "I"})
    rows = list(load_workbook(built.path).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:-1]] == ["I-21-SERV"]
    assert rows[-1][8] == 40_000_000
    built, _calls = build("xlsx", {"year": 2026, "chapter": "011"})
    rows = list(load_workbook(built.path).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:-1]] == ["F-011-EVIL", "F-011-MAINT"]
    assert built.filename.startswith("extrait-disco-2026-011_")


def test_the_pdf_extract_has_the_header_page_numbers_and_french_figures(lines, settings):
    settings.OPERATOR_DEPARTMENT = "Direction du numérique"
    built, calls = build("pdf", {"year": 2026})
    assert built.filename.startswith("extrait-disco-2026_") and built.filename.endswith(".pdf")
    assert built.content_type == "application/pdf"
    assert built.path.read_bytes().startswith(b"%PDF")
    text = normalise(pdf_text(built.path))
    assert "Direction du numérique" in text
    assert "Extrait DISCO" in text and "Exercice 2026" in text
    assert "rapport du " in text
    assert "Page 1 / 1" in text
    assert "12 345 678" in text  # maintenance, opened
    assert "53 345 678" in text  # total opened
    assert "=HYPERLINK(1)" in text
    assert "Montants en F CFP." in text
    assert "3 lignes" in text
    assert calls[-1] == (100, "Terminé")
    built.path.unlink()
