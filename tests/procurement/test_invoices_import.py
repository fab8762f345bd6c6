"""Payment dates imported from an XLSX sheet: all rows right and all recorded, or nothing
recorded and every row's error listed; files that are not usable are refused."""

import io
import zipfile
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from procurement.models import Invoice
from procurement.services import payments as service
from procurement.services.common import ProcurementError
from procurement.services.invoices import (
    invoice_cancel,
    invoice_create,
    invoice_liquidate,
)
from procurement.services.payments import invoice_payments_import
from tests.assertions import assert_sends_to_login
from tests.factories import BudgetLineFactory, fund
from tests.procurement.factories import SupplierFactory, ensure_tax_rates, invoice_line

pytestmark = pytest.mark.django_db

URL = reverse("procurement:invoice-payments-import")
TODAY = date.today()
PAID = TODAY - timedelta(days=2)
HEADER = ["Invoice number", "Supplier RIDET", "Supplier's invoice number", "Payment date"]


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cegelec NC", ridet="0123456.001")


@pytest.fixture
def invoices(comptable, supplier):
    """Three liquidated direct invoices and one only entered."""
    line = BudgetLineFactory()
    fund({line: 10_000_000})
    made = []
    for number in ("S-1", "S-2", "S-3", "S-4"):
        invoice = invoice_create(
            user=comptable,
            supplier=supplier,
            supplier_number=number,
            invoice_date=TODAY - timedelta(days=20),
            received_on=TODAY - timedelta(days=15),
            lines=[invoice_line(budget_line=line, amount_ht="10000")],
        )
        if number != "S-4":
            invoice = invoice_liquidate(user=comptable, invoice=invoice)
        made.append(invoice)
    return made


def workbook(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def payment_dates() -> dict[str, date | None]:
    return dict(Invoice.objects.values_list("supplier_number", "payment_date"))


def test_every_row_right_records_every_date(comptable, invoices, supplier):
    first, _second, third, _entered = invoices
    content = workbook(
        [
            (first.number, None, None, datetime(PAID.year, PAID.month, PAID.day)),
            (None, supplier.ridet, "S-2", PAID.strftime("%d/%m/%Y")),
            (None, None, None, None),  # a blank row is skipped
            (third.number.lower(), supplier.ridet, "S-3", PAID.isoformat()),
        ]
    )

    result = invoice_payments_import(user=comptable, file=content)

    assert result.ok and (result.rows, result.applied, result.unchanged) == (3, 3, 0)
    assert payment_dates() == {"S-1": PAID, "S-2": PAID, "S-3": PAID, "S-4": None}
    history = first.history.order_by("-history_date").first()
    assert (history.payment_date, history.history_user) == (PAID, comptable)


def test_one_wrong_row_records_nothing_and_every_error_is_listed(comptable, invoices, supplier):
    first, second, third, entered = invoices
    content = workbook(
        [
            (first.number, None, None, PAID),  # right
            ("FA-2026-99999", None, None, PAID),  # unknown
            (entered.number, None, None, PAID),  # not liquidated
            (second.number, None, None, TODAY + timedelta(days=3)),  # in the future
            (None, supplier.ridet, "NOPE", PAID),  # unknown supplier number
            (third.number, None, None, "demain"),  # not a date
            (first.number, None, None, PAID),  # twice
            (None, None, None, PAID),  # no invoice named
            (third.number, "9999999.001", None, PAID),  # the RIDET contradicts the number
        ]
    )

    result = invoice_payments_import(user=comptable, file=content)

    assert not result.ok and result.applied == 0
    assert [error.row for error in result.errors] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "FA-2026-99999" in result.errors[0].message
    assert entered.number in result.errors[1].message
    assert "demain" in result.errors[4].message
    assert all(error.message.startswith(("Row", "Ligne")) for error in result.errors)
    assert payment_dates() == dict.fromkeys(("S-1", "S-2", "S-3", "S-4"))


def test_a_cancelled_invoice_is_not_paid(comptable, invoices, supplier):
    first = invoices[0]
    invoice_cancel(user=comptable, invoice=first, reason="Erreur")
    result = invoice_payments_import(
        user=comptable, file=workbook([(None, supplier.ridet, "S-1", PAID)])
    )
    assert not result.ok and first.number in result.errors[0].message


def test_a_date_already_known_counts_as_unchanged(comptable, invoices):
    first = invoices[0]
    content = workbook([(first.number, None, None, PAID)])
    invoice_payments_import(user=comptable, file=content)
    again = invoice_payments_import(user=comptable, file=content)
    assert (again.applied, again.unchanged) == (0, 1)


def test_columns_are_found_by_their_header_in_any_order(comptable, invoices):
    content = workbook([(PAID, invoices[1].number)], header=["Paid", "Ref."])
    with pytest.raises(ProcurementError):
        invoice_payments_import(user=comptable, file=content)  # headers not understood
    content = workbook([(PAID, invoices[1].number)], header=["payment  DATE", "Invoice number"])
    assert invoice_payments_import(user=comptable, file=content).applied == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not a spreadsheet", "not_xlsx"),
        (b"", "empty"),
        (workbook([], header=["Nothing", "Useful"]), "header"),
        (workbook([]), "empty"),
    ],
)
def test_unusable_files_are_refused(content, code, comptable, invoices):
    with pytest.raises(ProcurementError) as refused:
        invoice_payments_import(user=comptable, file=content)
    assert refused.value.code == code


