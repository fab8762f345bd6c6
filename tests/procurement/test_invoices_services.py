"""Invoices through their services: entry and matching, liquidation (with top-ups, direct
invoices and the validation threshold), cancellation, currencies and payment dates.

Every refusal is a ProcurementError (a French message for the user) that changes nothing.
"""

import threading
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from budgets.services import CreditsShortError
from procurement.models import (
    Commitment,
    CommitmentLine,
    Invoice,
    InvoiceLine,
    PurchaseRequest,
    TaxRate,
)
from procurement.selectors.invoices import invoice_tax_rows, payment_delays
from procurement.services import invoices as service
from procurement.services.commitments import commitment_close
from procurement.services.common import ProcurementError
from procurement.services.invoices import (
    invoice_cancel,
    invoice_create,
    invoice_liquidate,
    invoice_validate,
)
from procurement.services.payments import invoice_set_payment_date
from tests.factories import BudgetLineFactory, FiscalYearFactory, UserFactory, fund
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    invoice_commitment,
    invoice_line,
)

pytestmark = pytest.mark.django_db

TODAY = date.today()
RECEIVED = TODAY - timedelta(days=5)
INVOICED = TODAY - timedelta(days=10)


@pytest.fixture(autouse=True)
def _rates(settings):
    """The TGC rates; liquidations validated above 10 000 000 unless a test says otherwise."""
    ensure_tax_rates()
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 10_000_000


@pytest.fixture
def lines():
    """Two operating lines of 2026: 5 000 000 and 1 000 000 opened."""
    servers = BudgetLineFactory(code="F-6156-INFRA", label="Maintenance des serveurs")
    licences = BudgetLineFactory(code="F-6051-APPLI", label="Licences")
    fund({servers: 5_000_000, licences: 1_000_000})
    return servers, licences


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cegelec NC", ridet="0123456.001", payment_terms_days=30)


@pytest.fixture
def commitment(chef, lines, supplier):
    """Ordered: 10 switches for 2 000 000 (received) and a yearly support of 600 000."""
    servers, licences = lines
    return invoice_commitment(
        chef, [(servers, 2_000_000, 10), (licences, 600_000, None)], supplier=supplier
    )


def line_of(commitment, position) -> CommitmentLine:
    return commitment.lines.get(position=position)


def figures(line: BudgetLine) -> tuple[int, int, int]:
    line.refresh_from_db()
    return line.opened, line.committed, line.liquidated


def entries_of(document):
    return LedgerEntry.objects.filter(
        document_type=ContentType.objects.get_for_model(document), document_id=document.pk
    ).order_by("pk")


def enter(user, supplier, lines, **kwargs):
    kwargs.setdefault("supplier_number", "F2026-0001")
    kwargs.setdefault("invoice_date", INVOICED)
    kwargs.setdefault("received_on", RECEIVED)
    return invoice_create(user=user, supplier=supplier, lines=lines, **kwargs)


def test_the_assistant_enters_an_invoice_matched_to_a_commitment_and_liquidates_it(
    comptable, commitment, lines, supplier
):
    servers, _licences = lines
    before = figures(servers)
    switches = line_of(commitment, 1)

    invoice = enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="1000000", quantity="5", description="5 commutateurs")],
        commitment=commitment,
    )

    assert invoice.number == f"FA-{commitment.fiscal_year.year}-00001"
    assert invoice.state == Invoice.State.ENTERED
    assert (invoice.amount_ht, invoice.amount_tax, invoice.amount_ttc) == (
        1_000_000,
        220_000,
        1_220_000,
    )
    assert invoice.due_on == RECEIVED + timedelta(days=30)
    switches.refresh_from_db()
    assert (switches.invoiced, switches.invoiced_quantity) == (1_000_000, Decimal("5.000"))
    assert figures(servers) == before  # entering takes nothing

    invoice = invoice_liquidate(user=comptable, invoice=invoice)

    assert invoice.state == Invoice.State.LIQUIDATED
    assert invoice.liquidated_by == comptable and invoice.liquidated_at is not None
    opened, committed, liquidated = figures(servers)
    assert (opened, committed) == before[:2]
    assert liquidated == before[2] + 1_000_000
    (entry,) = entries_of(invoice)
    assert (entry.kind, entry.amount, entry.budget_line_id) == ("liquidate", 1_000_000, servers.pk)
    switches.refresh_from_db()
    commitment.refresh_from_db()
    assert (switches.liquidated, switches.remainder) == (1_000_000, 1_000_000)
    assert (commitment.amount, commitment.liquidated) == (2_600_000, 1_000_000)


