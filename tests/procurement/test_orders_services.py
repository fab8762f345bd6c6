"""Purchase orders through their services: issued for an approved request's commitment
(numbered, with the request's amounts and TGC by rate), marked as sent, cancelled while
nothing has arrived. Every refusal is a ProcurementError that changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from procurement.models import (
    Commitment,
    DocumentSequence,
    PurchaseOrder,
    PurchaseRequest,
)
from procurement.services import orders, receipts
from procurement.services.commitments import LineSpec, commitment_close, commitment_create
from procurement.services.common import ProcurementError
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(db):
    ensure_tax_rates()
    return funded_line(20_000_000, code="I-2183-INFRA")


@pytest.fixture
def commitment(chef, line):
    """3 blade servers at 250 000 (TGC 22 %) and 2 licences at 40 000 (TGC 11 %)."""
    return request_commitment(
        chef,
        [
            ordered_goods(line, "3", 250_000, "22", "Serveur lame"),
            ordered_goods(line, "2", 40_000, "11", "Licence de supervision"),
        ],
    )


def request_state(commitment) -> str:
    return PurchaseRequest.objects.get(pk=commitment.purchase_request_id).state


def test_the_buyer_issues_the_order_of_an_approved_request_with_its_amounts(acheteur, commitment):
    today = timezone.localdate()
    order = orders.purchase_order_create(
        user=acheteur,
        commitment=commitment,
        delivery_address="Salle serveurs B, 1 rue de la Paix",
        delivery_date=today + timedelta(days=30),
        notes="Livraison le matin",
    )
    order.refresh_from_db()
    assert order.number == "BC-2026-00001"
    assert (order.amount_ht, order.amount_tax, order.amount_ttc) == (830_000, 173_800, 1_003_800)
    assert order.state == PurchaseOrder.State.ISSUED
    assert (order.supplier, order.commitment, order.issued_by) == (
        commitment.supplier,
        commitment,
        acheteur,
    )
    assert order.delivery_date == today + timedelta(days=30)
    assert request_state(commitment) == PurchaseRequest.State.ORDERED


def test_order_numbers_follow_each_other_in_the_commitments_year(acheteur, chef, line):
    first = request_commitment(chef, [ordered_goods(line)])
    second = request_commitment(chef, [ordered_goods(line)])
    numbers = [
        orders.purchase_order_create(user=acheteur, commitment=c).number for c in (first, second)
    ]
    assert numbers == ["BC-2026-00001", "BC-2026-00002"]
    assert DocumentSequence.objects.get(kind="BC", year=2026).last == 2


def test_a_rolled_back_order_gives_its_number_back(acheteur, chef, line):
    first = request_commitment(chef, [ordered_goods(line)])
    second = request_commitment(chef, [ordered_goods(line)])
    with pytest.raises(RuntimeError), transaction.atomic():
        assert orders.purchase_order_create(user=acheteur, commitment=first).number.endswith("1")
        raise RuntimeError("the caller failed after the order")
    assert not PurchaseOrder.objects.exists()
    assert orders.purchase_order_create(user=acheteur, commitment=second).number == (
        "BC-2026-00001"
    )


def test_the_order_rounds_each_line_and_the_tgc_per_rate(acheteur, chef, line):
    commitment = request_commitment(
        chef,
        [
            ordered_goods(line, "2.5", 33_333, "22", "Jours de paramétrage"),  # 83 332.5 -> 83 333
            ordered_goods(line, "1", 10_001, "22", "Câblage"),
            ordered_goods(line, "1.5", 1_001, "6", "Documentation"),  # 1 501.5 -> 1 502
        ],
    )
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    # 22 %: (83 333 + 10 001) × 22 % = 20 533.48 -> 20 533; 6 %: 1 502 × 6 % = 90.12 -> 90
    assert (order.amount_ht, order.amount_tax, order.amount_ttc) == (94_836, 20_623, 115_459)


@pytest.mark.parametrize("username", ["chef", "comptable", "directeur", "controleur"])
def test_only_the_buyer_issues_orders(username, cast, commitment):
    user = next(u for u in cast.values() if u.username == username)
    with pytest.raises(PermissionDenied):
        orders.purchase_order_create(user=user, commitment=commitment)
    assert not PurchaseOrder.objects.exists()
    assert request_state(commitment) == PurchaseRequest.State.APPROVED


def test_a_commitment_is_ordered_once(acheteur, commitment):
    first = orders.purchase_order_create(user=acheteur, commitment=commitment)
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_create(user=acheteur, commitment=commitment)
    assert refused.value.code == "already_ordered"
    assert first.number in refused.value.messages[0]
    assert PurchaseOrder.objects.count() == 1
    assert DocumentSequence.objects.get(kind="BC", year=2026).last == 1


def test_a_recurring_contract_is_not_ordered(acheteur, chef, line):
    with transaction.atomic():
        recurring = commitment_create(
            user=chef,
            kind=Commitment.Kind.RECURRING,
            supplier=SupplierFactory(),
            subject="Maintenance annuelle",
            lines=[LineSpec(budget_line=line, description="Maintenance", amount=1_200_000)],
        )
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_create(user=acheteur, commitment=recurring)
    assert refused.value.code == "commitment_kind"
    assert not PurchaseOrder.objects.exists()


def test_a_closed_commitment_is_not_ordered(acheteur, chef, commitment):
    commitment_close(user=chef, commitment=commitment, reason="Achat abandonné")
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_create(user=acheteur, commitment=commitment)
    assert refused.value.code == "commitment_state"
    assert not PurchaseOrder.objects.exists()


def test_a_deactivated_supplier_is_not_ordered_from(acheteur, commitment):
    commitment.supplier.is_active = False
    commitment.supplier.save()
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_create(user=acheteur, commitment=commitment)
    assert refused.value.code == "supplier_inactive"
    assert commitment.supplier.name in refused.value.messages[0]
    assert not PurchaseOrder.objects.exists()


def test_a_delivery_date_already_past_is_refused(acheteur, commitment):
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_create(user=acheteur, commitment=commitment, delivery_date=yesterday)
    assert yesterday.strftime("%d/%m/%Y") in refused.value.messages[0]
    assert not PurchaseOrder.objects.exists()
    assert not DocumentSequence.objects.filter(kind="BC").exclude(last=0).exists()


def test_too_long_notes_are_refused(acheteur, commitment):
    with pytest.raises(ProcurementError):
        orders.purchase_order_create(user=acheteur, commitment=commitment, notes="x" * 2001)
    assert not PurchaseOrder.objects.exists()


def test_the_buyer_marks_the_order_as_sent_once(acheteur, commitment):
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    sent = orders.purchase_order_mark_sent(user=acheteur, order=order)
    sent.refresh_from_db()
    assert sent.state == PurchaseOrder.State.SENT
    assert sent.sent_by == acheteur
    assert sent.sent_at is not None
    assert [record.history_user for record in sent.history.all()] == [acheteur, acheteur]
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_mark_sent(user=acheteur, order=order)
    assert refused.value.code == "order_state"


def test_marking_as_sent_needs_the_buyers_role(acheteur, chef, commitment):
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    with pytest.raises(PermissionDenied):
        orders.purchase_order_mark_sent(user=chef, order=order)
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.ISSUED


def test_cancelling_an_order_keeps_its_number_and_puts_the_request_back_to_approved(
    acheteur, commitment
):
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    cancelled = orders.purchase_order_cancel(
        user=acheteur, order=order, reason="Erreur de fournisseur"
    )
    cancelled.refresh_from_db()
    assert cancelled.number == "BC-2026-00001"
    assert cancelled.state == PurchaseOrder.State.CANCELLED
    assert (cancelled.cancelled_by, cancelled.cancel_reason) == (acheteur, "Erreur de fournisseur")
    assert cancelled.history.first().history_change_reason == "Erreur de fournisseur"
    assert request_state(commitment) == PurchaseRequest.State.APPROVED
    commitment.refresh_from_db()
    assert commitment.remainder == 830_000  # the credits stay committed
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_create(user=acheteur, commitment=commitment)
    assert refused.value.code == "already_ordered"


def test_an_order_with_a_receipt_is_not_cancelled(acheteur, commitment):
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    line = commitment.lines.get(position=1)
    receipt = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(),
        quantities={line: "1"},
    )
    with pytest.raises(ProcurementError) as refused:
        orders.purchase_order_cancel(user=acheteur, order=order, reason="Trop tard")
    assert refused.value.code == "order_received"
    assert receipt.number in refused.value.messages[0]
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.ISSUED


def test_a_cancellation_needs_a_reason(acheteur, commitment):
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    with pytest.raises(ProcurementError):
        orders.purchase_order_cancel(user=acheteur, order=order, reason="   ")
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.ISSUED


def test_an_order_line_amount_ignores_what_an_invoice_later_added(acheteur, commitment):
    line = commitment.lines.get(position=2)
    # An invoice above the commitment topped the line up by 5 000 (commitment_top_up).
    type(line).objects.filter(pk=line.pk).update(amount=85_000)
    line.refresh_from_db()
    assert orders.order_line_amount(line) == 80_000
    assert line.quantity == Decimal("2.000")
