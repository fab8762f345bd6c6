"""The director's dashboard: its figures on a small hand-built ledger whose entries are
dated with the clock patched (this year, last year at the same date, the monthly
cumulative liquidated amount), the lines at risk in their stated order, the requests
waiting and the invoices late, the lists each figure leads to, and the page for each
role (the home page of the roles that read the dashboard)."""

from datetime import date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets import services
from budgets.models import LedgerEntry
from dsi_finance.money import format_xpf
from procurement.models import Invoice
from procurement.services.invoices import (
    invoice_liquidate,
)
from procurement.services.payments import invoice_set_payment_date
from reporting.selectors.dashboard import dashboard, entries_url, pace, same_day, year_elapsed
from tests.assertions import assert_sends_to_login
from tests.factories import (
    BudgetLineFactory,
    FiscalYearFactory,
    fund,
)
from tests.reporting import dashboard_books
from tests.reporting.dashboard_books import NOUMEA, TODAY, clock, commit, liquidate

pytestmark = pytest.mark.django_db

books = dashboard_books.books  # the fixture

URL = reverse("reporting:dashboard")


def board_for(user, **kwargs):
    kwargs.setdefault("today", TODAY)
    return dashboard(actor=user, **kwargs)


# --- Figures ----------------------------------------------------------------


def test_the_cards_show_the_years_figures_beside_last_years_at_the_same_date(books, directeur):
    board = board_for(directeur)
    figures = board.figures
    assert board.fiscal_year == books["year"]
    assert board.as_of == date(2025, 6, 15)
    assert figures["opened"].value == 3_500_000
    assert figures["committed"].value == 1_450_000
    assert figures["liquidated"].value == 600_000
    assert figures["available"].value == 2_050_000
    assert figures["execution_rate"].value == Decimal("17.1")
    # 2025 on 15 June at midnight, Nouméa time: the 23:00 liquidation counts, 00:30 not.
    assert figures["opened"].last_year == 800_000
    assert figures["committed"].last_year == 600_000
    assert figures["liquidated"].last_year == 300_000
    assert figures["available"].last_year == 200_000
    assert figures["execution_rate"].last_year == Decimal("37.5")
    assert figures["liquidated"].change == 300_000


def test_the_figures_are_the_ledgers(books, directeur):
    """The cards (cached totals) equal the sums of the year's ledger entries."""
    board = board_for(directeur)
    entries = LedgerEntry.objects.filter(budget_line__fiscal_year=books["year"])
    kinds = {"opened": ("open",), "committed": ("commit",), "liquidated": ("liquidate",)}
    for figure, kind in kinds.items():
        total = sum(entries.filter(kind__in=kind).values_list("amount", flat=True))
        assert board.figures[figure].value == total


def test_a_past_year_is_compared_with_the_whole_year_before(books, directeur):
    FiscalYearFactory(year=2024, state="closed")
    board = board_for(directeur, fiscal_year=2025)
    assert board.as_of is None
    assert board.figures["liquidated"].value == 500_000
    assert board.figures["liquidated"].last_year == 0
    assert board.figures["opened"].last_year_url == reverse("budgets:disco") + "?year=2024"


def test_without_a_previous_year_there_is_nothing_to_compare(books, directeur):
    board = board_for(directeur, fiscal_year=2025)
    assert board.previous_year is None
    assert all(card.last_year is None and card.last_year_url is None for card in board.cards)
    assert all(point.last_year is None for point in board.months)


def test_the_same_day_last_year_of_29_february_is_the_28th():
    assert same_day(2027, date(2028, 2, 29)) == date(2027, 2, 28)
    assert same_day(2025, date(2026, 6, 15)) == date(2025, 6, 15)


def test_the_monthly_cumulative_liquidated_follows_the_noumea_months(books, directeur):
    months = board_for(directeur).months
    # B's liquidation at 00:30 on 1 April in Nouméa is April's, though 31 March in UTC.
    assert [p.liquidated for p in months] == [
        0,
        300_000,
        300_000,
        600_000,
        600_000,
        600_000,
        *[None] * 6,
    ]
    assert [p.last_year for p in months] == [
        0,
        0,
        0,
        0,
        200_000,
        350_000,
        350_000,
        350_000,
        500_000,
        500_000,
        500_000,
        500_000,
    ]
    # opened × m / 12, rounded to the franc.
    assert [p.linear for p in months][:3] == [291_667, 583_333, 875_000]
    assert months[11].linear == 3_500_000
    assert months[2].url == entries_url(2026, "liquidated", date(2026, 3, 31))
    assert months[6].url is None
    assert months[1].last_year_url == entries_url(2025, "liquidated", date(2025, 2, 28))