def test_partial_invoices_liquidate_a_commitment_line_in_parts(
    comptable, commitment, lines, supplier
):
    servers, _licences = lines
    switches = line_of(commitment, 1)
    for number, quantity, amount in (("A-1", "4", "800000"), ("A-2", "6", "1200000")):
        invoice = enter(
            comptable,
            supplier,
            [invoice_line(switches, amount_ht=amount, quantity=quantity)],
            commitment=commitment,
            supplier_number=number,
        )
        invoice_liquidate(user=comptable, invoice=invoice)
    switches.refresh_from_db()
    assert (switches.invoiced, switches.invoiced_quantity) == (2_000_000, Decimal(10))
    assert (switches.liquidated, switches.remainder) == (2_000_000, 0)
    assert figures(servers)[1:] == (2_000_000, 2_000_000)


def test_an_invoice_above_its_commitment_tops_it_up_first_when_credits_allow(
    comptable, commitment, lines, supplier
):
    servers, _licences = lines
    switches = line_of(commitment, 1)
    invoice = enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="2150000", quantity="10")],
        commitment=commitment,
    )
    invoice_liquidate(user=comptable, invoice=invoice)

    top_up = entries_of(commitment).filter(kind="commit").last()
    assert (top_up.amount, top_up.budget_line_id) == (150_000, servers.pk)
    assert [(e.kind, e.amount) for e in entries_of(invoice)] == [("liquidate", 2_150_000)]
    switches.refresh_from_db()
    commitment.refresh_from_db()
    assert (switches.amount, switches.liquidated, switches.remainder) == (2_150_000, 2_150_000, 0)
    assert (commitment.amount, commitment.liquidated) == (2_750_000, 2_150_000)
    assert figures(servers)[1:] == (2_150_000, 2_150_000)


def test_an_invoice_above_its_commitment_without_credits_is_refused_and_nothing_changes(
    comptable, commitment, lines, supplier
):
    _servers, licences = lines
    support = line_of(commitment, 2)  # 600 000 committed on a line of 1 000 000 opened
    invoice = enter(
        comptable, supplier, [invoice_line(support, amount_ht="1100000")], commitment=commitment
    )
    before = figures(licences)
    count = LedgerEntry.objects.count()

    with pytest.raises(CreditsShortError) as refused:
        invoice_liquidate(user=comptable, invoice=invoice)

    assert refused.value.code == "credits_short"
    assert refused.value.can_override is False
    assert "F-6051-APPLI" in refused.value.messages[0]
    invoice.refresh_from_db()
    support.refresh_from_db()
    assert invoice.state == Invoice.State.ENTERED and invoice.liquidated_by is None
    assert (support.amount, support.liquidated) == (600_000, 0)
    assert figures(licences) == before
    assert LedgerEntry.objects.count() == count


def test_in_a_year_that_only_warns_the_assistant_overrides_a_shortage_with_a_reason(
    comptable, commitment, lines, supplier
):
    _servers, licences = lines
    FiscalYear.objects.filter(pk=licences.fiscal_year_id).update(control_mode="warn")
    support = line_of(commitment, 2)
    invoice = enter(
        comptable, supplier, [invoice_line(support, amount_ht="1100000")], commitment=commitment
    )
    with pytest.raises(CreditsShortError) as refused:
        invoice_liquidate(user=comptable, invoice=invoice)
    assert refused.value.can_override is True

    invoice_liquidate(user=comptable, invoice=invoice, override_reason="Avenant signé le 3 mars")

    override = entries_of(commitment).get(kind="override")
    assert (override.amount, override.reason) == (500_000, "Avenant signé le 3 mars")
    assert figures(licences) == (1_000_000, 1_100_000, 1_100_000)


