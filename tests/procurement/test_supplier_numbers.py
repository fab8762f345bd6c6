"""A supplier's invoice number entered twice in another format (issue 11, item 3).

"f2026 1187" after "F2026-1187" is the same invoice: the key of the number
(procurement.supplier_numbers) folds case, separators and leading zeros; the
service refuses it naming the first invoice (form, API), the database's unique
constraint on (supplier, key) refuses it when the service is bypassed, a
cancelled invoice frees its number, and migration 0007 fills the existing rows.
"""

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from procurement.models import HistoricalInvoice, Invoice, InvoiceLine
from procurement.services.common import ProcurementError
from procurement.services.invoices import invoice_cancel, invoice_create
from procurement.supplier_numbers import supplier_number_key
from tests.factories import BudgetLineFactory, fund
from tests.procurement.factories import SupplierFactory, ensure_tax_rates, invoice_line

pytestmark = pytest.mark.django_db

TODAY = date.today()
INVOICED = TODAY - timedelta(days=10)
FIRST = "F2026-1187"
# The same number in five other formats, as assistants and spreadsheets type it.
SAME_IN_OTHER_FORMATS = ["f2026 1187", "F2026-01187", "F.2026.1187", "f 2026/1187", "F2026_1187"]

migration = importlib.import_module("procurement.migrations.0007_invoices_normalised_number")


# --- The key --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("F2026-1187", "f20261187"),
        ("f2026 1187", "f20261187"),
        ("F2026-01187", "f20261187"),
        ("f 2026/1187", "f20261187"),
        ("F.2026.1187", "f20261187"),
        ("F_2026_1187", "f20261187"),
        ("  F2026\u00a01187 ", "f20261187"),  # no-break space
        ("F2026\u202f1187", "f20261187"),  # narrow no-break space
        ("F2026\t1187", "f20261187"),
        ("F2026\u20131187", "f20261187"),  # en dash
        ("F2026\u20111187", "f20261187"),  # non-breaking hyphen
        ("F2026\\1187", "f20261187"),
        ("Ｆ２０２６－１１８７", "f20261187"),  # full-width, as pasted from some PDFs
        ("FA-000123", "fa123"),  # leading zeros of a numeric part
        ("FA-000", "fa0"),  # a part of zeros keeps one
        ("0042", "42"),
        ("2026/00007/B", "20267b"),
        ("FA0012", "fa12"),  # zeros opening the digits inside a part
        ("F100-2026", "f1002026"),  # zeros inside a number stay
        ("INV-2026-1187-A", "inv20261187a"),
        ("Straße-7", "strasse7"),  # case folding, not only lower()
        ("---", ""),  # nothing to compare: the service refuses it
        ("", ""),
    ],
)
def test_the_key_folds_case_separators_and_leading_zeros(typed, key):
    assert supplier_number_key(typed) == key


def test_numbers_that_differ_by_more_than_their_format_keep_different_keys():
    assert supplier_number_key("F2026-1187") != supplier_number_key("F2026-1188")
    assert supplier_number_key("F2026-1187") != supplier_number_key("F2026-1187-R")
    assert supplier_number_key("FA-10") != supplier_number_key("FA-1")


# --- Through the service ----------------------------------------------------------


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def line():
    line = BudgetLineFactory(code="F-6156-INFRA")
    fund({line: 5_000_000})
    return line


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cegelec NC", ridet="0123456.001")


def enter(user, supplier, line, number, amount="100000", **kwargs):
    return invoice_create(
        user=user,
        supplier=supplier,
        supplier_number=number,
        invoice_date=INVOICED,
        received_on=TODAY - timedelta(days=5),
        lines=[invoice_line(budget_line=line, amount_ht=amount)],
        **kwargs,
    )


def duplicate_message(first: Invoice) -> str:
    return (
        "Ce numéro de facture fournisseur est déjà saisi\u00a0: "
        f"{first.number} du {INVOICED.strftime('%d/%m/%Y')} (“{FIRST}”)."
    )


def test_the_service_stores_the_key_of_the_number(comptable, supplier, line):
    invoice = enter(comptable, supplier, line, " F2026-01187 ")
    invoice.refresh_from_db()
    assert (invoice.supplier_number, invoice.supplier_number_key) == ("F2026-01187", "f20261187")