def test_a_zip_that_inflates_too_much_is_refused(comptable, monkeypatch):
    monkeypatch.setattr(service, "PAYMENT_IMPORT_MAX_UNCOMPRESSED", 1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", "0" * 10_000)
    with pytest.raises(ProcurementError) as refused:
        invoice_payments_import(user=comptable, file=buffer.getvalue())
    assert refused.value.code == "too_large"


def test_a_file_above_the_size_limit_is_refused(comptable, monkeypatch):
    monkeypatch.setattr(service, "PAYMENT_IMPORT_MAX_BYTES", 100)
    with pytest.raises(ProcurementError) as refused:
        invoice_payments_import(user=comptable, file=workbook([]))
    assert refused.value.code == "too_large"


def test_the_buyer_imports_nothing(acheteur, invoices):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        invoice_payments_import(
            user=acheteur, file=workbook([(invoices[0].number, None, None, PAID)])
        )


# --- The page ---------------------------------------------------------------------


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "paiements.xlsx",
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def test_the_page_records_a_right_file_and_says_how_many(comptable, client_as, invoices):
    client = client_as(comptable)
    assert client.get(URL).status_code == 200
    response = client.post(
        URL, {"file": upload(workbook([(invoices[0].number, None, None, PAID)]))}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(URL)
    assert any("1" in str(message) for message in response.context["messages"])
    assert payment_dates()["S-1"] == PAID


def test_the_page_lists_every_rows_error_and_records_nothing(comptable, client_as, invoices):
    content = workbook(
        [(invoices[0].number, None, None, PAID), ("FA-2026-99999", None, None, PAID)]
    )
    response = client_as(comptable).post(URL, {"file": upload(content)})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="row-errors"' in text and 'data-row="3"' in text
    assert "FA-2026-99999" in text
    assert payment_dates()["S-1"] is None


def test_the_page_refuses_a_file_that_is_no_spreadsheet(comptable, client_as):
    response = client_as(comptable).post(URL, {"file": upload(b"%PDF-1.4")})
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()


def test_the_page_is_for_the_accounting_assistant(client, client_as, chef, acheteur, controleur):
    assert_sends_to_login(client.get(URL))
    for user in (chef, acheteur, controleur):
        assert client_as(user).get(URL).status_code == 403
        assert client_as(user).post(URL, {}).status_code == 403


def test_a_row_finds_the_invoice_by_the_suppliers_number_in_another_format(
    comptable, invoices, supplier
):
    """The Finance Direction's sheet writes "s 0002" for the invoice entered as "S-2"."""
    content = workbook([(None, supplier.ridet, "s 0002", PAID)])

    result = invoice_payments_import(user=comptable, file=content)

    assert result.ok and result.applied == 1
    assert payment_dates() == {"S-1": None, "S-2": PAID, "S-3": None, "S-4": None}
