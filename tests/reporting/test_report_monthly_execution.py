"""The monthly budget execution report: the ledger's figures at a month's situation date
(its end once over, else the day it is built), beside last year's at the same date."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from budgets import services
from budgets.selectors import availability_totals, line_availability
from dsi_finance.xlsx import PERCENT_NUMBER_FORMAT, XPF_NUMBER_FORMAT
from reporting.reports import builder_for, clean_parameters
from reporting.reports.common import AMOUNT, RATE, TEXT, listing
from reporting.selectors.dashboard import dashboard, ledger_figures
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
        assert sheet.freeze_panes == "A3"  # below the situation and the header
        assert sheet["A1"].value == (
            "Exécution budgétaire mensuelle — Exercice 2026 — situation à fin juin 2026 "
            "(30/06/2026)"
        )
    summary = [list(row) for row in workbook["Synthèse"].iter_rows(values_only=True)]
    assert summary[1][1:] == ["Fin juin 2026", "Fin juin 2025"]
    assert summary[2] == ["Crédits ouverts", 42_000_000, 8_000_000]
    assert summary[4][:2] == ["Liquidé", 5_500_000]
    assert workbook["Synthèse"]["B3"].number_format == XPF_NUMBER_FORMAT
    lines = [list(row) for row in workbook["Par ligne"].iter_rows(values_only=True)]
    assert lines[3][1] == "'=cmd|' /C calc'!A0"  # neutralised
    assert lines[-1][0] == "Total (3 lignes)"
    assert lines[-1][4:9] == [42_000_000, 14_000_000, 5_500_000, 8_500_000, 28_000_000]
    assert workbook["Par ligne"]["E3"].number_format == XPF_NUMBER_FORMAT
    # Rates are fractions shown as percents: 5 500 000 / 42 000 000 = 13,1 %.
    assert workbook["Par ligne"]["J3"].number_format == PERCENT_NUMBER_FORMAT == "0.0%"
    assert lines[-1][9] == pytest.approx(0.131)
    chapters = [list(row) for row in workbook["Par chapitre"].iter_rows(values_only=True)]
    assert chapters[-1][0] == "Total" and chapters[-1][3] == 42_000_000
    months = [list(row) for row in workbook["Liquidations par mois"].iter_rows(values_only=True)]
    assert months[2][0] == "Avant janvier 2026"
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


# --- The situation date: the month under way at the day it is built, a finished month at
# its end; last year at the same date, as the dashboard compares -----------------------


@pytest.fixture
def two_years(past_year, chef):
    """2025 and 2026 with entries around 30 November and 8 December of both years."""
    last_year = FiscalYearFactory(year=2025)
    (old,) = [
        BudgetLineFactory(
            fiscal_year=last_year, code="OLD", nature_account=NatureAccountFactory(number="6111")
        )
    ]
    with at(2024, 12, 15, 9, 0):
        fund({old: 20_000_000})
    with at(2025, 3, 10, 9, 0):
        services.credits_commit(user=chef, document=last_year, amounts={old: 8_000_000})
    with at(2025, 6, 5, 9, 0):
        services.credits_liquidate(user=chef, document=last_year, line=old, amount=3_000_000)
    with at(2025, 12, 5, 9, 0):  # after 30 November, before 8 December
        services.credits_liquidate(user=chef, document=last_year, line=old, amount=1_000_000)
    with at(2025, 12, 20, 9, 0):  # after 8 December: in no comparison
        services.credits_liquidate(user=chef, document=last_year, line=old, amount=2_000_000)
        services.credits_commit(user=chef, document=last_year, amounts={old: 4_000_000})
    year = past_year["year"]
    with at(2026, 11, 20, 9, 0):
        services.credits_commit(user=chef, document=year, amounts={past_year["formula"]: 1_000_000})
    with at(2026, 12, 3, 9, 0):
        services.credits_liquidate(
            user=chef, document=year, line=past_year["maintenance"], amount=700_000
        )
    return {**past_year, "last_year": last_year}


def figures_of(figures):
    return (
        figures.opened,
        figures.committed,
        figures.liquidated,
        figures.to_liquidate,
        figures.available,
        figures.execution_rate,
    )


def summary_of(workbook) -> dict:
    """{figure: (this year, last year)} of the summary sheet."""
    rows = list(workbook["Synthèse"].iter_rows(min_row=3, values_only=True))
    return {row[0]: (row[1], row[2]) for row in rows if row[1] is not None}


def test_a_month_under_way_is_at_the_day_it_is_built_and_compares_like_the_dashboard(
    two_years, directeur
):
    with at(2026, 12, 8, 10, 0):
        report = monthly_execution(year=2026, month=12)
        board = dashboard(actor=directeur, fiscal_year=2026)
    assert (report.situation, report.in_progress) == (datetime.date(2026, 12, 8), True)
    assert report.last_year_date == datetime.date(2025, 12, 8) == board.as_of
    # This year: the ledger up to today, which the dashboard reads from the cached totals.
    assert (report.totals.opened, report.totals.committed, report.totals.liquidated) == (
        42_000_000,
        15_000_000,
        6_200_000,
    )
    # Last year: 8 December 2025, not the whole year (its 20 December entries are out).
    assert (report.last_year.committed, report.last_year.liquidated) == (8_000_000, 4_000_000)
    for key in ("opened", "committed", "liquidated", "available", "execution_rate"):
        assert getattr(report.totals, key) == board.figures[key].value, key
        assert getattr(report.last_year, key) == board.figures[key].last_year, key


def test_a_finished_month_is_the_ledger_at_its_end_beside_the_same_month_end_last_year(
    two_years,
):
    with at(2026, 12, 8, 10, 0):
        report = monthly_execution(year=2026, month=11)
    assert (report.situation, report.in_progress) == (datetime.date(2026, 11, 30), False)
    assert report.last_year_date == datetime.date(2025, 11, 30)
    assert figures_of(report.totals) == figures_of(
        ledger_figures(fiscal_year=two_years["year"], until=datetime.date(2026, 11, 30))
    )
    assert report.totals.liquidated == 5_500_000  # not December's 700 000
    assert figures_of(report.last_year) == figures_of(
        ledger_figures(fiscal_year=two_years["last_year"], until=datetime.date(2025, 11, 30))
    )
    assert report.last_year.liquidated == 3_000_000


def test_on_29_february_last_year_is_taken_on_the_28th_as_on_the_dashboard():
    FiscalYearFactory(year=2027)
    FiscalYearFactory(year=2028)
    report = monthly_execution(year=2028, month=2, today=datetime.date(2028, 2, 29))
    assert report.in_progress  # the 29th is not over while the report is built
    assert report.last_year_date == datetime.date(2027, 2, 28)


def test_a_month_that_has_not_begun_is_refused_by_the_selector():
    FiscalYearFactory(year=2027)
    with pytest.raises(ValueError):
        monthly_execution(year=2027, month=1, today=datetime.date(2026, 12, 8))


def test_the_xlsx_of_a_month_under_way_says_its_date_on_every_sheet_with_rates_as_fractions(
    two_years, directeur
):
    with at(2026, 12, 8, 10, 0):
        built, _calls = build("xlsx", {"year": 2026, "month": 12})
        board = dashboard(actor=directeur, fiscal_year=2026)
    workbook = load_workbook(built.path)
    for sheet in workbook.worksheets:
        assert "situation au 08/12/2026" in sheet["A1"].value, sheet.title
        assert "situation au 08/12/2026" in sheet.oddHeader.center.text  # when printed
    assert [c.value for c in workbook["Synthèse"][2]] == [
        "Indicateur",
        "Au 08/12/2026",
        "Au 08/12/2025",
    ]
    summary = summary_of(workbook)
    for label, key in (
        ("Crédits ouverts", "opened"),
        ("Engagé", "committed"),
        ("Liquidé", "liquidated"),
        ("Disponible", "available"),
    ):
        card = board.figures[key]
        assert summary[label] == (card.value, card.last_year), label
    rate = board.figures["execution_rate"]
    assert str(rate.value) == "14.8" and str(rate.last_year) == "20.0"
    assert summary["Taux d’exécution (%)"] == pytest.approx((0.148, 0.2))
    rate_cell = next(
        row[1] for row in workbook["Synthèse"].iter_rows() if row[0].value == "Taux d’exécution (%)"
    )
    assert rate_cell.number_format == "0.0%"  # 0.148 shown as 14,8 %
    lines = workbook["Par ligne"]
    assert lines["J3"].number_format == "0.0%" and 0 <= lines["J3"].value <= 1
    months = [list(row) for row in workbook["Liquidations par mois"].iter_rows(values_only=True)]
    assert months[-2][0] == "décembre 2026 (au 08/12/2026)"
    assert months[-1][5] == pytest.approx(0.148)
    built.path.unlink()


def test_the_xlsx_of_a_finished_month_is_at_its_end(two_years):
    with at(2026, 12, 8, 10, 0):
        built, _calls = build("xlsx", {"year": 2026, "month": 11})
    workbook = load_workbook(built.path)
    for sheet in workbook.worksheets:
        assert sheet["A1"].value.endswith("situation à fin novembre 2026 (30/11/2026)")
    summary = summary_of(workbook)
    assert summary["Liquidé"] == (5_500_000, 3_000_000)
    assert summary["Engagé"] == (15_000_000, 8_000_000)
    built.path.unlink()


def test_the_pdf_of_a_month_under_way_says_situation_au_and_shows_the_dashboard_figures(
    two_years,
):
    with at(2026, 12, 8, 10, 0):
        built, _calls = build("pdf", {"year": 2026, "month": 12})
    text = normalise("\n".join(pdf_pages(built.path)))
    assert "Exercice 2026 — décembre 2026, situation au 08/12/2026" in text
    assert "fin décembre" not in text and "31/12/2026" not in text
    assert "Au 08/12/2026" in text and "Au 08/12/2025" in text
    assert "le grand livre à la même date, le 08/12/2025" in text
    assert "6 200 000 F CFP" in text and "4 000 000 F CFP" in text  # liquidated, both years
    assert "14,8 %" in text and "20,0 %" in text
    built.path.unlink()


def test_the_pdf_of_a_finished_month_is_at_its_end(two_years):
    with at(2026, 12, 8, 10, 0):
        built, _calls = build("pdf", {"year": 2026, "month": 11})
    text = normalise("\n".join(pdf_pages(built.path)))
    assert "situation à fin novembre 2026 (30/11/2026)" in text
    assert "Fin novembre 2026" in text and "Fin novembre 2025" in text
    assert "5 500 000 F CFP" in text and "3 000 000 F CFP" in text
    built.path.unlink()


def test_the_pdf_listing_keeps_long_codes_whole_and_wraps_long_labels(chef):
    today = timezone.localdate()
    year = FiscalYearFactory(year=today.year)
    label = (
        "Maintenance évolutive du portail web des clients particuliers et professionnels, "
        "hébergement compris"
    )
    long_line = BudgetLineFactory(fiscal_year=year, code="F-611-WEB-PORTAIL-CLIENTS", label=label)
    short = BudgetLineFactory(fiscal_year=year, code="F-6156-INFRA", label="Serveurs")
    fund({long_line: 3_000_000, short: 1_000_000})
    built, _calls = build("pdf", {"year": today.year, "month": today.month})
    text = normalise("\n".join(pdf_pages(built.path)))
    assert "F-611-WEB-PORTAIL-CLIENTS" in text
    assert "…" not in text  # nothing cut
    listing = text[text.index("F-611-WEB-PORTAIL-CLIENTS") :]
    # The label runs on under itself, whole, across its lines.
    assert " ".join(listing.split()).count("hébergement compris") == 1
    assert "3 000 000" in listing.split("\n")[0]  # the figures stay on the row's first line
    built.path.unlink()


def test_a_listing_cuts_nothing_widens_codes_and_wraps_labels_and_headers():
    columns = [
        ("Code", TEXT, 10),
        ("Libellé", TEXT, 30),
        ("Crédits ouverts", AMOUNT, 10),
        ("Tx exéc.", RATE, 8),
    ]
    label = "Maintenance évolutive du portail web des clients, hébergement compris"
    rows = [
        ["F-611-WEB-PORTAIL-CLIENTS", label, 3_000_000, Decimal("12.5")],
        ["F-6156", "Serveurs", 1_234_567_890, None],
    ]
    table = listing(
        None, columns, rows, ["Total", "2 lignes", 1_237_567_890, None], rows_per_block=4
    )
    # The code column takes the longest code (25 > 10); the label gives up what it took
    # (down to 20 characters); the amounts take their longest figure (13 > 10).
    first, *rest = table["blocks"][0].split("\n")
    assert first == (
        "F-611-WEB-PORTAIL-CLIENTS Maintenance              3\u00a0000\u00a0000   12,5 %"
    )
    assert "…" not in "".join(table["blocks"]) + table["header"] + table["total"]
    # The label runs on under itself, whole; the figures stay on the row's first line.
    assert all(line.startswith(" " * 26) and len(line) <= 46 for line in rest)
    assert " ".join([first[26:46], *rest]).split() == label.split()
    assert (
        table["blocks"][1]
        == "F-6156                    Serveurs             1\u00a0234\u00a0567\u00a0890        —"
    )
    # A header wraps between words, at the foot of the header, over its numbers.
    assert table["header"].split("\n") == [
        " " * 53 + "Crédits",
        "Code" + " " * 22 + "Libellé" + " " * 20 + "ouverts Tx exéc.",
    ]
    # Blocks hold whole rows: the wrapped row is not split across two pages.
    assert [len(block.split("\n")) for block in table["blocks"]] == [len(rest) + 1, 1]


def test_the_demo_builds_last_months_report_as_the_schedule_asks_without_a_worker(
    past_year, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from reporting.demo import seed_demo_monthly_report
    from reporting.models import Report
    from reporting.services import reports as report_services

    settings.MEDIA_ROOT = tmp_path / "media"
    sent = []
    monkeypatch.setattr(report_services, "report_enqueue", lambda *, report_id: sent.append(1))
    with at(2026, 7, 3, 9, 0), django_capture_on_commit_callbacks(execute=True):
        built = seed_demo_monthly_report()
        assert seed_demo_monthly_report() == []  # once
    assert [(r.format, r.parameters, r.requested_by, r.status) for r in built] == [
        ("xlsx", {"year": 2026, "month": 6}, None, "done"),
        ("pdf", {"year": 2026, "month": 6}, None, "done"),
    ]
    assert sent == []  # built here: nothing for a worker to pick up later
    assert Report.objects.count() == 2
    workbook = load_workbook(Report.objects.get(format="xlsx").file.path)
    assert workbook["Synthèse"]["A1"].value.endswith("situation à fin juin 2026 (30/06/2026)")