def test_section_and_chapter_bars_stack_to_the_opened_credits(books, directeur):
    board = board_for(directeur)
    sections = {bar.key: bar for bar in board.sections}
    assert (sections["F"].committed, sections["F"].liquidated, sections["F"].available) == (
        950_000,
        500_000,
        550_000,
    )
    assert (sections["I"].committed, sections["I"].liquidated, sections["I"].available) == (
        500_000,
        100_000,
        1_500_000,
    )
    for bar in board.sections + board.chapters:
        assert bar.liquidated + bar.to_liquidate + bar.available == bar.opened
    chapters = {bar.key: bar for bar in board.chapters}
    assert chapters["011"].label == "011 Charges à caractère général"
    assert chapters["21"].opened == 2_000_000
    assert sections["F"].url == reverse("budgets:disco") + "?year=2026&section=F"
    assert chapters["21"].url == reverse("budgets:disco") + "?year=2026&chapter=21"


def test_the_lines_at_risk_are_ranked_by_headroom_rate(books, directeur):
    """B: forecast 2 500 000 above its 2 000 000 (headroom −25 %); A: 50 000 available of
    1 000 000 (5 %); C: forecast under its credits, 100 % available: not at risk."""
    risks = board_for(directeur).at_risk
    assert [(r.line.code, r.reason, r.forecast, r.headroom) for r in risks] == [
        ("I-B", "forecast", 2_500_000, -500_000),
        ("F-A", "available", None, 50_000),
    ]
    assert risks[0].url == reverse("budgets:line-detail", args=[books["b"].pk])


def test_a_line_without_credits_but_committed_comes_first(books, chef, directeur):
    d = BudgetLineFactory(fiscal_year=books["year"], code="F-D")
    services.credits_commit(
        user=directeur, document=d, amounts={d: 1_000}, override_reason="Urgence"
    )
    codes = [r.line.code for r in board_for(directeur).at_risk]
    assert codes == ["F-D", "I-B", "F-A"]


def test_only_ten_lines_at_risk_are_listed(books, chef):
    lines = [BudgetLineFactory(fiscal_year=books["year"], code=f"F-X{i:02d}") for i in range(12)]
    fund(dict.fromkeys(lines, 100_000), kind="DM1")
    for i, line in enumerate(lines):
        commit(chef, line, 95_000 + i * 100)
    risks = board_for(chef).at_risk
    assert len(risks) == 10
    # The least headroom first: the last lines committed the most.
    assert [r.line.code for r in risks[:3]] == ["I-B", "F-X11", "F-X10"]


def test_requests_waiting_and_invoices_late_are_counted_with_their_amounts(books, directeur):
    board = board_for(directeur)
    assert (board.requests.count, board.requests.amount) == (1, 120_000)
    assert [r.number for r in board.requests.rows] == [books["waiting"].number]
    assert (board.invoices.count, board.invoices.amount) == (2, 36_600)
    assert [i.number for i in board.invoices.rows] == [i.number for i in books["late"]]
    assert board.invoices.average_payment_days is None  # nothing paid yet


def test_the_average_payment_delay_is_the_years_paid_invoices(books, comptable, chef):
    invoice = Invoice.objects.get(supplier_number="F-3")
    services.credits_commit(user=chef, document=books["c"], amounts={books["c"]: 40_000})
    invoice = invoice_liquidate(user=comptable, invoice=invoice)
    invoice_set_payment_date(user=comptable, invoice=invoice, payment_date=date(2026, 6, 11))
    board = board_for(chef)
    assert board.invoices.average_payment_days == Decimal("10.0")
    assert board.invoices.paid_count == 1


# --- Links: each figure leads to a list that shows it --------------------------