def test_a_direct_invoice_commits_and_liquidates_at_once(comptable, lines, supplier):
    servers, licences = lines
    invoice = enter(
        comptable,
        supplier,
        [
            invoice_line(budget_line=servers, amount_ht="300000", tax_rate="11"),
            invoice_line(budget_line=licences, amount_ht="50000", tax_rate="0"),
        ],
    )
    assert invoice.commitment is None
    assert (invoice.amount_ht, invoice.amount_tax) == (350_000, 33_000)

    invoice = invoice_liquidate(user=comptable, invoice=invoice)

    commitment = invoice.commitment
    assert commitment.kind == Commitment.Kind.DIRECT
    assert (commitment.amount, commitment.liquidated, commitment.remainder) == (350_000, 350_000, 0)
    assert sorted((e.kind, e.amount) for e in entries_of(commitment)) == [
        ("commit", 50_000),
        ("commit", 300_000),
    ]
    assert sorted((e.kind, e.amount) for e in entries_of(invoice)) == [
        ("liquidate", 50_000),
        ("liquidate", 300_000),
    ]
    assert set(invoice.lines.values_list("commitment_line__commitment", flat=True)) == {
        commitment.pk
    }
    assert figures(servers) == (5_000_000, 300_000, 300_000)
    assert figures(licences) == (1_000_000, 50_000, 50_000)


def test_a_direct_invoice_without_credits_is_refused_and_opens_nothing(comptable, lines, supplier):
    _servers, licences = lines
    invoice = enter(comptable, supplier, [invoice_line(budget_line=licences, amount_ht="1000001")])
    with pytest.raises(CreditsShortError):
        invoice_liquidate(user=comptable, invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ENTERED and invoice.commitment is None
    assert not Commitment.objects.filter(kind=Commitment.Kind.DIRECT).exists()
    assert figures(licences) == (1_000_000, 0, 0)


def test_above_the_threshold_the_section_head_validates_the_liquidation(
    comptable, chef, commitment, lines, supplier, settings
):
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 1_000_000
    servers, _licences = lines
    switches = line_of(commitment, 1)
    invoice = enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="1000001", quantity="5")],
        commitment=commitment,
    )
    invoice = invoice_liquidate(user=comptable, invoice=invoice)
    assert invoice.state == Invoice.State.TO_VALIDATE
    assert not entries_of(invoice).exists()
    assert figures(servers)[2] == 0

    with pytest.raises(PermissionDenied):
        invoice_validate(user=comptable, invoice=invoice)
    invoice = invoice_validate(user=chef, invoice=invoice)

    assert invoice.state == Invoice.State.LIQUIDATED
    assert (invoice.liquidated_by, invoice.validated_by) == (comptable, chef)
    assert [(e.kind, e.amount) for e in entries_of(invoice)] == [("liquidate", 1_000_001)]
    assert figures(servers)[2] == 1_000_001


def test_at_the_threshold_exactly_the_assistant_liquidates_alone(
    comptable, commitment, supplier, settings
):
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 1_000_000
    invoice = enter(
        comptable,
        supplier,
        [invoice_line(line_of(commitment, 1), amount_ht="1000000", quantity="5")],
        commitment=commitment,
    )
    assert invoice_liquidate(user=comptable, invoice=invoice).state == Invoice.State.LIQUIDATED


