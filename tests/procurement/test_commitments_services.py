"""Commitments through the lead's services, as the commitment screens use them: a
recurring contract takes exactly its amount from the available amount; closing gives
back exactly the remainder (release entries, line figures); the selectors read the
figures back."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from budgets.services import CreditsShortError
from procurement.models import Commitment, CommitmentLine, PurchaseRequest
from procurement.selectors.commitments import commitment_file, commitment_list, release_preview
from procurement.services import orders, receipts
from procurement.services.commitments import (
    LineSpec,
    commitment_close,
    commitment_open_recurring,
)
from procurement.services.common import ProcurementError
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

PERIOD = {"period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31)}


@pytest.fixture
def lines(db):
    ensure_tax_rates()
    return (
        funded_line(3_000_000, code="F-6156-INFRA"),
        funded_line(1_000_000, code="F-6262-TELECOM"),
    )


def figures(line) -> tuple[int, int, int]:
    line = BudgetLine.objects.get(pk=line.pk)
    return line.opened, line.committed, line.available


def entries_of(commitment) -> list[tuple[str, str, int]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(Commitment), document_id=commitment.pk
        )
        .order_by("pk")
        .values_list("budget_line__code", "kind", "amount")
    )


def open_recurring(user, lines, amounts=(1_200_000, 480_000), **kwargs):
    maintenance, telecom = lines
    return commitment_open_recurring(
        user=user,
        supplier=kwargs.pop("supplier", None) or SupplierFactory(name="OPT Nouvelle-Calédonie"),
        subject="Liaisons et maintenance 2026",
        lines=[
            LineSpec(
                budget_line=maintenance, description="Maintenance annuelle", amount=amounts[0]
            ),
            LineSpec(budget_line=telecom, description="Liaison fibre", amount=amounts[1]),
        ],
        **PERIOD,
        **kwargs,
    )


def test_a_recurring_contract_takes_exactly_its_amount_from_the_available_amount(chef, lines):
    maintenance, telecom = lines
    commitment = open_recurring(chef, lines)
    assert commitment.kind == Commitment.Kind.RECURRING
    assert commitment.amount == 1_680_000
    assert (commitment.period_start, commitment.period_end) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert figures(maintenance) == (3_000_000, 1_200_000, 1_800_000)
    assert figures(telecom) == (1_000_000, 480_000, 520_000)
    assert entries_of(commitment) == [
        ("F-6156-INFRA", "commit", 1_200_000),
        ("F-6262-TELECOM", "commit", 480_000),
    ]
    assert [
        (line.position, line.amount, line.quantity)
        for line in commitment.lines.order_by("position")
    ] == [(1, 1_200_000, None), (2, 480_000, None)]


def test_a_recurring_contract_beyond_the_available_amount_is_refused_and_takes_nothing(chef, lines):
    maintenance, telecom = lines
    with pytest.raises(CreditsShortError) as refused:
        open_recurring(chef, lines, amounts=(1_200_000, 1_000_001))
    assert not refused.value.can_override  # a "block" year: only the director may
    assert figures(maintenance) == (3_000_000, 0, 3_000_000)
    assert figures(telecom) == (1_000_000, 0, 1_000_000)
    assert not Commitment.objects.exists()


def test_the_director_overrides_a_shortage_with_a_reason(directeur, chef, lines):
    from dsi_finance.roles import Role
    from tests.factories import UserFactory

    # The IT director who also steers (both roles) opens it over the available amount.
    both = UserFactory(username="dsi-pilote", roles=[Role.DIRECTION, Role.PILOTAGE])
    commitment = open_recurring(
        both, lines, amounts=(100_000, 1_200_000), override_reason="Contrat reconduit"
    )
    assert ("F-6262-TELECOM", "override", 1_200_000) in entries_of(commitment)
    assert figures(lines[1])[2] == -200_000


def test_only_the_section_head_opens_recurring_contracts(cast, lines):
    for user in cast.values():
        if user.username == "chef":
            continue
        with pytest.raises(PermissionDenied):
            open_recurring(user, lines)
    assert not Commitment.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused(chef, lines):
    with pytest.raises(ProcurementError):
        commitment_open_recurring(
            user=chef,
            supplier=SupplierFactory(),
            subject="Abonnement",
            period_start=date(2026, 6, 1),
            period_end=date(2026, 5, 31),
            lines=[LineSpec(budget_line=lines[0], description="Abonnement", amount=10_000)],
        )
    assert not Commitment.objects.exists()


def test_closing_releases_exactly_the_remainder_of_each_line(chef, comptable, lines):
    maintenance, telecom = lines
    commitment = open_recurring(chef, lines)
    # Part of the maintenance was spent (as a liquidated invoice would).
    from budgets.services import credits_liquidate

    with transaction.atomic():
        line = CommitmentLine.objects.get(commitment=commitment, position=1)
        credits_liquidate(user=comptable, document=commitment, line=maintenance, amount=700_000)
        CommitmentLine.objects.filter(pk=line.pk).update(liquidated=700_000)
        Commitment.objects.filter(pk=commitment.pk).update(liquidated=700_000)
    commitment.refresh_from_db()
    preview = release_preview(commitment=commitment)
    assert [(line.position, line.remainder) for line in preview] == [(1, 500_000), (2, 480_000)]

    closed = commitment_close(user=chef, commitment=commitment, reason="Fin du marché")
    assert closed.state == Commitment.State.CLOSED
    assert (closed.amount, closed.liquidated, closed.released, closed.remainder) == (
        1_680_000,
        700_000,
        980_000,
        0,
    )
    assert entries_of(commitment)[-2:] == [
        ("F-6156-INFRA", "release", -500_000),
        ("F-6262-TELECOM", "release", -480_000),
    ]
    assert [
        (line.amount, line.liquidated, line.released, line.remainder)
        for line in closed.lines.order_by("position")
    ] == [(1_200_000, 700_000, 500_000, 0), (480_000, 0, 480_000, 0)]
    assert figures(maintenance) == (3_000_000, 700_000, 2_300_000)
    assert figures(telecom) == (1_000_000, 0, 1_000_000)


def test_closing_an_ordered_request_closes_the_request(chef, acheteur, lines):
    commitment = request_commitment(chef, [ordered_goods(lines[0], "2", 100_000)])
    orders.purchase_order_create(user=acheteur, commitment=commitment)
    commitment_close(user=chef, commitment=commitment, reason="Livraison annulée")
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.CLOSED
    assert figures(lines[0]) == (3_000_000, 0, 3_000_000)


def test_closing_a_requests_commitment_leaves_a_trace_in_the_requests_history(chef, lines):
    commitment = request_commitment(chef, [ordered_goods(lines[0], "1", 50_000)])
    request = PurchaseRequest.objects.get()
    before = request.history.count()
    commitment_close(user=chef, commitment=commitment, reason="Abandon")
    request.refresh_from_db()
    assert request.state == PurchaseRequest.State.CLOSED
    assert request.history.count() == before + 1
    assert request.history.first().state == PurchaseRequest.State.CLOSED
    assert request.history.first().history_user == chef


def test_closing_needs_the_section_head_and_an_open_commitment(chef, acheteur, lines):
    commitment = open_recurring(chef, lines)
    with pytest.raises(PermissionDenied):
        commitment_close(user=acheteur, commitment=commitment, reason="Essai")
    commitment_close(user=chef, commitment=commitment, reason="Fin")
    with pytest.raises(ProcurementError) as refused:
        commitment_close(user=chef, commitment=commitment, reason="Encore")
    assert refused.value.code == "commitment_state"
    assert len([entry for entry in entries_of(commitment) if entry[1] == "release"]) == 2


def test_the_commitment_file_gathers_lines_order_receipts_and_figures(chef, acheteur, lines):
    commitment = request_commitment(
        chef,
        [
            ordered_goods(lines[0], "4", 100_000, "22", "Commutateur"),
            ordered_goods(lines[0], "1", 30_000, "11", "Câbles"),
        ],
    )
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    receipt = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(order.issued_at),
        quantities={commitment.lines.get(position=1): "1.5"},
    )
    file = commitment_file(commitment=commitment)
    assert file.order == order
    assert file.receipts == [receipt]
    assert file.totals == {
        "amount": 430_000,
        "liquidated": 0,
        "released": 0,
        "remainder": 430_000,
        "invoiced": 0,
    }
    assert [(line.quantity_text, line.received_text) for line in file.lines] == [
        ("4", "1,5"),
        ("1", "0"),
    ]
    assert file.receivable


def test_the_list_shows_the_remainder_of_each_commitment(chef, lines):
    commitment = open_recurring(chef, lines)
    listed = commitment_list().get(pk=commitment.pk)
    assert listed.remaining == 1_680_000
    assert FiscalYear.objects.get().state == FiscalYear.State.OPEN
