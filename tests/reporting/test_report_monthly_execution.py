"""The monthly budget execution report: the ledger's figures at the end of a month."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from budgets import services
from budgets.selectors import availability_totals, line_availability
from dsi_finance.xlsx import PERCENT_NUMBER_FORMAT, XPF_NUMBER_FORMAT
from reporting.reports import builder_for, clean_parameters
from reporting.selectors.execution import monthly_execution
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    fund,
)
from tests.reporting.report_helpers import normalise, pdf_pages

pytestmark = pytest.mark.django_db

NOUMEA = ZoneInfo("Pacific/Noumea")


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=NOUMEA), tick=False)


def make_lines(year, *, labels=("Maintenance", "=cmd|' /C calc'!A0", "Serveurs")):
    operating = ChapterFactory(code="011")
    investment = ChapterFactory(code="21", label="Immobilisations corporelles", section="I")
    accounts = [
        NatureAccountFactory(number=f"615{year.year % 10}", chapter=operating),
        NatureAccountFactory(number=f"606{year.year % 10}", chapter=operating),
        NatureAccountFactory(number=f"218{year.year % 10}", chapter=investment),
    ]
    return [
        BudgetLineFactory(
            fiscal_year=year, code=f"L{year.year}-{index}", label=label, nature_account=account
        )
        for index, (label, account) in enumerate(zip(labels, accounts, strict=True))
    ]


@pytest.fixture
def past_year(chef):
    """2026: a BP voted in December 2025, then commitments and liquidations month by month."""
    year = FiscalYearFactory(year=2026)
    maintenance, formula, servers = make_lines(year)
    with at(2025, 12, 20, 10, 0):
        fund({maintenance: 10_000_000, formula: 2_000_000, servers: 30_000_000})
    with at(2026, 2, 10, 9, 0):
        services.credits_commit(user=chef, document=year, amounts={maintenance: 4_000_000})
    with at(2026, 3, 15, 9, 0):
        services.credits_liquidate(user=chef, document=year, line=maintenance, amount=1_000_000)
        services.credits_commit(user=chef, document=year, amounts={servers: 12_000_000})
    # 31 March 13:30 UTC is already 1 April in Nouméa: April's, not March's.
    with at(2026, 4, 1, 0, 30):
        services.credits_liquidate(user=chef, document=year, line=servers, amount=5_000_000)
        services.credits_liquidate(user=chef, document=year, line=maintenance, amount=500_000)
    with at(2026, 6, 2, 8, 0):
        services.credits_unliquidate(
            user=chef, document=year, line=servers, amount=1_000_000, reason="Avoir"
        )
        services.credits_release(user=chef, document=year, line=servers, amount=2_000_000)
    return {"year": year, "maintenance": maintenance, "formula": formula, "servers": servers}


def build(fmt, raw):
    calls = []
    built = builder_for("monthly_execution", fmt)(
        parameters=clean_parameters("monthly_execution", raw),
        progress=lambda percent, note: calls.append((percent, note)),
    )
    return built, calls


def test_a_past_month_shows_the_ledger_sums_at_the_end_of_that_month(past_year):
    march = monthly_execution(year=2026, month=3)
    by_code = {item.line.code: item.figures for item in march.lines}
    assert by_code["L2026-0"].opened == 10_000_000
    assert by_code["L2026-0"].committed == 4_000_000
    assert by_code["L2026-0"].liquidated == 1_000_000  # not April's 500 000
    assert by_code["L2026-2"].liquidated == 0  # liquidated on 1 April in Nouméa
    assert (march.totals.opened, march.totals.committed, march.totals.liquidated) == (
        42_000_000,
        16_000_000,
        1_000_000,
    )
    june = monthly_execution(year=2026, month=6)
    assert (june.totals.committed, june.totals.liquidated) == (14_000_000, 5_500_000)
    assert [(g.key, g.figures.opened, g.figures.liquidated) for g in june.by_chapter] == [
        ("011", 12_000_000, 1_500_000),
        ("21", 30_000_000, 4_000_000),
    ]
    assert [(g.key, g.lines) for g in june.by_section] == [("F", 2), ("I", 1)]


def test_the_months_show_what_each_month_liquidated_and_the_cumulative_rate(past_year):
    months = monthly_execution(year=2026, month=6).months
    assert [row.month for row in months] == [None] + [
        datetime.date(2026, m, 1) for m in range(1, 7)
    ]
    assert [row.liquidated for row in months] == [0, 0, 0, 1_000_000, 5_500_000, 0, -1_000_000]
    assert [row.committed for row in months] == [0, 0, 4_000_000, 12_000_000, 0, 0, -2_000_000]
    assert months[0].opened == 42_000_000
    assert months[-1].cumulative_liquidated == 5_500_000
    assert str(months[-1].execution_rate) == "13.1"


def test_the_current_month_equals_line_availability(chef):
    today = timezone.localdate()
    year = FiscalYearFactory(year=today.year)
    maintenance, formula, servers = make_lines(year)
    fund({maintenance: 10_000_000, formula: 2_000_000, servers: 30_000_000})
    services.credits_commit(user=chef, document=year, amounts={maintenance: 3_000_000})
    services.credits_liquidate(user=chef, document=year, line=maintenance, amount=1_234_567)
    report = monthly_execution(year=today.year, month=today.month)
    expected = {
        line.code: (line.opened, line.committed, line.liquidated, line.available_amount)
        for line in line_availability(fiscal_year=year)
    }
    assert {
        item.line.code: (
            item.figures.opened,
            item.figures.committed,
            item.figures.liquidated,
            item.figures.available,
        )
        for item in report.lines
    } == expected
    assert report.totals == availability_totals(line_availability(fiscal_year=year))


def test_the_xlsx_has_one_sheet_per_view_with_frozen_headers_formats_and_totals(past_year):
    with at(2025, 3, 1, 9, 0):
        last_year = FiscalYearFactory(year=2025, state="open")
        (old,) = [
            BudgetLineFactory(
                fiscal_year=last_year,
                code="OLD",
                nature_account=NatureAccountFactory(number="6111"),
            )
        ]
        fund({old: 8_000_000})
    built, calls = build("xlsx", {"year": "2026", "month": "6"})
    assert built.filename.startswith("execution-budgetaire-2026-06_")
    workbook = load_workbook(built.path)
    assert workbook.sheetnames == [
        "Synthèse",
        "Par section",
        "Par chapitre",
        "Par ligne",
        "Liquidations par mois",
    ]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
    summary = [list(row) for row in workbook["Synthèse"].iter_rows(values_only=True)]
    assert summary[0][1:] == ["juin 2026", "juin 2025"]
    assert summary[1] == ["Crédits ouverts", 42_000_000, 8_000_000]
    assert summary[3][:2] == ["Liquidé", 5_500_000]
    assert workbook["Synthèse"]["B2"].number_format == XPF_NUMBER_FORMAT
    lines = [list(row) for row in workbook["Par ligne"].iter_rows(values_only=True)]
    assert lines[2][1] == "'=cmd|' /C calc'!A0"  # neutralised
    assert lines[-1][0] == "Total (3 lignes)"
    assert lines[-1][4:9] == [42_000_000, 14_000_000, 5_500_000, 8_500_000, 28_000_000]
    assert workbook["Par ligne"]["E2"].number_format == XPF_NUMBER_FORMAT
    assert workbook["Par ligne"]["J2"].number_format == PERCENT_NUMBER_FORMAT
    chapters = [list(row) for row in workbook["Par chapitre"].iter_rows(values_only=True)]
    assert chapters[-1][0] == "Total" and chapters[-1][3] == 42_000_000
    months = [list(row) for row in workbook["Liquidations par mois"].iter_rows(values_only=True)]
    assert months[1][0] == "Avant janvier 2026"
    assert months[-2][0] == "juin 2026"
    assert months[-1][3] == 5_500_000
    assert calls[0][0] == 0 and calls[-1] == (100, "Terminé")
    built.path.unlink()


def test_the_pdf_has_the_header_the_page_numbers_and_french_figures(past_year, settings):
    settings.OPERATOR_DEPARTMENT = "Direction des systèmes d’information"
    built, calls = build("pdf", {"year": 2026, "month": 3})
    assert built.filename.startswith("execution-budgetaire-2026-03_")
    pages = [normalise(page) for page in pdf_pages(built.path)]
    assert len(pages) >= 2  # the lines start on a new page
    for number, page in enumerate(pages, start=1):
        assert "Direction des systèmes d’information" in page
        assert f"Page {number} / {len(pages)}" in page
        assert f"rapport du {timezone.localdate():%d/%m/%Y}" in page
    text = "\n".join(pages)
    assert "Exécution budgétaire mensuelle" in text
    assert "fin mars 2026 (31/03/2026)" in text
    assert "42 000 000 F CFP" in text  # opened, in the summary
    assert "1 000 000 F CFP" in text  # liquidated at the end of March
    assert "=cmd|' /C calc'!A0" in text
    assert "3 lignes" in text
    assert calls[-1] == (100, "Terminé")
    built.path.unlink()