@pytest.mark.parametrize("username", ["chef", "acheteur", "directeur", "controleur"])
def test_only_the_accounting_assistant_liquidates(username, cast, commitment, supplier, comptable):
    user = next(u for u in cast.values() if u.username == username)
    invoice = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    with pytest.raises(PermissionDenied):
        invoice_liquidate(user=user, invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ENTERED


@pytest.mark.parametrize("username", ["chef", "acheteur", "directeur", "controleur"])
def test_only_the_accounting_assistant_enters_invoices(username, cast, commitment, supplier):
    user = next(u for u in cast.values() if u.username == username)
    with pytest.raises(PermissionDenied):
        enter(user, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment)
    assert not Invoice.objects.exists()


def test_cancelling_a_liquidated_invoice_reverses_its_entries_and_restores_every_figure(
    comptable, commitment, lines, supplier
):
    servers, licences = lines
    switches, support = line_of(commitment, 1), line_of(commitment, 2)
    before = (figures(servers), figures(licences))
    invoice = enter(
        comptable,
        supplier,
        [
            invoice_line(switches, amount_ht="600000", quantity="3"),
            invoice_line(support, amount_ht="50000"),
        ],
        commitment=commitment,
    )
    invoice_liquidate(user=comptable, invoice=invoice)

    invoice = invoice_cancel(user=comptable, invoice=invoice, reason="Facture erronée")

    assert invoice.state == Invoice.State.CANCELLED
    assert (invoice.cancelled_by, invoice.cancel_reason) == (comptable, "Facture erronée")
    assert sorted((e.kind, e.amount, e.reason) for e in entries_of(invoice)) == [
        ("liquidate", 50_000, ""),
        ("liquidate", 600_000, ""),
        ("unliquidate", -600_000, "Facture erronée"),
        ("unliquidate", -50_000, "Facture erronée"),
    ]
    assert (figures(servers), figures(licences)) == before
    for line in (switches, support):
        line.refresh_from_db()
        assert (line.liquidated, line.invoiced, line.invoiced_quantity) == (0, 0, 0)
    commitment.refresh_from_db()
    assert (commitment.amount, commitment.liquidated) == (2_600_000, 0)


def test_cancelling_a_direct_invoice_cancels_its_commitment_and_gives_the_credits_back(
    comptable, lines, supplier
):
    servers, _licences = lines
    invoice = enter(comptable, supplier, [invoice_line(budget_line=servers, amount_ht="300000")])
    invoice = invoice_liquidate(user=comptable, invoice=invoice)
    invoice = invoice_cancel(user=comptable, invoice=invoice, reason="Doublon du fournisseur")

    commitment = Commitment.objects.get(pk=invoice.commitment_id)
    assert commitment.state == Commitment.State.CANCELLED
    assert (commitment.amount, commitment.liquidated, commitment.released) == (
        300_000,
        0,
        300_000,
    )
    assert [e.kind for e in entries_of(commitment)] == ["commit", "release"]
    assert figures(servers) == (5_000_000, 0, 0)


def test_cancelling_an_invoice_of_a_closed_commitment_releases_what_it_gives_back(
    comptable, chef, commitment, lines, supplier
):
    _servers, licences = lines
    support = line_of(commitment, 2)
    invoice = enter(
        comptable, supplier, [invoice_line(support, amount_ht="200000")], commitment=commitment
    )
    invoice_liquidate(user=comptable, invoice=invoice)
    commitment_close(user=chef, commitment=commitment, reason="Contrat soldé")
    assert figures(licences) == (1_000_000, 200_000, 200_000)

    invoice_cancel(user=comptable, invoice=invoice, reason="Facture erronée")

    assert figures(licences) == (1_000_000, 0, 0)
    support.refresh_from_db()
    assert (support.amount, support.liquidated, support.released) == (600_000, 0, 600_000)


def test_cancelling_an_entered_invoice_gives_back_its_quantities_and_frees_its_number(
    comptable, commitment, supplier
):
    switches = line_of(commitment, 1)
    invoice = enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="2000000", quantity="10")],
        commitment=commitment,
    )
    invoice_cancel(user=comptable, invoice=invoice, reason="Mauvais fournisseur")
    switches.refresh_from_db()
    assert (switches.invoiced, switches.invoiced_quantity) == (0, 0)
    assert not entries_of(invoice).exists()

    again = enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="2000000", quantity="10")],
        commitment=commitment,
    )
    assert again.number.endswith("00002")


def test_a_cancellation_needs_a_reason(comptable, commitment, supplier):
    invoice = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    with pytest.raises(ProcurementError):
        invoice_cancel(user=comptable, invoice=invoice, reason="  ")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ENTERED


def test_a_paid_invoice_is_not_cancelled(comptable, commitment, lines, supplier):
    invoice = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    invoice_liquidate(user=comptable, invoice=invoice)
    invoice_set_payment_date(user=comptable, invoice=invoice, payment_date=TODAY)
    liquidated = figures(lines[1])

    with pytest.raises(ProcurementError) as refused:
        invoice_cancel(user=comptable, invoice=invoice, reason="Erreur")

    assert refused.value.code == "paid"
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.LIQUIDATED
    assert figures(lines[1]) == liquidated


def test_the_section_head_may_refuse_a_liquidation_waiting_for_validation_only(
    comptable, chef, commitment, supplier, settings
):
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 100
    first = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    with pytest.raises(PermissionDenied):
        invoice_cancel(user=chef, invoice=first, reason="Non")
    invoice_liquidate(user=comptable, invoice=first)
    invoice_cancel(user=chef, invoice=first, reason="Montant contesté")
    first.refresh_from_db()
    assert first.state == Invoice.State.CANCELLED


