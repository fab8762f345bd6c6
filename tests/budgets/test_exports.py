"""The budgets lists' XLSX exports (`?export=xlsx`): transfers, a line's ledger entries,
fiscal years and revisions hold exactly the page's rows, figures and permission."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from budgets import services
from budgets.selectors import availability_totals, line_availability
from tests.assertions import assert_sends_to_login
from tests.factories import BudgetLineFactory, FiscalYearFactory, fund

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]


@pytest.fixture
def lines(chef):
    source = BudgetLineFactory(code="F-6156-INFRA", label="=Piège à tableur")
    target = BudgetLineFactory(code="F-6156-APPLI", label="Maintenance applicative")
    revision = fund({source: 1_000_000, target: 300_000})
    services.credits_commit(user=chef, document=revision, amounts={source: 100_000})
    FiscalYearFactory(year=2027, state="preparation")
    return source, target, revision


@pytest.fixture
def transfers(chef, lines):
    """Five transfers of 10 000 to 50 000; three cancelled, two still requested."""
    source, target, _revision = lines
    made = [
        services.transfer_request(
            user=chef, source=source, target=target, amount=10_000 * n, reason=f"=cmd {n}"
        )
        for n in range(1, 6)
    ]
    for transfer in made[::2]:
        services.transfer_cancel(user=chef, transfer=transfer)
    return made


def test_the_transfers_export_holds_the_filtered_transfers_and_their_amounts(
    transfers, chef, client_as
):
    client = client_as(chef)
    url = reverse("budgets:transfer-list")
    page = client.get(url, {"state": "requested"})
    records = [row.record for row in page.context["table"].paginated_rows]
    rows = rows_of(client.get(url, {"state": "requested", "export": "xlsx"}))
    body, total = rows[:-1], rows[-1]
    assert [row[6] for row in body] == [record.amount for record in records] == [40_000, 20_000]
    assert total[6] == 60_000
    assert {row[2] for row in body} == {"F-6156-INFRA"}
    assert {row[3] for row in body} == {"'=Piège à tableur"}
    assert sorted(row[8] for row in body) == ["'=cmd 2", "'=cmd 4"]


def test_a_lines_ledger_export_holds_the_entries_of_the_chosen_figure(lines, chef, client_as):
    source, _target, revision = lines
    client = client_as(chef)
    url = reverse("budgets:line-detail", args=[source.pk])
    every = rows_of(client.get(url, {"export": "xlsx"}))
    committed = rows_of(client.get(url, {"figure": "committed", "export": "xlsx"}))
    page = client.get(url, {"figure": "committed"})
    records = [row.record for row in page.context["table"].paginated_rows]
    assert [row[2] for row in committed[:-1]] == [entry.amount for entry in records] == [100_000]
    assert committed[0][5] == str(revision)
    assert [row[2] for row in every[:-1]] == [100_000, 1_000_000]  # newest first, as the page
    assert every[-1][2] == 1_100_000
    assert every[0][3] == 900_000  # available after: a number


def test_the_fiscal_years_export_has_the_pages_figures(lines, chef, client_as):
    rows = rows_of(client_as(chef).get(reverse("budgets:fiscal-year-list"), {"export": "xlsx"}))
    totals = availability_totals(line_availability(actor=chef).filter(fiscal_year__year=2026))
    assert [row[0] for row in rows] == [2027, 2026]
    assert rows[1][2:8] == [2, 1_300_000, 100_000, 0, 100_000, 1_200_000]
    assert rows[1][3] == totals.opened
    assert rows[0][2] == 0 and rows[0][3] is None


def test_the_revisions_export_lists_each_revision_with_its_total(lines, chef, client_as):
    rows = rows_of(client_as(chef).get(reverse("budgets:revision-list"), {"export": "xlsx"}))
    assert len(rows) == 1  # no totals row: BP amounts and DM changes do not add up
    assert rows[0][0] == 2026
    assert rows[0][5:] == [2, 1_300_000]


@pytest.mark.parametrize(
    ("name", "wrong_role"),
    [
        ("transfer-list", "acheteur"),
        ("revision-list", "comptable"),
        ("fiscal-year-list", "sans_role"),
        ("line-detail", "sans_role"),
    ],
)
def test_each_export_has_its_pages_permission(name, wrong_role, lines, request, client):
    args = [lines[0].pk] if name == "line-detail" else []
    url = reverse(f"budgets:{name}", args=args)
    assert_sends_to_login(client.get(url, {"export": "xlsx"}))
    client.force_login(request.getfixturevalue(wrong_role))
    assert client.get(url, {"export": "xlsx"}).status_code == 403