def test_each_card_leads_to_the_disco_list_whose_totals_it_shows(books, directeur, client_as):
    client = client_as(directeur)
    board = board_for(directeur)
    response = client.get(board.figures["opened"].url)
    totals = response.context["table"].totals
    assert (totals.opened, totals.committed, totals.liquidated, totals.available) == (
        3_500_000,
        1_450_000,
        600_000,
        2_050_000,
    )


def test_each_bar_leads_to_the_disco_list_of_its_section_or_chapter(books, directeur, client_as):
    client = client_as(directeur)
    board = board_for(directeur)
    for bar in board.sections + board.chapters:
        totals = client.get(bar.url).context["table"].totals
        assert (totals.committed, totals.liquidated, totals.available) == (
            bar.committed,
            bar.liquidated,
            bar.available,
        )


def test_each_monthly_point_leads_to_the_liquidations_it_sums(books, directeur, client_as):
    client = client_as(directeur)
    board = board_for(directeur)
    for point in board.months:
        if point.url:
            assert client.get(point.url).context["total"] == point.liquidated
        assert client.get(point.last_year_url).context["total"] == point.last_year


def test_last_years_figures_lead_to_the_entries_up_to_the_same_date(books, directeur, client_as):
    client = client_as(directeur)
    for card in board_for(directeur).cards:
        if card.key == "execution_rate":
            continue
        response = client.get(card.last_year_url)
        assert response.context["total"] == card.last_year, card.key
    page = client.get(entries_url(2025, "liquidated", date(2025, 6, 15))).content.decode()
    assert "jusqu’au 15/06/2025" in page  # the typographic apostrophe, as the catalogue writes
    assert format_xpf(300_000) in page


def test_the_lines_at_risk_lead_to_the_disco_filter_of_low_available(books, directeur, client_as):
    board = board_for(directeur)
    lines = client_as(directeur).get(board.at_risk_url).context["object_list"]
    assert [line.code for line in lines] == ["F-A"]  # the forecast overrun is not a DISCO filter


def test_the_requests_figure_leads_to_the_to_approve_tab_or_to_all_submitted(
    books, chef, directeur, controleur, client_as
):
    for user, tab in ((chef, "to_approve"), (directeur, "to_approve"), (controleur, "all")):
        board = board_for(user)
        assert f"tab={tab}" in board.requests.url
        response = client_as(user).get(board.requests.url)
        assert response.status_code == 200
        numbers = [r.number for r in response.context["object_list"]]
        assert numbers == [books["waiting"].number]


def test_the_late_invoices_figure_leads_to_the_late_tab_of_the_year(books, directeur, client_as):
    board = board_for(directeur, today=timezone.localdate())
    response = client_as(directeur).get(board.invoices.url)
    numbers = sorted(i.number for i in response.context["object_list"])
    assert numbers == sorted(i.number for i in board.invoices.rows)
    assert board.invoices.count == len(numbers) == 3  # on the real today all three are due


# --- The page --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["chef", "directeur", "controleur"])
def test_the_roles_that_read_the_dashboard_see_it(role, books, request, client_as):
    user = request.getfixturevalue(role)
    response = client_as(user).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Tableau de bord 2026" in page
    assert 'id="dashboard-data" type="application/json"' in page
    assert 'id="chart-months"' in page and 'id="chart-sections"' in page
    assert format_xpf(3_500_000) in page  # opened
    assert "reporting/dashboard.js" in page
    assert "<script>" not in page  # data through json_script, code in a static file
    data = response.context["chart_data"]
    assert data["sections"]["labels"] == ["Fonctionnement (OPEX)", "Investissement (CAPEX)"]
    assert data["sections"]["urls"][0] == reverse("budgets:disco") + "?year=2026&section=F"


@pytest.mark.parametrize("role", ["acheteur", "comptable", "sans_role"])
def test_the_other_roles_are_refused(role, request, client_as):
    response = client_as(request.getfixturevalue(role)).get(URL)
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_login(client):
    assert_sends_to_login(client.get(URL))
    assert_sends_to_login(client.get(reverse("reporting:dashboard-entries")))


def test_the_page_refuses_a_post(books, directeur, client_as):
    assert client_as(directeur).post(URL).status_code == 405


def test_an_unknown_year_gets_a_french_message_and_the_current_year(books, directeur, client_as):
    for year in ("1999", "abc", "99999999999"):
        response = client_as(directeur).get(URL, {"year": year})
        assert response.status_code == 200
        page = response.content.decode()
        assert "n’existe pas : l’exercice en cours est affiché" in page
        assert response.context["board"].fiscal_year == books["year"]