# --- Currencies -------------------------------------------------------------


def test_an_invoice_in_euros_converts_at_the_fixed_parity_and_keeps_both_amounts(
    comptable, commitment, supplier
):
    invoice = enter(
        comptable,
        supplier,
        [invoice_line(line_of(commitment, 2), amount_ht="1000.00", tax_rate="11")],
        commitment=commitment,
        currency="eur",
    )
    assert (invoice.currency, invoice.exchange_rate) == ("EUR", Decimal("119.331742"))
    assert invoice.amount_ht == 119_332
    assert invoice.amount_tax == 13_127  # 11 % of 119 332, rounded
    assert invoice.amount_ht_currency == Decimal("1000.00")
    assert invoice.amount_tax_currency == Decimal("110.00")
    assert invoice.amount_ttc_currency == Decimal("1110.00")
    line = invoice.lines.get()
    assert (line.amount_ht, line.amount_ht_currency) == (119_332, Decimal("1000.00"))


def test_the_euro_refuses_a_rate_other_than_the_parity(comptable, commitment, supplier):
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2), amount_ht="1000")],
            commitment=commitment,
            currency="EUR",
            exchange_rate="120",
        )
    assert refused.value.code == "exchange_rate"
    assert not Invoice.objects.exists()


def test_another_currency_converts_at_the_rate_entered(comptable, commitment, supplier):
    invoice = enter(
        comptable,
        supplier,
        [
            invoice_line(line_of(commitment, 2), amount_ht="1234.56", tax_rate="0"),
            invoice_line(line_of(commitment, 2), amount_ht="0.50", tax_rate="22"),
        ],
        commitment=commitment,
        currency="USD",
        exchange_rate="108.25",
    )
    # 1234.56 × 108.25 = 133 641.12 -> 133 641; 0.50 × 108.25 = 54.125 -> 54
    assert [line.amount_ht for line in invoice.lines.order_by("position")] == [133_641, 54]
    assert (invoice.amount_ht, invoice.amount_tax) == (133_695, 12)
    assert (invoice.amount_ht_currency, invoice.amount_tax_currency) == (
        Decimal("1235.06"),
        Decimal("0.11"),
    )
    rows = invoice_tax_rows(Invoice.objects.prefetch_related("lines__tax_rate").get(pk=invoice.pk))
    assert [(row.rate, row.base, row.tax, row.tax_currency) for row in rows] == [
        (Decimal("22.00"), 54, 12, Decimal("0.11")),
        (Decimal("0.00"), 133_641, 0, Decimal("0.00")),
    ]


@pytest.mark.parametrize(
    ("currency", "rate", "amount", "code"),
    [
        ("USD", None, "100", "exchange_rate"),
        ("USD", "-3", "100", "exchange_rate"),
        ("USD", "abc", "100", "exchange_rate"),
        ("DOLLARS", "100", "100", "currency"),
        ("XPF", "2", "100", "exchange_rate"),
        ("XPF", None, "100.50", "amount"),
        ("EUR", None, "10.005", "amount"),
        ("XPF", None, "-100", "amount"),
        ("XPF", None, "0", "amount"),
        ("XPF", None, "cent", "amount"),
        ("USD", "0.000001", "0.01", "amount"),
    ],
)
def test_bad_currencies_and_amounts_are_refused_in_french(
    currency, rate, amount, code, comptable, commitment, supplier
):
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2), amount_ht=amount)],
            commitment=commitment,
            currency=currency,
            exchange_rate=rate,
        )
    assert refused.value.code == code
    assert not Invoice.objects.exists()
    assert line_of(commitment, 2).invoiced == 0


# --- Bad input --------------------------------------------------------------


def test_the_same_supplier_invoice_number_twice_is_refused_naming_the_first_entry(
    comptable, commitment, supplier
):
    first = enter(
        comptable,
        supplier,
        [invoice_line(line_of(commitment, 2))],
        commitment=commitment,
        supplier_number="F-77",
    )
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2))],
            commitment=commitment,
            supplier_number=" f-77 ",
        )
    assert refused.value.code == "duplicate"
    assert first.number in refused.value.messages[0]
    assert Invoice.objects.count() == 1
    assert line_of(commitment, 2).invoiced == 100_000

    # Another supplier may use the same number.
    other = SupplierFactory()
    enter(
        comptable,
        other,
        [invoice_line(budget_line=line_of(commitment, 2).budget_line)],
        supplier_number="F-77",
    )
    assert Invoice.objects.count() == 2


