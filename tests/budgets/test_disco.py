"""The DISCO page (every line and its available amount) and its XLSX export."""

import html
from io import BytesIO
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from budgets import services
from dsi_finance.roles import Role
from tests.assertions import assert_sends_to_login
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    FiscalYearFactory,
    NatureAccountFactory,
    ProjectFactory,
    fund,
)

pytestmark = pytest.mark.django_db

URL = reverse("budgets:disco")
EXPORT_URL = reverse("budgets:disco-export")
NBSP = "\u00a0"
NNBSP = "\u202f"


def figure(francs: int) -> str:
    """How a list cell writes an amount (its header names the currency): `1 234 567`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP)


def xpf(francs: int) -> str:
    """How the screens write an amount: `1 234 567 F CFP`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


@pytest.fixture
def budget(chef, directeur):
    """Four lines of 2026 (open) with known figures, and one line of 2025 (closed).

    code            opened     committed  liquidated  available
    F-6156-INFRA  1 000 000     600 000     250 000     400 000
    F-6262-INFRA    400 000     390 000           0      10 000   (under 10 %)
    F-6156-APPLI  2 500 000           0           0   2 500 000   (project SIRH)
    I-2183-INFRA  3 000 000   3 500 000   1 000 000    -500 000   (overridden)
    """
    infra = CostCentreFactory(code="INFRA", label="Infrastructures et exploitation")
    appli = CostCentreFactory(code="APPLI", label="Applications métier")
    maintenance = NatureAccountFactory(number="6156", label="Maintenance")
    telecom = NatureAccountFactory(number="6262", label="Frais de télécommunications")
    hardware = NatureAccountFactory(
        number="2183",
        label="Matériel informatique",
        chapter=ChapterFactory(code="21", label="Immobilisations corporelles", section="I"),
    )
    sirh = ProjectFactory(code="SIRH", label="Nouveau SIRH")
    lines = SimpleNamespace(
        maintenance=BudgetLineFactory(
            code="F-6156-INFRA",
            label="Maintenance des serveurs",
            nature_account=maintenance,
            cost_centre=infra,
        ),
        telecom=BudgetLineFactory(
            code="F-6262-INFRA",
            label="Liaisons télécom",
            nature_account=telecom,
            cost_centre=infra,
        ),
        licences=BudgetLineFactory(
            code="F-6156-APPLI",
            label="Licences du SIRH",
            nature_account=maintenance,
            cost_centre=appli,
            project=sirh,
        ),
        workstations=BudgetLineFactory(
            code="I-2183-INFRA",
            label="Renouvellement des postes",
            nature_account=hardware,
            cost_centre=infra,
        ),
    )
    revision = fund(
        {
            lines.maintenance: 1_000_000,
            lines.telecom: 400_000,
            lines.licences: 2_500_000,
            lines.workstations: 3_000_000,
        }
    )
    services.credits_commit(user=chef, document=revision, amounts={lines.maintenance: 600_000})
    services.credits_liquidate(user=chef, document=revision, line=lines.maintenance, amount=250_000)
    services.credits_commit(user=chef, document=revision, amounts={lines.telecom: 390_000})
    services.credits_commit(user=chef, document=revision, amounts={lines.workstations: 2_000_000})
    services.credits_commit(
        user=directeur,
        document=revision,
        amounts={lines.workstations: 1_500_000},
        override_reason="Remplacement urgent après sinistre",
    )
    services.credits_liquidate(
        user=chef, document=revision, line=lines.workstations, amount=1_000_000
    )

    old_year = FiscalYearFactory(year=2025, state="open")
    lines.old = BudgetLineFactory(
        fiscal_year=old_year,
        code="F-6156-INFRA",
        label="Maintenance des serveurs 2025",
        nature_account=maintenance,
        cost_centre=infra,
    )
    fund({lines.old: 900_000})
    services.fiscal_year_close(user=chef, fiscal_year=old_year)
    return lines


def codes(response) -> list[str]:
    """The line codes of the page shown, in order."""
    return [line.code for line in response.context["table"].paginated_rows.data]


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- Who may open it --------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_every_line_of_the_current_year_with_its_figures(
    role, cast, budget, client_as
):
    response = client_as(cast[role]).get(URL)
    assert response.status_code == 200
    assert codes(response) == ["F-6156-APPLI", "F-6156-INFRA", "F-6262-INFRA", "I-2183-INFRA"]
    row = next(
        line
        for line in response.context["table"].paginated_rows.data
        if line.code == "F-6156-INFRA"
    )
    assert (
        row.opened,
        row.committed,
        row.liquidated,
        row.to_liquidate_amount,
        row.available_amount,
    ) == (1_000_000, 600_000, 250_000, 350_000, 400_000)
    assert row.execution_rate == 25
    text = page_text(response)
    assert "Disponible" in text
    assert "Crédits ouverts" in text
    assert "Reste à liquider" in text
    assert "Disponible (F\u00a0CFP)" in text  # the currency once, in the header
    assert f">{figure(400_000)}<" in text