def test_another_year_is_shown_on_request(books, directeur, client_as):
    response = client_as(directeur).get(URL, {"year": "2025"})
    assert response.context["board"].fiscal_year == books["last"]
    assert "Tableau de bord 2025" in response.content.decode()


def test_the_page_says_so_when_no_year_exists(directeur, client_as):
    response = client_as(directeur).get(URL)
    assert response.status_code == 200
    assert 'data-testid="no-year"' in response.content.decode()


def test_the_entries_list_refuses_other_roles_and_names_bad_parameters(
    books, acheteur, directeur, client_as
):
    url = reverse("reporting:dashboard-entries")
    assert client_as(acheteur).get(url).status_code == 403
    response = client_as(directeur).get(url, {"year": "2026", "figure": "x", "until": "2026-13-45"})
    page = response.content.decode()
    assert "Montant inconnu : les liquidations sont listées." in page
    assert "n’est pas valide" in page
    assert response.context["total"] == 600_000  # liquidated, every date


def test_the_home_page_of_the_dashboard_roles_is_the_dashboard(books, chef, client_as):
    response = client_as(chef).get(reverse("home"))
    page = response.content.decode()
    assert "Bonjour" in page and 'id="chart-months"' in page
    # The work waiting for the section head comes first, the dashboard below it.
    assert page.index('data-testid="home-queues"') < page.index('id="chart-months"')
    assert 'data-testid="capabilities"' not in page  # moved to « Mes droits »


def test_the_home_page_of_the_other_roles_is_unchanged(books, acheteur, client_as):
    page = client_as(acheteur).get(reverse("home")).content.decode()
    assert "Bonjour" in page and "chart-months" not in page


def test_the_dashboard_reads_a_constant_number_of_queries(
    books, directeur, client_as, django_assert_max_num_queries
):
    client = client_as(directeur)
    client.get(URL)
    # Whatever the number of lines, entries, requests or invoices: aggregates only.
    with django_assert_max_num_queries(30):
        client.get(URL)
    lines = [BudgetLineFactory(fiscal_year=books["year"]) for _ in range(5)]
    fund(dict.fromkeys(lines, 1_000), kind="DM1")
    with django_assert_max_num_queries(30):
        client.get(URL)


def test_months_to_come_are_not_drawn(books, directeur):
    board = board_for(directeur, today=date(2026, 1, 31))
    assert [p.liquidated for p in board.months][:2] == [0, None]
    assert board.as_of == date(2025, 1, 31)
    assert board.figures["liquidated"].last_year == 0
    assert board.figures["opened"].last_year == 800_000


# NB: the API is tested in test_dashboard_api.py.


def test_past_months_are_kept_and_the_current_month_is_summed_live(books, chef):
    from reporting.selectors.dashboard import ledger_figures, monthly_liquidated

    year, a = books["year"], books["a"]
    in_may = datetime(2026, 5, 20, 12, tzinfo=NOUMEA)
    first = monthly_liquidated(year, now=in_may)
    assert first[:5] == [0, 300_000, 300_000, 600_000, 600_000]
    # A liquidation of the current month shows at once; the kept months stay right.
    with clock(2026, 5, 21):
        liquidate(chef, a, 50_000)
    again = monthly_liquidated(year, now=in_may)
    assert again[:5] == [0, 300_000, 300_000, 600_000, 650_000]
    # Entries dated back in an earlier month (the demo's clock) are never hidden by a
    # kept sum: the key names the latest entry before the month.
    with clock(2026, 4, 30):
        liquidate(chef, a, 10_000)
    assert monthly_liquidated(year, now=in_may)[3:5] == [610_000, 660_000]
    # Last year at a past date: kept as well, and equal to the plain sum.
    last = books["last"]
    kept = ledger_figures(fiscal_year=last, until=date(2025, 6, 15))
    assert kept == ledger_figures(fiscal_year=last, until=date(2025, 6, 15))
    assert kept.liquidated == sum(
        LedgerEntry.objects.filter(
            budget_line__fiscal_year=last,
            kind__in=("liquidate", "unliquidate"),
            created_at__lt=datetime(2025, 6, 16, tzinfo=NOUMEA),
        ).values_list("amount", flat=True)
    )


