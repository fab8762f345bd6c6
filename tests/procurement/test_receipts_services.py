"""Receipts (service fait) through their services: partial then full receipts move the
request from ordered to partly received to received; nothing is received beyond the
ordered quantity; a cancelled receipt takes its quantities back unless invoices count
on them. Every refusal is a ProcurementError that changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from procurement.models import (
    CommitmentLine,
    DocumentSequence,
    PurchaseOrder,
    PurchaseRequest,
    Receipt,
)
from procurement.services import orders, receipts
from procurement.services.commitments import commitment_close
from procurement.services.common import ProcurementError
from tests.procurement.factories import (
    ensure_tax_rates,
    funded_line,
    invoice_commitment,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def line(db):
    ensure_tax_rates()
    return funded_line(20_000_000, code="I-2183-INFRA")


@pytest.fixture
def commitment(chef, line):
    return request_commitment(
        chef,
        [
            ordered_goods(line, "10", 120_000, "22", "Écran 27 pouces"),
            ordered_goods(line, "2.5", 90_000, "11", "Jours d’installation"),
        ],
    )


@pytest.fixture
def order(acheteur, commitment):
    return orders.purchase_order_create(user=acheteur, commitment=commitment)


def lines_of(commitment) -> dict[int, CommitmentLine]:
    return {line.position: line for line in CommitmentLine.objects.filter(commitment=commitment)}


def received(commitment) -> dict[int, Decimal]:
    return {position: line.received_quantity for position, line in lines_of(commitment).items()}


def request_state(commitment) -> str:
    return PurchaseRequest.objects.get(pk=commitment.purchase_request_id).state


def test_partial_then_full_receipts_move_the_request_to_received(acheteur, commitment, order):
    screens, days = lines_of(commitment)[1], lines_of(commitment)[2]
    assert request_state(commitment) == PurchaseRequest.State.ORDERED

    first = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=TODAY(),
        quantities={screens: "4", days.pk: ""},
        note="Premier carton",
    )
    assert first.number == "SF-2026-00001"
    assert [(line.commitment_line_id, line.quantity) for line in first.lines.all()] == [
        (screens.pk, Decimal("4.000"))
    ]
    assert received(commitment) == {1: Decimal("4.000"), 2: Decimal("0.000")}
    assert request_state(commitment) == PurchaseRequest.State.PARTLY_RECEIVED

    second = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=TODAY(),
        quantities={screens.pk: "6", days.pk: "2,5"},
    )
    assert second.number == "SF-2026-00002"
    assert received(commitment) == {1: Decimal("10.000"), 2: Decimal("2.500")}
    assert request_state(commitment) == PurchaseRequest.State.RECEIVED
    assert second.recorded_by == acheteur


def test_receiving_more_than_ordered_is_refused_naming_the_line_and_nothing_changes(
    acheteur, commitment, order
):
    screens, days = lines_of(commitment)[1], lines_of(commitment)[2]
    receipts.receipt_create(
        user=acheteur, commitment=commitment, received_on=TODAY(), quantities={screens: "8"}
    )
    before = received(commitment)
    with translation.override("en"), pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={days: "1", screens: "3"},
        )
    assert refused.value.code == "over_receipt"
    assert refused.value.messages == [
        "The line 1 “Écran 27 pouces”: 3 received would exceed the quantity ordered "
        "(10 ordered, 8 already received, 2 left)."
    ]
    assert received(commitment) == before
    assert Receipt.objects.count() == 1
    assert DocumentSequence.objects.get(kind="SF", year=2026).last == 1
    assert request_state(commitment) == PurchaseRequest.State.PARTLY_RECEIVED


def test_the_refusal_reads_in_french_for_a_french_user(acheteur, commitment, order):
    with translation.override("fr"), pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={lines_of(commitment)[2]: "3,5"},
        )
    # Figures are French whatever the catalogue: decimal comma.
    assert "3,5" in refused.value.messages[0]
    assert "2,5" in refused.value.messages[0]


@pytest.mark.parametrize("quantity", ["-1", "abc", "1.2345", "999999999999", 1.5])
def test_a_bad_quantity_is_refused_and_nothing_is_recorded(quantity, acheteur, commitment, order):
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={lines_of(commitment)[1]: quantity},
        )
    assert refused.value.code == "quantity"
    assert "Écran 27 pouces" in refused.value.messages[0]
    assert not Receipt.objects.exists()
    assert received(commitment) == {1: Decimal(0), 2: Decimal(0)}


def test_empty_and_zero_quantities_receive_nothing_and_an_empty_receipt_is_refused(
    acheteur, commitment, order
):
    screens, days = lines_of(commitment)[1], lines_of(commitment)[2]
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={screens: "0", days: "  "},
        )
    assert refused.value.code == "nothing_received"
    assert not Receipt.objects.exists()


def test_a_line_of_another_commitment_is_refused(acheteur, chef, line, commitment, order):
    other = request_commitment(chef, [ordered_goods(line)])
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={other.lines.get().pk: "1"},
        )
    assert refused.value.code == "line"
    assert not Receipt.objects.exists()


def test_nothing_is_received_before_the_order(acheteur, commitment):
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={lines_of(commitment)[1]: "1"},
        )
    assert refused.value.code == "no_order"
    assert not Receipt.objects.exists()


def test_nothing_is_received_on_a_cancelled_order(acheteur, commitment, order):
    orders.purchase_order_cancel(user=acheteur, order=order, reason="Annulée")
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={lines_of(commitment)[1]: "1"},
        )
    assert refused.value.code == "no_order"


def test_a_receipt_dated_in_the_future_or_before_the_order_is_refused(acheteur, commitment, order):
    for day in (TODAY() + timedelta(days=1), TODAY() - timedelta(days=1)):
        with pytest.raises(ProcurementError) as refused:
            receipts.receipt_create(
                user=acheteur,
                commitment=commitment,
                received_on=day,
                quantities={lines_of(commitment)[1]: "1"},
            )
        assert refused.value.code == "date"
        assert day.strftime("%d/%m/%Y") in refused.value.messages[0]
    assert not Receipt.objects.exists()


def test_a_line_without_quantity_receives_nothing(acheteur, chef, line):
    recurring = invoice_commitment(chef, [(line, 600_000, None)], kind="recurring")
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=recurring,
            received_on=TODAY(),
            quantities={recurring.lines.get(): "1"},
        )
    assert refused.value.code == "no_quantity"


def test_a_closed_commitment_receives_nothing(acheteur, chef, commitment, order):
    commitment_close(user=chef, commitment=commitment, reason="Abandon")
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_create(
            user=acheteur,
            commitment=commitment,
            received_on=TODAY(),
            quantities={lines_of(commitment)[1]: "1"},
        )
    assert refused.value.code == "commitment_state"


@pytest.mark.parametrize("username", ["chef", "comptable", "directeur", "controleur"])
def test_only_the_buyer_records_receipts(username, cast, commitment, order):
    user = next(u for u in cast.values() if u.username == username)
    with pytest.raises(PermissionDenied):
        receipts.receipt_create(
            user=user,
            commitment=commitment,
            received_on=TODAY(),
            quantities={lines_of(commitment)[1]: "1"},
        )
    assert not Receipt.objects.exists()


def test_cancelling_a_receipt_takes_its_quantities_back_and_keeps_it(acheteur, commitment, order):
    screens = lines_of(commitment)[1]
    first = receipts.receipt_create(
        user=acheteur, commitment=commitment, received_on=TODAY(), quantities={screens: "4"}
    )
    receipts.receipt_create(
        user=acheteur, commitment=commitment, received_on=TODAY(), quantities={screens: "6"}
    )
    receipts.receipt_cancel(user=acheteur, receipt=first, reason="Colis endommagé")
    first.refresh_from_db()
    assert first.is_cancelled
    assert (first.cancelled_by, first.cancel_reason) == (acheteur, "Colis endommagé")
    latest = first.history.first()
    assert (latest.history_user, latest.history_change_reason) == (acheteur, "Colis endommagé")
    assert first.lines.get().quantity == Decimal("4.000")  # kept as it was
    assert received(commitment)[1] == Decimal("6.000")
    assert request_state(commitment) == PurchaseRequest.State.PARTLY_RECEIVED
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_cancel(user=acheteur, receipt=first, reason="Encore")
    assert refused.value.code == "receipt_state"


def test_cancelling_the_only_receipt_puts_the_request_back_to_ordered(acheteur, commitment, order):
    receipt = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=TODAY(),
        quantities={lines_of(commitment)[1]: "10", lines_of(commitment)[2]: "2.5"},
    )
    assert request_state(commitment) == PurchaseRequest.State.RECEIVED
    receipts.receipt_cancel(user=acheteur, receipt=receipt, reason="Saisie en double")
    assert received(commitment) == {1: Decimal(0), 2: Decimal(0)}
    assert request_state(commitment) == PurchaseRequest.State.ORDERED
    assert order.pk == PurchaseOrder.objects.get().pk


def test_a_receipt_that_invoices_count_on_is_not_cancelled(settings, acheteur, commitment, order):
    settings.PROCUREMENT_RECEIPT_TOLERANCE_PERCENT = 5
    screens = lines_of(commitment)[1]
    first = receipts.receipt_create(
        user=acheteur, commitment=commitment, received_on=TODAY(), quantities={screens: "4"}
    )
    receipts.receipt_create(
        user=acheteur, commitment=commitment, received_on=TODAY(), quantities={screens: "6"}
    )
    # Invoices (helper "invoices") count 6.3 screens: 6 received × 1.05 allows it, not less.
    CommitmentLine.objects.filter(pk=screens.pk).update(invoiced_quantity=Decimal("6.3"))
    receipts.receipt_cancel(user=acheteur, receipt=first, reason="Erreur")  # 6 remain: fits
    CommitmentLine.objects.filter(pk=screens.pk).update(invoiced_quantity=Decimal("6.4"))
    second = Receipt.objects.get(number="SF-2026-00002")
    third = receipts.receipt_create(
        user=acheteur, commitment=commitment, received_on=TODAY(), quantities={screens: "1"}
    )
    with pytest.raises(ProcurementError) as refused:
        receipts.receipt_cancel(user=acheteur, receipt=third, reason="Erreur")  # 6 × 1.05 < 6.4
    assert refused.value.code == "invoiced_above_received"
    assert "6,4" in refused.value.messages[0]  # a French decimal comma
    third.refresh_from_db()
    assert not third.is_cancelled
    assert received(commitment)[1] == Decimal("7.000")
    assert not second.is_cancelled


def test_cancelling_needs_a_reason_and_the_buyers_role(acheteur, chef, commitment, order):
    receipt = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=TODAY(),
        quantities={lines_of(commitment)[1]: "1"},
    )
    with pytest.raises(ProcurementError):
        receipts.receipt_cancel(user=acheteur, receipt=receipt, reason="")
    with pytest.raises(PermissionDenied):
        receipts.receipt_cancel(user=chef, receipt=receipt, reason="Erreur")
    receipt.refresh_from_db()
    assert not receipt.is_cancelled
    assert received(commitment)[1] == Decimal("1.000")


@pytest.mark.parametrize(
    ("quantity", "text"),
    [(Decimal("2.000"), "2"), (Decimal("1.500"), "1,5"), (Decimal("100"), "100")],
)
def test_quantities_read_as_people_write_them(quantity, text):
    with translation.override("fr"):
        assert receipts.quantity_text(quantity) == text