@pytest.mark.parametrize("again", SAME_IN_OTHER_FORMATS)
def test_the_service_refuses_the_number_in_another_format_naming_the_first_invoice(
    again, comptable, supplier, line
):
    first = enter(comptable, supplier, line, FIRST)

    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, line, again)

    assert refused.value.code == "duplicate"
    assert refused.value.messages == [duplicate_message(first)]
    assert list(Invoice.objects.values_list("pk", flat=True)) == [first.pk]
    assert InvoiceLine.objects.count() == 1


def test_another_supplier_may_use_the_same_number(comptable, supplier, line):
    enter(comptable, supplier, line, FIRST)
    enter(comptable, SupplierFactory(), line, "f2026 1187")
    assert Invoice.objects.count() == 2


def test_a_number_with_no_letter_or_digit_is_refused(comptable, supplier, line):
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, line, "- / -")
    assert refused.value.code == "supplier_number"
    assert "au moins une lettre ou un chiffre" in refused.value.messages[0]
    assert not Invoice.objects.exists()


def test_a_cancelled_invoice_frees_its_number_in_every_format(comptable, supplier, line):
    first = enter(comptable, supplier, line, FIRST)
    invoice_cancel(user=comptable, invoice=first, reason="Saisie en double")

    again = enter(comptable, supplier, line, "f 2026/01187")

    assert again.supplier_number_key == first.supplier_number_key == "f20261187"
    # The new live one now holds the number: a third entry names it.
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, line, FIRST)
    assert again.number in refused.value.messages[0]
    assert first.number not in refused.value.messages[0]


def test_a_race_past_the_check_meets_the_constraint_and_gets_the_same_message(
    comptable, supplier, line, monkeypatch
):
    from procurement.services import invoices as service

    first = enter(comptable, supplier, line, FIRST)
    real = service._duplicate_of
    calls = []

    def missed_once(*args):
        # The check runs before the concurrent entry commits: it sees nothing.
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(service, "_duplicate_of", missed_once)
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, line, "F.2026.01187")

    assert len(calls) == 2  # the check, then the answer to the IntegrityError
    assert refused.value.messages == [duplicate_message(first)]
    assert Invoice.objects.count() == 1


# --- The database -------------------------------------------------------------------


def _raw_invoice(first: Invoice, number: str, *, state=Invoice.State.ENTERED) -> Invoice:
    """An invoice written without the service (an import script, a shell): the key is
    computed by hand, as the service would."""
    return Invoice.objects.create(
        fiscal_year=first.fiscal_year,
        number=f"FA-RAW-{Invoice.objects.count() + 1}",
        supplier=first.supplier,
        supplier_number=number,
        supplier_number_key=supplier_number_key(number),
        invoice_date=first.invoice_date,
        received_on=first.received_on,
        due_on=first.due_on,
        amount_ht_currency=0,
        amount_tax_currency=0,
        amount_ttc_currency=0,
        state=state,
        entered_by=first.entered_by,
    )


@pytest.mark.parametrize("again", SAME_IN_OTHER_FORMATS)
def test_the_database_refuses_the_same_key_for_a_supplier_bypassing_the_service(
    again, comptable, supplier, line
):
    first = enter(comptable, supplier, line, FIRST)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        _raw_invoice(first, again)
    # PostgreSQL names the constraint; SQLite the columns of the unique index.
    assert (
        "invoice_supplier_number_key_unique"
        if connection.vendor == "postgresql"
        else "procurement_invoice.supplier_number_key"
    ) in str(refused.value)
    assert Invoice.objects.count() == 1
    # The same row for another supplier goes in: the constraint is per supplier.
    first.supplier = SupplierFactory()
    _raw_invoice(first, again)


def test_the_database_lets_cancelled_invoices_share_a_key(comptable, supplier, line):
    first = enter(comptable, supplier, line, FIRST)
    _raw_invoice(first, "f2026 1187", state=Invoice.State.CANCELLED)
    _raw_invoice(first, "F2026-01187", state=Invoice.State.CANCELLED)
    assert Invoice.objects.filter(supplier_number_key="f20261187").count() == 3
    # and a cancelled one cannot come back to life beside the live one
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(supplier_number="f2026 1187").update(state=Invoice.State.ENTERED)


# --- The entry form and the API --------------------------------------------------------

CREATE_URL = reverse("procurement:invoice-create")