def test_an_anonymous_visitor_is_sent_to_login(client):
    assert_sends_to_login(client.get(URL))
    assert_sends_to_login(client.get(EXPORT_URL))


def test_an_account_without_a_role_is_refused(sans_role, budget, client_as):
    assert client_as(sans_role).get(URL).status_code == 403
    assert client_as(sans_role).get(EXPORT_URL).status_code == 403


# --- Figures and totals -----------------------------------------------------------


def test_the_totals_row_is_the_sum_of_the_filtered_lines(chef, budget, client_as):
    response = client_as(chef).get(URL, {"cost_centre": "INFRA"})
    assert codes(response) == ["F-6156-INFRA", "F-6262-INFRA", "I-2183-INFRA"]
    totals = response.context["table"].totals
    lines = [budget.maintenance, budget.telecom, budget.workstations]
    for line in lines:
        line.refresh_from_db()
    assert totals.opened == sum(line.opened for line in lines) == 4_400_000
    assert totals.committed == sum(line.committed for line in lines) == 4_490_000
    assert totals.liquidated == 1_250_000
    assert totals.to_liquidate == 3_240_000
    assert totals.available == -90_000
    footer = page_text(response).split("<tfoot")[1].split("</tfoot>")[0]
    for amount in (4_400_000, 4_490_000, 1_250_000, 3_240_000, -90_000):
        assert f">{figure(amount)}<" in footer
    assert "3 lignes" in footer.replace(NNBSP, " ").replace(NBSP, " ")
    assert "28,4" in footer  # execution rate: 1 250 000 / 4 400 000


def test_the_totals_cover_every_page_not_only_the_one_shown(chef, client_as):
    lines = BudgetLineFactory.create_batch(53)
    fund(dict.fromkeys(lines, 1_000))
    first = client_as(chef).get(URL)
    second = client_as(chef).get(URL, {"page": 2})
    assert len(codes(first)) == 50
    assert len(codes(second)) == 3
    assert first.context["table"].totals.opened == second.context["table"].totals.opened == 53_000
    assert set(codes(first)).isdisjoint(codes(second))


def test_a_negative_available_amount_is_shown_in_red_and_links_to_its_entries(
    chef, budget, client_as
):
    text = page_text(client_as(chef).get(URL))
    drill = f"{budget.workstations.get_absolute_url()}?figure=available"
    link = text.split(f'href="{drill}"')[1].split("</a>")[0]
    assert "text-danger" in link
    assert link.endswith(f">{figure(-500_000)}")


def test_each_figure_of_a_line_links_to_the_line_page_filtered_on_that_figure(
    chef, budget, client_as
):
    text = page_text(client_as(chef).get(URL))
    base = reverse("budgets:line-detail", args=[budget.maintenance.pk])
    for figure in ("opened", "committed", "liquidated", "to_liquidate", "available"):
        assert f'href="{base}?figure={figure}"' in text


# --- Filters -----------------------------------------------------------------------


def test_the_current_fiscal_year_is_shown_unless_another_is_chosen(chef, budget, client_as):
    client = client_as(chef)
    assert "Maintenance des serveurs 2025" not in page_text(client.get(URL))
    old = client.get(URL, {"year": "2025"})
    assert codes(old) == ["F-6156-INFRA"]
    assert old.context["table"].totals.opened == 900_000
    every_year = client.get(URL, {"year": ""})
    assert len(codes(every_year)) == 5
    assert every_year.context["table"].totals.opened == 6_900_000 + 900_000


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"section": "I"}, ["I-2183-INFRA"]),
        ({"section": "F", "cost_centre": "INFRA"}, ["F-6156-INFRA", "F-6262-INFRA"]),
        ({"chapter": "011"}, ["F-6156-APPLI", "F-6156-INFRA", "F-6262-INFRA"]),
        ({"cost_centre": "APPLI"}, ["F-6156-APPLI"]),
        ({"project": "SIRH"}, ["F-6156-APPLI"]),
        ({"q": "6156"}, ["F-6156-APPLI", "F-6156-INFRA"]),
        ({"q": "maintenance serveurs"}, ["F-6156-INFRA"]),
        ({"q": "télécom"}, ["F-6262-INFRA"]),
        ({"low": "on"}, ["F-6262-INFRA", "I-2183-INFRA"]),
    ],
)
def test_filters_keep_exactly_the_matching_lines(filters, expected, chef, budget, client_as):
    response = client_as(chef).get(URL, filters)
    assert codes(response) == expected


def test_an_unknown_cost_centre_is_reported_in_french_and_lists_nothing(chef, budget, client_as):
    response = client_as(chef).get(URL, {"cost_centre": "NOPE"})
    assert response.status_code == 200
    assert codes(response) == []
    assert "Sélectionnez un choix valide" in page_text(response)
    assert response.context["table"].totals.opened == 0


# --- Sorting, pagination, htmx --------------------------------------------------------