def test_a_duplicate_that_slips_past_the_check_gets_the_same_message_from_the_constraint(
    comptable, commitment, supplier
):
    first = enter(
        comptable,
        supplier,
        [invoice_line(line_of(commitment, 2))],
        commitment=commitment,
        supplier_number="F-78",
    )
    real = service._duplicate_of
    calls = []

    def missed_once(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    with (
        mock.patch.object(service, "_duplicate_of", side_effect=missed_once),
        pytest.raises(ProcurementError) as refused,
    ):
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2))],
            commitment=commitment,
            supplier_number="F-78",
        )
    assert refused.value.code == "duplicate"
    assert first.number in refused.value.messages[0]
    assert Invoice.objects.count() == 1


def test_an_unknown_tgc_rate_is_refused(comptable, commitment, supplier):
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2), tax_rate="19.6")],
            commitment=commitment,
        )
    assert refused.value.code == "tax_rate"
    assert refused.value.messages[0].startswith(("Line 1", "Ligne 1"))
    assert not Invoice.objects.exists()


def test_a_tgc_rate_not_yet_in_force_on_the_invoice_date_is_refused(
    comptable, commitment, supplier
):
    TaxRate.objects.create(rate=Decimal("13"), label="Nouveau taux", valid_from=TODAY)
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2), tax_rate="13")],
            commitment=commitment,
        )
    assert refused.value.code == "tax_rate"


def test_invoiced_quantities_may_exceed_received_ones_within_the_tolerance_only(
    comptable, commitment, supplier, settings
):
    settings.PROCUREMENT_RECEIPT_TOLERANCE_PERCENT = 5
    switches = line_of(commitment, 1)
    CommitmentLine.objects.filter(pk=switches.pk).update(received_quantity=Decimal(4))
    enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="800000", quantity="4")],
        commitment=commitment,
        supplier_number="Q-1",
    )

    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(switches, amount_ht="50000", quantity="0.3")],
            commitment=commitment,
            supplier_number="Q-2",
        )
    assert refused.value.code == "over_received"
    message = refused.value.messages[0]
    assert "Ligne engagée 1" in message and "4,3" in message and "4" in message
    switches.refresh_from_db()
    assert switches.invoiced_quantity == Decimal(4)

    # 4.2 is 4 + 5 %: accepted.
    enter(
        comptable,
        supplier,
        [invoice_line(switches, amount_ht="40000", quantity="0.2")],
        commitment=commitment,
        supplier_number="Q-3",
    )
    switches.refresh_from_db()
    assert switches.invoiced_quantity == Decimal("4.2")


def test_nothing_received_nothing_invoiced(comptable, chef, lines, supplier):
    servers, _licences = lines
    commitment = invoice_commitment(
        chef, [(servers, 100_000, 2)], supplier=supplier, received=False
    )
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 1), amount_ht="50000", quantity="1")],
            commitment=commitment,
        )
    assert refused.value.code == "over_received"


def test_a_line_ordered_by_quantity_needs_the_invoiced_quantity(comptable, commitment, supplier):
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [invoice_line(line_of(commitment, 1))], commitment=commitment)
    assert refused.value.code == "quantity"


def test_a_recurring_contract_is_invoiced_month_by_month_without_receipts(
    comptable, chef, lines, supplier
):
    servers, _licences = lines
    contract = invoice_commitment(
        chef, [(servers, 1_200_000, None)], supplier=supplier, kind="recurring"
    )
    for month in (1, 2, 3):
        invoice = enter(
            comptable,
            supplier,
            [invoice_line(line_of(contract, 1), amount_ht="100000")],
            commitment=contract,
            supplier_number=f"M-{month}",
        )
        invoice_liquidate(user=comptable, invoice=invoice)
    contract.refresh_from_db()
    assert (contract.liquidated, contract.remainder) == (300_000, 900_000)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"state": "closed"}, "commitment_state"),
        ({"state": "cancelled"}, "commitment_state"),
        ({"kind": "direct"}, "commitment_direct"),
    ],
)
def test_an_invoice_is_matched_to_an_open_commitment_only(
    change, code, comptable, commitment, supplier
):
    Commitment.objects.filter(pk=commitment.pk).update(**change)
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment)
    assert refused.value.code == code
    assert not Invoice.objects.exists()