def form_data(supplier, line, number, rates) -> dict:
    return {
        "supplier": supplier.pk,
        "supplier_number": number,
        "total_ttc": "122 000",
        "invoice_date": INVOICED.isoformat(),
        "received_on": (TODAY - timedelta(days=1)).isoformat(),
        "currency": "XPF",
        "exchange_rate": "",
        "commitment": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "500",
        "lines-0-budget_line": line.pk,
        "lines-0-description": "Maintenance",
        "lines-0-quantity": "",
        "lines-0-amount": "100000",
        "lines-0-tax_rate": rates["22"].pk,
    }


@pytest.mark.parametrize("again", SAME_IN_OTHER_FORMATS)
def test_the_form_refuses_the_number_in_another_format_and_records_nothing(
    again, comptable, client_as, supplier, line
):
    rates = ensure_tax_rates()
    first = enter(comptable, supplier, line, FIRST)

    response = client_as(comptable).post(CREATE_URL, form_data(supplier, line, again, rates))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["supplier_number"] == [duplicate_message(first)]
    text = response.content.decode()
    assert 'data-testid="form-errors"' in text
    assert "déjà saisi" in text and first.number in text
    assert Invoice.objects.count() == 1


def test_the_form_records_a_number_of_another_supplier(comptable, client_as, supplier, line):
    rates = ensure_tax_rates()
    enter(comptable, supplier, line, FIRST)
    other = SupplierFactory(name="Autre")
    response = client_as(comptable).post(CREATE_URL, form_data(other, line, "f2026 1187", rates))
    assert response.status_code == 302
    assert Invoice.objects.filter(supplier=other, supplier_number="f2026 1187").exists()


@pytest.mark.parametrize("again", SAME_IN_OTHER_FORMATS)
def test_the_api_refuses_the_number_in_another_format_with_a_french_detail(
    again, comptable, supplier, line
):
    first = enter(comptable, supplier, line, FIRST)
    api = APIClient()
    api.force_authenticate(comptable)

    response = api.post(
        reverse("api:invoice-list"),
        {
            "supplier": supplier.pk,
            "supplier_number": again,
            "invoice_date": INVOICED.isoformat(),
            "received_on": TODAY.isoformat(),
            "lines": [
                {
                    "budget_line": line.pk,
                    "description": "Maintenance",
                    "amount_ht": "100000",
                    "tax_rate": "22",
                }
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["detail"] == duplicate_message(first)
    assert Invoice.objects.count() == 1


# --- Migration 0007 ---------------------------------------------------------------------


def unfilled() -> None:
    """The rows as before the migration: no key. (Each its own placeholder, never a key:
    the constraint the migration adds last is already here in tests.)"""
    for pk in Invoice.objects.values_list("pk", flat=True):
        Invoice.objects.filter(pk=pk).update(supplier_number_key=f"?{pk}")
    HistoricalInvoice.objects.update(supplier_number_key="")


def test_the_migration_fills_the_keys_of_existing_invoices_and_their_history(
    comptable, supplier, line
):
    live = enter(comptable, supplier, line, "F2026-0001")
    other = enter(comptable, supplier, line, "f.2026/0002")
    unfilled()

    migration.fill_keys(apps, None)

    assert dict(Invoice.objects.values_list("pk", "supplier_number_key")) == {
        live.pk: "f20261",
        other.pk: "f20262",
    }
    assert set(HistoricalInvoice.objects.values_list("supplier_number_key", flat=True)) == {
        "f20261",
        "f20262",
    }


def test_the_migration_keeps_the_oldest_of_two_live_duplicates_and_marks_the_other(
    comptable, supplier, line, capsys
):
    first = enter(comptable, supplier, line, "F2026-1187")
    # Entered twice before the fix: "f2026 1187" was accepted then.
    second = enter(comptable, supplier, line, "TEMP")
    cancelled = enter(comptable, supplier, line, "TEMP-2")
    invoice_cancel(user=comptable, invoice=cancelled, reason="Erreur")
    Invoice.objects.filter(pk=second.pk).update(supplier_number="f2026 1187")
    Invoice.objects.filter(pk=cancelled.pk).update(supplier_number="F2026/1187")
    unfilled()

    migration.fill_keys(apps, None)

    keys = dict(Invoice.objects.values_list("pk", "supplier_number_key"))
    assert keys[first.pk] == "f20261187"
    assert keys[second.pk] == f"f20261187#{second.pk}"  # unique, and never typed
    assert keys[cancelled.pk] == "f20261187"  # cancelled: it frees the number anyway
    assert f"{second.pk} (f2026 1187)" in capsys.readouterr().out
    # The assistant's next entry of that number still meets the first invoice.
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, line, "F2026 1187")
    assert first.number in refused.value.messages[0]