def test_sorting_by_available_amount_in_both_directions(chef, budget, client_as):
    client = client_as(chef)
    ascending = codes(client.get(URL, {"sort": "available"}))
    assert ascending == ["I-2183-INFRA", "F-6262-INFRA", "F-6156-INFRA", "F-6156-APPLI"]
    assert codes(client.get(URL, {"sort": "-available"})) == ascending[::-1]


def test_sorting_by_execution_rate(chef, budget, client_as):
    response = client_as(chef).get(URL, {"sort": "-execution_rate", "section": "F"})
    # 25 %, then the two lines with nothing liquidated (0 %), by code.
    assert codes(response)[0] == "F-6156-INFRA"


def test_an_htmx_request_for_the_table_gets_only_the_table_region(chef, budget, client_as):
    response = client_as(chef).get(
        URL,
        {"section": "I"},
        headers={"HX-Request": "true", "HX-Target": "table-region"},
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="table-region"')
    assert "<html" not in text
    assert "<form" not in text
    assert codes(response) == ["I-2183-INFRA"]
    # The export link follows the filters shown.
    assert f'href="{EXPORT_URL}?year=2026&amp;section=I"' in text


def test_the_page_costs_the_same_queries_for_3_or_120_lines(
    chef, client_as, django_assert_max_num_queries
):
    client = client_as(chef)
    fund(dict.fromkeys(BudgetLineFactory.create_batch(3), 1_000))
    client.get(URL)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        client.get(URL, {"sort": "-available"})
    fund(dict.fromkeys(BudgetLineFactory.create_batch(117), 1_000), kind="DM1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL, {"sort": "-available"})
    assert response.context["table"].paginator.count == 120
    assert response.context["table"].totals.opened == 120_000


# --- XLSX export ----------------------------------------------------------------------


def open_export(response):
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    return workbook.active


def test_the_export_has_french_headers_integer_amounts_and_a_totals_row(chef, budget, client_as):
    response = client_as(chef).get(EXPORT_URL, {"year": "2026", "cost_centre": "INFRA"})
    assert 'filename="disponible-2026.xlsx"' in response["Content-Disposition"]
    sheet = open_export(response)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Exercice",
        "Code",
        "Libellé",
        "Section",
        "Chapitre",
        "Compte de nature",
        "Centre de coûts",
        "Projet",
        "Crédits ouverts",
        "Engagé",
        "Liquidé",
        "Reste à liquider",
        "Disponible",
        "Taux d’exécution (%)",
    )
    assert sheet.freeze_panes == "A2"
    body, total = rows[1:-1], rows[-1]
    assert [row[1] for row in body] == ["F-6156-INFRA", "F-6262-INFRA", "I-2183-INFRA"]
    maintenance = body[0]
    assert maintenance[:8] == (
        2026,
        "F-6156-INFRA",
        "Maintenance des serveurs",
        "F",
        "011",
        "6156",
        "INFRA",
        None,
    )
    assert maintenance[8:13] == (1_000_000, 600_000, 250_000, 350_000, 400_000)
    assert all(type(value) is int for value in maintenance[8:13])
    assert body[2][12] == -500_000
    assert total[0] == "Total"
    assert total[8:13] == (4_400_000, 4_490_000, 1_250_000, 3_240_000, -90_000)
    assert [sum(row[index] for row in body) for index in range(8, 13)] == list(total[8:13])
    assert sheet.cell(row=2, column=9).number_format.startswith("#,##0")


def test_the_export_holds_every_filtered_line_not_only_one_page(chef, client_as):
    lines = BudgetLineFactory.create_batch(57)
    fund(dict.fromkeys(lines, 2_000))
    sheet = open_export(client_as(chef).get(EXPORT_URL))
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 57 + 1
    assert rows[-1][8] == 57 * 2_000


def test_the_export_neutralises_text_that_a_spreadsheet_would_run(chef, client_as):
    line = BudgetLineFactory(code="F-001", label='=HYPERLINK("http://evil.example","clic")')
    fund({line: 5_000})
    sheet = open_export(client_as(chef).get(EXPORT_URL))
    label = sheet.cell(row=2, column=3).value
    assert label == '\'=HYPERLINK("http://evil.example","clic")'
    assert sheet.cell(row=2, column=3).data_type == "s"


def test_the_export_of_every_year_is_named_without_a_year(chef, budget, client_as):
    response = client_as(chef).get(EXPORT_URL, {"year": ""})
    assert 'filename="disponible.xlsx"' in response["Content-Disposition"]
    rows = list(open_export(response).iter_rows(values_only=True))
    assert len(rows) == 1 + 5 + 1


def test_the_export_with_broken_filters_sends_back_to_the_page_with_a_french_message(
    chef, budget, client_as
):
    response = client_as(chef).get(EXPORT_URL, {"chapter": "999"}, follow=True)
    assert response.redirect_chain[0][0].startswith(URL)
    text = page_text(response)
    assert "Certains filtres ne sont pas valides : rien n’a été exporté." in text
    assert "Sélectionnez un choix valide" in text
