"""The procurement lists' XLSX exports (`?export=xlsx`): exactly the page's filtered
rows, in its order, all pages of them, with the page's figures and permission."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from procurement.models import Invoice
from procurement.services import orders, receipts
from procurement.services.invoices import invoice_create
from tests.assertions import assert_sends_to_login
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    invoice_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST_NAMES = [
    "request-list",
    "commitment-list",
    "order-list",
    "receipt-list",
    "invoice-list",
    "supplier-list",
    "tax-rate-list",
]


def export(client, name: str, **params):
    return client.get(reverse(f"procurement:{name}"), {**params, "export": "xlsx"})


def rows_of(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]


def page_records(client, name: str, **params) -> list:
    response = client.get(reverse(f"procurement:{name}"), params)
    assert response.status_code == 200
    return [row.record for row in response.context["table"].paginated_rows]


@pytest.fixture
def world(chef, acheteur, comptable):
    """Five purchases, request to invoice, two of them from "=Evil SARL" (a name a
    spreadsheet would run as a formula); two invoices are late for payment."""
    ensure_tax_rates()
    line = funded_line(50_000_000, code="I-2183-INFRA")
    evil = SupplierFactory(name="=Evil SARL")
    other = SupplierFactory(name="Pacific Réseaux SARL")
    today = timezone.localdate()
    invoices = []
    for index, supplier in enumerate([evil, other, evil, other, other]):
        commitment = request_commitment(
            chef,
            [ordered_goods(line, "2", 100_000 * (index + 1), "22", f"Article {index}")],
            supplier=supplier,
        )
        orders.purchase_order_create(user=acheteur, commitment=commitment)
        goods = commitment.lines.get()
        receipts.receipt_create(
            user=acheteur, commitment=commitment, received_on=today, quantities={goods: "2"}
        )
        invoices.append(
            invoice_create(
                user=comptable,
                supplier=supplier,
                supplier_number=f"-F{index}",
                invoice_date=today,
                received_on=today,
                lines=[invoice_line(goods, amount_ht=str(200_000 * (index + 1)), quantity="2")],
                commitment=commitment,
            )
        )
    late = [invoices[0].pk, invoices[1].pk]
    Invoice.objects.filter(pk__in=late).update(
        invoice_date=today - timedelta(days=40),
        received_on=today - timedelta(days=40),
        due_on=today - timedelta(days=10),
    )
    return {"evil": evil, "late": late}


def test_every_list_exports_exactly_its_filtered_rows_with_the_pages_figures(
    world, chef, client_as
):
    client = client_as(chef)
    evil = world["evil"]
    # (list, filters, how many rows they keep, the amount column and attribute)
    cases = [
        ("request-list", {"tab": "all", "supplier": evil.pk}, 2, (4, "amount_ht")),
        ("commitment-list", {"supplier": evil.pk}, 2, (5, "amount")),
        ("order-list", {"supplier": evil.pk}, 2, (5, "amount_ht")),
        ("receipt-list", {"supplier": evil.pk}, 2, None),
        ("invoice-list", {"supplier": "Evil"}, 2, (5, "amount_ht")),
        ("invoice-list", {"tab": "late"}, 2, (5, "amount_ht")),
        ("supplier-list", {"q": "Evil"}, 1, None),
    ]
    for name, filters, kept, amount in cases:
        records = page_records(client, name, **filters)
        rows = rows_of(export(client, name, **filters))
        body = rows[:-1] if amount else rows  # the totals row
        assert len(body) == kept, (name, filters)
        key = "name" if name == "supplier-list" else "number"
        first = [row[0] for row in body]
        expected = [getattr(record, key).replace("=", "'=") for record in records]
        if name == "receipt-list":  # received the same day: the order between them is free
            first, expected = sorted(first), sorted(expected)
        assert first == expected, name
        if amount:
            column, attribute = amount
            figures = [getattr(record, attribute) for record in records]
            assert [row[column] for row in body] == figures, name
            assert rows[-1][column] == sum(figures), name
        if "supplier" in filters:
            column = 3 if name == "commitment-list" else 2
            assert {row[column] for row in body} == {"'=Evil SARL"}, name
    late = rows_of(export(client, "invoice-list", tab="late"))
    assert {row[8] for row in late[:-1]} == {10}  # days late, a number
    assert sorted(row[3] for row in late[:-1]) == ["'-F0", "'-F1"]


def test_the_export_holds_every_page_and_the_sort_of_the_page(world, chef, client_as):
    client = client_as(chef)
    ascending = rows_of(export(client, "commitment-list", sort="amount", per_page=2))
    descending = rows_of(export(client, "commitment-list", sort="-amount", page=2))
    amounts = [row[5] for row in ascending[:-1]]
    assert amounts == [200_000, 400_000, 600_000, 800_000, 1_000_000]
    assert [row[5] for row in descending[:-1]] == amounts[::-1]


def test_the_tgc_rates_export_lists_every_rate(chef, client_as):
    ensure_tax_rates()
    response = export(client_as(chef), "tax-rate-list")
    assert response["Content-Disposition"].startswith('attachment; filename="achats-taux-tgc-')
    rates = sorted(row[0] for row in rows_of(response))
    # Fractions in a percent format (0.11 shown 11,0 %), so that formulas on them work.
    assert rates == pytest.approx([0, 0.03, 0.06, 0.11, 0.22])


def test_the_file_is_named_after_the_list_its_tab_and_the_day(chef, client_as):
    day = timezone.localdate().isoformat()
    response = export(client_as(chef), "invoice-list", tab="late")
    assert response["Content-Disposition"] == (
        f'attachment; filename="achats-factures-en-retard-{day}.xlsx"'
    )


def test_invalid_filters_export_nothing_and_go_back_to_the_page(chef, client_as):
    response = export(client_as(chef), "invoice-list", state="nope")
    assert response.status_code == 302
    assert response["Location"] == reverse("procurement:invoice-list") + "?state=nope"


@pytest.mark.parametrize("name", LIST_NAMES)
def test_each_export_has_its_pages_permission(name, client, sans_role, client_as):
    assert_sends_to_login(export(client, name))
    assert export(client_as(sans_role), name).status_code == 403


def test_a_tab_refused_to_a_role_is_refused_to_its_export(comptable, client_as):
    response = export(client_as(comptable), "request-list", tab="mine")
    assert response.status_code == 403


def test_every_list_page_shows_the_export_button_with_its_filters(world, chef, client_as):
    client = client_as(chef)
    for name in LIST_NAMES:
        response = client.get(reverse(f"procurement:{name}"), {"q": "x"})
        assert b'data-testid="export-xlsx"' in response.content, name
        assert "export=xlsx" in response.context["export_url"]
        assert "q=x" in response.context["export_url"]