def test_an_invoice_is_matched_to_a_commitment_of_its_supplier(comptable, commitment):
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            SupplierFactory(name="Autre"),
            [invoice_line(line_of(commitment, 2))],
            commitment=commitment,
        )
    assert refused.value.code == "commitment_supplier"


def test_a_line_of_another_commitment_cannot_be_matched(
    comptable, chef, commitment, lines, supplier
):
    other = invoice_commitment(chef, [(lines[0], 100_000, None)], supplier=supplier)
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [invoice_line(line_of(other, 1))], commitment=commitment)
    assert refused.value.code == "commitment_line"


def test_the_commitment_is_found_from_the_matched_lines(comptable, commitment, supplier):
    invoice = enter(comptable, supplier, [invoice_line(line_of(commitment, 2).pk)])
    assert invoice.commitment == commitment


@pytest.mark.parametrize(
    ("invoice_date", "received_on", "code"),
    [
        (RECEIVED + timedelta(days=1), RECEIVED, "invoice_date"),
        (TODAY, TODAY + timedelta(days=1), "received_on"),
        (None, RECEIVED, "invoice_date"),
    ],
)
def test_impossible_dates_are_refused(
    invoice_date, received_on, code, comptable, commitment, supplier
):
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2))],
            commitment=commitment,
            invoice_date=invoice_date,
            received_on=received_on,
        )
    assert refused.value.code == code


def test_a_deactivated_supplier_gets_no_invoice(comptable, lines):
    supplier = SupplierFactory(is_active=False)
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [invoice_line(budget_line=lines[0])])
    assert refused.value.code == "supplier_inactive"


def test_a_direct_invoice_takes_credits_of_one_open_year(comptable, lines, supplier):
    next_year = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2027, state="preparation"))
    with pytest.raises(ProcurementError) as refused:
        enter(
            comptable,
            supplier,
            [invoice_line(budget_line=lines[0]), invoice_line(budget_line=next_year)],
        )
    assert refused.value.code == "two_years"
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [invoice_line(budget_line=next_year)])
    assert refused.value.code == "year_state"


def test_a_direct_invoice_line_needs_its_budget_line(comptable, supplier):
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [invoice_line()])
    assert refused.value.code == "budget_line"
    with pytest.raises(ProcurementError) as refused:
        enter(comptable, supplier, [])
    assert refused.value.code == "no_lines"


def test_an_invoice_already_liquidated_is_not_liquidated_twice(
    comptable, commitment, lines, supplier
):
    invoice = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    invoice_liquidate(user=comptable, invoice=invoice)
    with pytest.raises(ProcurementError) as refused:
        invoice_liquidate(user=comptable, invoice=invoice)
    assert refused.value.code == "invoice_state"
    assert entries_of(invoice).count() == 1


# --- Payment dates ----------------------------------------------------------


def test_the_payment_date_of_a_liquidated_invoice_is_recorded(comptable, commitment, supplier):
    invoice = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    with pytest.raises(ProcurementError) as refused:
        invoice_set_payment_date(user=comptable, invoice=invoice, payment_date=TODAY)
    assert refused.value.code == "invoice_state"
    invoice_liquidate(user=comptable, invoice=invoice)

    for bad in (INVOICED - timedelta(days=1), TODAY + timedelta(days=1), None):
        with pytest.raises(ProcurementError):
            invoice_set_payment_date(user=comptable, invoice=invoice, payment_date=bad)
    invoice.refresh_from_db()
    assert invoice.payment_date is None

    invoice = invoice_set_payment_date(user=comptable, invoice=invoice, payment_date=RECEIVED)
    assert invoice.is_paid and invoice.payment_date == RECEIVED


def test_payment_dates_are_not_for_the_buyer(acheteur, comptable, commitment, supplier):
    invoice = enter(
        comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment
    )
    invoice_liquidate(user=comptable, invoice=invoice)
    with pytest.raises(PermissionDenied):
        invoice_set_payment_date(user=acheteur, invoice=invoice, payment_date=TODAY)