# --- Pace: colour by meaning (helper "layout") ------------------------------------


@pytest.mark.parametrize(
    ("spent", "opened", "elapsed", "expected"),
    [
        (600_000, 1_000_000, Decimal("0.5"), "ahead"),  # 10 points ahead
        (551_000, 1_000_000, Decimal("0.5"), "ahead"),  # just over the 5-point tolerance
        (550_000, 1_000_000, Decimal("0.5"), "on_track"),  # on the tolerance
        (450_000, 1_000_000, Decimal("0.5"), "on_track"),
        (449_000, 1_000_000, Decimal("0.5"), "behind"),
        (900_000, 1_000_000, Decimal("1"), "behind"),  # December, 10 % left unspent
        (0, 0, Decimal("0.5"), None),  # no credits: no pace
        (0, 1_000_000, Decimal("0"), None),  # the year has not started
    ],
)
def test_the_pace_compares_spending_with_the_linear_path(spent, opened, elapsed, expected):
    assert pace(spent=spent, opened=opened, elapsed=elapsed) == expected


def test_the_share_of_the_year_gone_counts_today():
    assert year_elapsed(2026, date(2025, 12, 31)) == 0
    assert year_elapsed(2026, date(2026, 1, 1)) == Decimal(1) / 365
    assert year_elapsed(2026, date(2026, 7, 2)) == Decimal(183) / 365
    assert year_elapsed(2026, date(2026, 12, 31)) == 1
    assert year_elapsed(2025, date(2026, 6, 15)) == 1


def test_spending_ahead_of_the_path_colours_cards_and_bars_as_a_warning(books, directeur):
    # On 31 January 8.5 % of the year is gone and 17.1 % of the credits are liquidated.
    board = board_for(directeur, today=date(2026, 1, 31))
    assert board.pace == "ahead"
    assert board.pace_tone == "warning"
    figures = board.figures
    assert {key: figures[key].tone for key in figures} == {
        "opened": "secondary",  # voted credits: no pace
        "committed": "warning",
        "liquidated": "warning",
        "available": "warning",
        "execution_rate": "warning",
    }
    # 011: 500 000 of 1 500 000 liquidated (33 %): ahead; 21: 100 000 of 2 000 000 (5 %),
    # within 5 points of 8.5 %: on track.
    assert {bar.key: bar.pace for bar in board.chapters} == {"011": "ahead", "21": "on_track"}
    assert {bar.key: bar.tone for bar in board.chapters} == {"011": "warning", "21": "secondary"}


def test_spending_behind_the_path_is_information_not_good_news(books, directeur):
    # On 15 June 45.5 % of the year is gone and 17.1 % liquidated: behind. The available
    # amount grew against last year, which is no success: its change is not green.
    board = board_for(directeur)
    assert board.pace == "behind"
    assert board.figures["available"].change == 2_050_000 - 200_000
    assert board.figures["available"].tone == "info"
    assert {bar.key: bar.pace for bar in board.sections} == {"F": "behind", "I": "behind"}
    # Months: January (nothing liquidated against 1/12 of the path) is behind; the months
    # to come have no pace.
    assert [point.pace for point in board.months] == ["behind"] * 6 + [None] * 6


def test_the_page_gives_the_charts_their_pace_and_colours_the_changes(books, directeur, client_as):
    import json
    import re

    with mock.patch.object(timezone, "localdate", return_value=date(2026, 1, 31)):
        response = client_as(directeur).get(URL)
    page = response.content.decode()
    data = json.loads(
        re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', page)[1]
    )
    assert data["chapters"]["labels"][0].startswith("011")
    assert data["chapters"]["pace"] == ["ahead", "on_track"]
    assert data["months"]["pace"] == ["behind"] + [None] * 11  # nothing liquidated in January
    assert data["labels"]["pace"]["ahead"] == "Dépenses en avance sur la trajectoire linéaire"
    assert 'data-testid="pace" data-pace="ahead"' in page
    assert 'data-testid="change-available" data-tone="warning"' in page
    assert 'data-testid="change-opened" data-tone="secondary"' in page
    assert "text-success" not in page.split('data-testid="cards"')[1].split("chart-months")[0]