def test_payment_delays_count_average_and_late_payments(comptable, commitment, supplier):
    paid = []
    for number, days in (("P-1", 10), ("P-2", 40)):
        invoice = enter(
            comptable,
            supplier,
            [invoice_line(line_of(commitment, 2))],
            commitment=commitment,
            supplier_number=number,
            invoice_date=TODAY - timedelta(days=60),
            received_on=TODAY - timedelta(days=50),
        )
        invoice_liquidate(user=comptable, invoice=invoice)
        invoice_set_payment_date(
            user=comptable, invoice=invoice, payment_date=invoice.received_on + timedelta(days=days)
        )
        paid.append(invoice)
    enter(comptable, supplier, [invoice_line(line_of(commitment, 2))], commitment=commitment)

    delays = payment_delays()

    assert delays.count == 2
    assert delays.amount == 2 * 122_000
    assert delays.average_days == Decimal("25.0")
    assert delays.paid_late == 1  # 40 days for 30 days' terms


# --- Where the purchase request stands ----------------------------------------


def test_invoicing_a_received_request_moves_it_to_invoiced(
    comptable, chef, acheteur, lines, supplier
):
    commitment = invoice_commitment(chef, [(lines[0], 100_000, 1)], supplier=supplier)
    request = PurchaseRequest.objects.create(
        fiscal_year=commitment.fiscal_year,
        number="DA-2026-09999",
        supplier=supplier,
        subject="Écran",
        state=PurchaseRequest.State.RECEIVED,
        requested_by=acheteur,
    )
    Commitment.objects.filter(pk=commitment.pk).update(purchase_request=request)
    commitment.refresh_from_db()
    invoice = enter(
        comptable,
        supplier,
        [invoice_line(line_of(commitment, 1), amount_ht="100000", quantity="1")],
        commitment=commitment,
    )
    request.refresh_from_db()
    assert request.state == PurchaseRequest.State.INVOICED
    invoice_cancel(user=comptable, invoice=invoice, reason="Erreur de saisie")
    request.refresh_from_db()
    assert request.state == PurchaseRequest.State.RECEIVED


# --- Concurrency (PostgreSQL) -------------------------------------------------


def _in_threads(*targets):
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as error:  # the outcome under test
            results[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(index, target)) for index, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_liquidations_racing_for_a_commitments_remainder_spend_it_once(postgres_only):
    ensure_tax_rates()
    comptable = UserFactory(username="comptable", roles=["comptabilite"])
    chef = UserFactory(username="chef", roles=["pilotage"])
    line = BudgetLineFactory()
    fund({line: 1_000_000})
    supplier = SupplierFactory()
    commitment = invoice_commitment(chef, [(line, 1_000_000, None)], supplier=supplier)
    contract_line = line_of(commitment, 1)
    invoices = [
        enter(
            comptable,
            supplier,
            [invoice_line(contract_line, amount_ht="600000")],
            commitment=commitment,
            supplier_number=number,
        )
        for number in ("R-1", "R-2")
    ]

    results = _in_threads(
        *(
            (lambda invoice=invoice: invoice_liquidate(user=comptable, invoice=invoice))
            for invoice in invoices
        )
    )

    assert sorted(type(result).__name__ for result in results) == ["CreditsShortError", "Invoice"]
    assert figures(line) == (1_000_000, 1_000_000, 600_000)
    contract_line.refresh_from_db()
    assert (contract_line.amount, contract_line.liquidated) == (1_000_000, 600_000)


@pytest.mark.django_db(transaction=True)
def test_the_same_supplier_number_entered_twice_at_once_is_recorded_once(postgres_only):
    ensure_tax_rates()
    comptable = UserFactory(username="comptable", roles=["comptabilite"])
    line = BudgetLineFactory()
    fund({line: 1_000_000})
    supplier = SupplierFactory()

    def entry():
        with transaction.atomic():
            return enter(comptable, supplier, [invoice_line(budget_line=line)], supplier_number="X")

    results = _in_threads(entry, entry)

    kinds = sorted(type(result).__name__ for result in results)
    assert kinds == ["Invoice", "ProcurementError"]
    (error,) = [result for result in results if isinstance(result, ProcurementError)]
    assert error.code == "duplicate"
    assert Invoice.objects.count() == 1
    assert InvoiceLine.objects.count() == 1
