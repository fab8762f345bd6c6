"""Purchase requests through their services: entering, submitting, approving (the
credits taken through the commitment), rejecting, reopening, cancelling (the credits
given back) and attaching files. Every refusal changes nothing."""

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from budgets.models import BudgetLine, FiscalYear, LedgerEntry
from budgets.services import CreditsShortError
from procurement.models import (
    Attachment,
    Commitment,
    DocumentSequence,
    Invoice,
    PurchaseOrder,
    PurchaseRequest,
    PurchaseRequestLine,
)
from procurement.services import requests as services
from procurement.services.common import ProcurementError, next_number
from tests.factories import BudgetLineFactory, FiscalYearFactory, NatureAccountFactory
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    purchase_request,
    request_line,
)

pytestmark = pytest.mark.django_db

State = PurchaseRequest.State


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def line():
    """A budget line of 2026 (open) with 1 000 000 voted."""
    return funded_line(1_000_000, code="F-6156-INFRA", label="Maintenance des serveurs")


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cipac Informatique")


def figures(line) -> tuple[int, int]:
    line = BudgetLine.objects.get(pk=line.pk)
    return line.committed, line.available


def entries_of(document) -> list[tuple[int, str, int, str]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(document), document_id=document.pk
        )
        .order_by("pk")
        .values_list("budget_line_id", "kind", "amount", "reason")
    )


def das_taken() -> int:
    row = DocumentSequence.objects.filter(kind="DA").first()
    return row.last if row else 0


def submitted(acheteur, lines, supplier=None):
    return purchase_request(user=acheteur, lines=lines, supplier=supplier, submit=True)


# --- Entering ---------------------------------------------------------------------


def test_the_buyer_enters_a_numbered_draft_with_its_amounts_and_tgc_by_rate(
    acheteur, line, supplier
):
    request = services.purchase_request_create(
        user=acheteur,
        supplier=supplier,
        subject="Renouvellement des onduleurs",
        justification="Fin de garantie",
        lines=[
            request_line(line, quantity="2", unit_price=450_000, description="Onduleur 3 kVA"),
            # Days of service: 2.5 × 10 001 = 25 002.5, rounded half up.
            request_line(line, quantity="2,5", unit_price=10_001, tax_rate="11"),
            request_line(None, quantity="1", unit_price=9_999, tax_rate=Decimal("22")),
        ],
    )
    assert request.number == "DA-2026-00001"
    assert request.state == State.DRAFT
    assert request.requested_by == acheteur
    assert request.fiscal_year.year == 2026
    lines = list(request.lines.order_by("position"))
    assert [(x.position, x.quantity, x.amount_ht) for x in lines] == [
        (1, Decimal("2.000"), 900_000),
        (2, Decimal("2.500"), 25_003),
        (3, Decimal("1.000"), 9_999),
    ]
    # TGC per rate on the sum of the lines at that rate: 22 % of 909 999, 11 % of 25 003.
    assert request.amount_ht == 935_002
    assert request.amount_tax == 200_200 + 2_750
    assert request.amount_ttc == 935_002 + 202_950
    # A draft consumes nothing.
    assert figures(line) == (0, 1_000_000)


def test_numbers_follow_each_other_in_the_year(acheteur, line, supplier):
    first = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    second = purchase_request(user=acheteur, lines=[request_line(None)], supplier=supplier)
    assert (first.number, second.number) == ("DA-2026-00001", "DA-2026-00002")


@pytest.mark.parametrize(
    ("change", "code", "figure"),
    [
        ({"quantity": "-1"}, "quantity", None),
        ({"quantity": "0"}, "quantity", None),
        ({"quantity": "abc"}, "quantity", None),
        ({"quantity": "1.0001"}, "quantity", None),
        ({"unit_price": 0}, "amount", None),
        ({"unit_price": -5}, "amount", None),
        ({"unit_price": "12,50"}, None, None),
        ({"tax_rate": "19.6"}, "tax_rate", "19.6"),
        ({"tax_rate": "vingt"}, "tax_rate", "vingt"),
        ({"description": "   "}, "required", None),
        ({"budget_line": 987654}, "budget_line", None),
        ({"quantity": "0.001", "unit_price": 1}, "amount", None),
    ],
)
def test_bad_lines_are_refused_naming_the_line_and_nothing_is_recorded(
    acheteur, line, supplier, change, code, figure
):
    bad = request_line(line) | change
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur,
            supplier=supplier,
            subject="Achat",
            lines=[bad],
        )
    message = " ".join(caught.value.messages)
    assert re.search(r"\b1\b", message), message  # "Ligne 1 : …"
    if figure:
        assert figure in message
    if code:
        assert caught.value.code == code
    assert PurchaseRequest.objects.count() == 0
    assert PurchaseRequestLine.objects.count() == 0
    assert das_taken() == 0


def test_the_second_line_is_named_when_it_is_the_bad_one(acheteur, line, supplier):
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur,
            supplier=supplier,
            subject="Achat",
            lines=[request_line(line), request_line(line, quantity="-2")],
        )
    assert caught.value.code == "quantity"
    assert "2" in caught.value.messages[0]
    assert PurchaseRequest.objects.count() == 0


def test_an_unknown_tgc_rate_is_refused_with_the_rate_in_the_message(acheteur, line, supplier):
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur,
            supplier=supplier,
            subject="Achat",
            lines=[request_line(line, tax_rate="7")],
        )
    assert caught.value.code == "tax_rate"
    assert "7 %" in caught.value.messages[0]
    assert PurchaseRequest.objects.count() == 0


def test_a_request_needs_lines_and_at_most_fifty(acheteur, line, supplier):
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(user=acheteur, supplier=supplier, subject="A", lines=[])
    assert caught.value.code == "no_lines"
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur, supplier=supplier, subject="A", lines=[request_line(line)] * 51
        )
    assert caught.value.code == "too_many_lines"
    assert "50" in caught.value.messages[0]
    fifty = services.purchase_request_create(
        user=acheteur, supplier=supplier, subject="A", lines=[request_line(line)] * 50
    )
    assert fifty.lines.count() == 50
    assert fifty.amount_ht == 5_000_000


def test_a_deactivated_supplier_and_an_empty_subject_are_refused(acheteur, line):
    closed = SupplierFactory(name="Ancien fournisseur", is_active=False)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur, supplier=closed, subject="Achat", lines=[request_line(line)]
        )
    assert caught.value.code == "supplier_inactive"
    assert "Ancien fournisseur" in caught.value.messages[0]
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur, supplier=SupplierFactory(), subject="  ", lines=[request_line(line)]
        )
    assert caught.value.code == "required"
    assert PurchaseRequest.objects.count() == 0


def test_the_lines_of_a_request_take_credits_of_one_open_year(acheteur, line, supplier):
    next_year = BudgetLineFactory(fiscal_year=FiscalYearFactory(year=2027, state="preparation"))
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur,
            supplier=supplier,
            subject="Achat",
            lines=[request_line(line), request_line(next_year)],
        )
    assert caught.value.code == "two_years"
    assert "2026" in caught.value.messages[0] and "2027" in caught.value.messages[0]
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur, supplier=supplier, subject="Achat", lines=[request_line(next_year)]
        )
    assert caught.value.code == "year_state"
    assert PurchaseRequest.objects.count() == 0


def test_without_an_open_year_no_request_can_be_entered(acheteur, supplier):
    FiscalYearFactory(year=2027, state="preparation")
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_create(
            user=acheteur, supplier=supplier, subject="Achat", lines=[request_line(None)]
        )
    assert caught.value.code == "no_open_year"


def test_only_a_buyer_enters_requests(chef, directeur, comptable, controleur, line, supplier):
    for user in (chef, directeur, comptable, controleur):
        with pytest.raises(PermissionDenied):
            services.purchase_request_create(
                user=user, supplier=supplier, subject="Achat", lines=[request_line(line)]
            )
    assert PurchaseRequest.objects.count() == 0


def test_editing_a_draft_replaces_its_lines_and_amounts(acheteur, line, supplier):
    request = purchase_request(user=acheteur, lines=[request_line(None)], supplier=supplier)
    other = SupplierFactory(name="Autre")
    request = services.purchase_request_update(
        user=acheteur,
        request=request,
        supplier=other,
        subject="Nouvel objet",
        justification="Précisé",
        lines=[
            request_line(line, quantity="3", unit_price=1_000, tax_rate="0"),
            request_line(line, quantity="1", unit_price=500, tax_rate="3"),
        ],
    )
    request.refresh_from_db()
    assert request.supplier == other
    assert request.subject == "Nouvel objet"
    assert [(x.position, x.amount_ht) for x in request.lines.order_by("position")] == [
        (1, 3_000),
        (2, 500),
    ]
    assert (request.amount_ht, request.amount_tax, request.amount_ttc) == (3_500, 15, 3_515)
    assert request.number == "DA-2026-00001"


def test_editing_keeps_the_year_of_the_number(acheteur, line, supplier):
    request = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    FiscalYear.objects.create(year=2027, state="open")
    other_year = BudgetLineFactory(fiscal_year=FiscalYear.objects.get(year=2027))
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_update(
            user=acheteur,
            request=request,
            supplier=supplier,
            subject="Achat",
            justification="",
            lines=[request_line(other_year)],
        )
    assert caught.value.code == "other_year"
    assert request.lines.get().budget_line == line


def test_editing_an_approved_request_is_refused_and_changes_nothing(acheteur, chef, line, supplier):
    request = submitted(acheteur, [request_line(line, unit_price=200_000)], supplier)
    services.purchase_request_approve(user=chef, request=request)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_update(
            user=acheteur,
            request=request,
            supplier=supplier,
            subject="Changé",
            justification="",
            lines=[request_line(line, unit_price=900_000)],
        )
    assert caught.value.code == "not_editable"
    assert request.number in caught.value.messages[0]
    request.refresh_from_db()
    assert request.subject == "Achat de test"
    assert request.amount_ht == 200_000
    assert request.lines.get().unit_price == 200_000


# --- Submitting ---------------------------------------------------------------------


def test_submitting_puts_the_draft_in_the_approvers_hands(acheteur, line, supplier):
    request = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    request = services.purchase_request_submit(user=acheteur, request=request)
    request.refresh_from_db()
    assert request.state == State.SUBMITTED
    assert request.submitted_at is not None
    assert figures(line) == (0, 1_000_000)


def test_a_request_with_lines_lacking_their_budget_line_cannot_be_submitted(
    acheteur, line, supplier
):
    request = purchase_request(
        user=acheteur,
        lines=[request_line(None), request_line(line), request_line(None)],
        supplier=supplier,
    )
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_submit(user=acheteur, request=request)
    assert caught.value.code == "budget_line_missing"
    assert "1, 3" in caught.value.messages[0]
    request.refresh_from_db()
    assert request.state == State.DRAFT
    assert request.submitted_at is None


def test_a_submitted_request_cannot_be_submitted_again(acheteur, line, supplier):
    request = submitted(acheteur, [request_line(line)], supplier)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_submit(user=acheteur, request=request)
    assert caught.value.code == "state"


# --- Approving ----------------------------------------------------------------------


def test_the_section_head_approves_and_the_available_amount_drops_by_the_amount_before_tax(
    acheteur, chef, line, supplier
):
    request = submitted(
        acheteur,
        [
            request_line(line, quantity="2", unit_price=150_000),
            request_line(line, quantity="1.5", unit_price=33_333, tax_rate="11"),
        ],
        supplier,
    )
    assert request.amount_ht == 300_000 + 50_000  # 49 999.5 rounded half up
    commitment = services.purchase_request_approve(user=chef, request=request)
    request.refresh_from_db()
    assert request.state == State.APPROVED
    assert request.decided_by == chef
    assert request.decided_at is not None
    assert commitment.purchase_request == request
    assert commitment.kind == Commitment.Kind.REQUEST
    assert commitment.number == "EJ-2026-00001"
    assert commitment.amount == 350_000
    assert figures(line) == (350_000, 650_000)
    # One commit entry for the line's total, caused by the commitment (not the request).
    assert entries_of(commitment) == [(line.pk, "commit", 350_000, "")]
    assert entries_of(request) == []
    lines = list(commitment.lines.order_by("position"))
    assert [(x.request_line.position, x.amount, x.quantity, x.unit_price) for x in lines] == [
        (1, 300_000, Decimal("2.000"), 150_000),
        (2, 50_000, Decimal("1.500"), 33_333),
    ]
    assert lines[1].tax_rate.rate == Decimal("11")


def test_a_request_over_two_lines_commits_each_line(acheteur, chef, line, supplier):
    second = funded_line(500_000, code="F-6161-APPLI")
    request = submitted(
        acheteur,
        [request_line(line, unit_price=100_000), request_line(second, unit_price=40_000)],
        supplier,
    )
    commitment = services.purchase_request_approve(user=chef, request=request)
    assert sorted(entries_of(commitment)) == sorted(
        [(line.pk, "commit", 100_000, ""), (second.pk, "commit", 40_000, "")]
    )
    assert figures(second) == (40_000, 460_000)


def test_above_the_threshold_only_the_director_approves(
    acheteur, chef, directeur, supplier, settings
):
    settings.PROCUREMENT_APPROVAL_THRESHOLD = 5_000_000
    big = funded_line(20_000_000)
    at = submitted(acheteur, [request_line(big, unit_price=5_000_000)], supplier)
    above = submitted(acheteur, [request_line(big, unit_price=5_000_001)], supplier)
    with pytest.raises(PermissionDenied) as caught:
        services.purchase_request_approve(user=chef, request=above)
    assert above.number in str(caught.value)
    above.refresh_from_db()
    assert above.state == State.SUBMITTED
    assert not Commitment.objects.exists()
    assert figures(big) == (0, 20_000_000)
    # The threshold itself is still the section head's.
    services.purchase_request_approve(user=chef, request=at)
    services.purchase_request_approve(user=directeur, request=above)
    assert figures(big) == (10_000_001, 9_999_999)


@pytest.mark.parametrize("role", ["acheteur", "comptable", "controleur"])
def test_approval_by_the_wrong_role_is_refused_and_changes_nothing(
    request, role, acheteur, line, supplier
):
    user = request.getfixturevalue(role)
    pr = submitted(acheteur, [request_line(line)], supplier)
    with pytest.raises(PermissionDenied):
        services.purchase_request_approve(user=user, request=pr)
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED
    assert not Commitment.objects.exists()
    assert figures(line) == (0, 1_000_000)


def test_nobody_approves_a_request_they_entered(acheteur, line, supplier):
    from tests.factories import UserFactory

    both = UserFactory(username="polyvalent", roles=["achat", "pilotage"])
    pr = submitted(both, [request_line(line)], supplier)
    with pytest.raises(PermissionDenied):
        services.purchase_request_approve(user=both, request=pr)
    assert not Commitment.objects.exists()


def test_short_credits_refuse_the_section_heads_approval_with_the_figures(
    acheteur, chef, line, supplier
):
    pr = submitted(acheteur, [request_line(line, unit_price=1_200_000)], supplier)
    with pytest.raises(CreditsShortError) as caught:
        services.purchase_request_approve(user=chef, request=pr, override_reason="Urgent")
    error = caught.value
    assert error.code == "credits_short"
    assert error.can_override is False
    assert error.shortages[0].requested == 1_200_000
    assert error.shortages[0].available == 1_000_000
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED
    assert pr.decided_by is None
    assert not Commitment.objects.exists()
    assert figures(line) == (0, 1_000_000)
    # The rolled back approval gave its commitment number back.
    assert not DocumentSequence.objects.filter(kind="EJ", last__gt=0).exists()


def test_the_director_overrides_short_credits_with_a_written_reason(
    acheteur, directeur, line, supplier
):
    pr = submitted(acheteur, [request_line(line, unit_price=1_200_000)], supplier)
    with pytest.raises(CreditsShortError) as caught:
        services.purchase_request_approve(user=directeur, request=pr)
    assert caught.value.can_override is True
    commitment = services.purchase_request_approve(
        user=directeur, request=pr, override_reason="Panne du cœur de réseau"
    )
    pr.refresh_from_db()
    assert pr.state == State.APPROVED
    assert pr.decision_reason == "Panne du cœur de réseau"
    assert entries_of(commitment) == [(line.pk, "override", 1_200_000, "Panne du cœur de réseau")]
    assert figures(line) == (1_200_000, -200_000)


def test_a_second_approval_is_refused_and_credits_are_taken_once(
    acheteur, chef, directeur, line, supplier
):
    pr = submitted(acheteur, [request_line(line, unit_price=300_000)], supplier)
    services.purchase_request_approve(user=chef, request=pr)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_approve(user=directeur, request=pr)
    assert caught.value.code == "state"
    assert Commitment.objects.count() == 1
    assert figures(line) == (300_000, 700_000)
    assert LedgerEntry.objects.filter(kind="commit").count() == 1


def test_a_draft_cannot_be_approved(acheteur, chef, line, supplier):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_approve(user=chef, request=pr)
    assert caught.value.code == "state"


# --- Rejecting and reopening --------------------------------------------------------


def test_a_rejection_carries_its_reason_back_to_the_buyer_who_reopens(
    acheteur, chef, line, supplier
):
    pr = submitted(acheteur, [request_line(line)], supplier)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_reject(user=chef, request=pr, reason="  ")
    assert caught.value.code == "required"
    pr.refresh_from_db()
    assert pr.state == State.SUBMITTED
    services.purchase_request_reject(user=chef, request=pr, reason="Trois devis sont requis")
    pr.refresh_from_db()
    assert pr.state == State.REJECTED
    assert pr.decision_reason == "Trois devis sont requis"
    assert pr.decided_by == chef
    assert figures(line) == (0, 1_000_000)
    with pytest.raises(PermissionDenied):
        services.purchase_request_reopen(user=chef, request=pr)
    services.purchase_request_reopen(user=acheteur, request=pr)
    pr.refresh_from_db()
    assert pr.state == State.DRAFT
    assert pr.decided_by is None and pr.submitted_at is None
    # The rejection stays in the history.
    assert pr.history.filter(state=State.REJECTED, decision_reason="Trois devis sont requis")


def test_only_a_submitted_request_is_rejected_or_a_rejected_one_reopened(
    acheteur, chef, line, supplier
):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(ProcurementError):
        services.purchase_request_reject(user=chef, request=pr, reason="Non")
    with pytest.raises(ProcurementError):
        services.purchase_request_reopen(user=acheteur, request=pr)
    with pytest.raises(PermissionDenied):
        services.purchase_request_reject(user=acheteur, request=pr, reason="Non")


# --- Cancelling ---------------------------------------------------------------------


def test_cancelling_an_approved_request_gives_its_credits_back_exactly(
    acheteur, chef, line, supplier
):
    pr = submitted(
        acheteur,
        [request_line(line, unit_price=250_000), request_line(line, unit_price=1_234)],
        supplier,
    )
    commitment = services.purchase_request_approve(user=chef, request=pr)
    assert figures(line) == (251_234, 748_766)
    services.purchase_request_cancel(user=chef, request=pr, reason="Projet abandonné")
    pr.refresh_from_db()
    commitment.refresh_from_db()
    assert pr.state == State.CANCELLED
    assert pr.cancel_reason == "Projet abandonné"
    assert pr.cancelled_by == chef and pr.cancelled_at is not None
    assert commitment.state == Commitment.State.CANCELLED
    assert commitment.released == 251_234
    assert entries_of(commitment) == [
        (line.pk, "commit", 251_234, ""),
        (line.pk, "release", -250_000, "Projet abandonné"),
        (line.pk, "release", -1_234, "Projet abandonné"),
    ]
    assert figures(line) == (0, 1_000_000)


def test_cancelling_an_ordered_request_cancels_its_order(acheteur, chef, line, supplier):
    pr = submitted(acheteur, [request_line(line, unit_price=100_000)], supplier)
    commitment = services.purchase_request_approve(user=chef, request=pr)
    from django.db import transaction

    with transaction.atomic():
        order = PurchaseOrder.objects.create(
            fiscal_year=commitment.fiscal_year,
            number=next_number("BC", 2026),
            commitment=commitment,
            supplier=supplier,
            issued_by=acheteur,
            amount_ht=100_000,
        )
    PurchaseRequest.objects.filter(pk=pr.pk).update(state=State.ORDERED)
    services.purchase_request_cancel(user=chef, request=pr, reason="Commande annulée")
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.CANCELLED
    assert (order.cancelled_by, order.cancel_reason) == (chef, "Commande annulée")
    assert order.history.first().history_user == chef
    assert figures(line) == (0, 1_000_000)


def test_an_invoiced_request_cannot_be_cancelled(acheteur, chef, comptable, line, supplier):
    pr = submitted(acheteur, [request_line(line, unit_price=100_000)], supplier)
    commitment = services.purchase_request_approve(user=chef, request=pr)
    PurchaseRequest.objects.filter(pk=pr.pk).update(state=State.RECEIVED)
    from django.db import transaction

    today = timezone.localdate()
    with transaction.atomic():
        Invoice.objects.create(
            fiscal_year=commitment.fiscal_year,
            number=next_number("FA", 2026),
            supplier=supplier,
            supplier_number="F-2026-118",
            commitment=commitment,
            invoice_date=today,
            received_on=today,
            due_on=today,
            amount_ht_currency=100_000,
            amount_tax_currency=22_000,
            amount_ttc_currency=122_000,
            entered_by=comptable,
        )
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_cancel(user=chef, request=pr, reason="Trop tard")
    assert caught.value.code == "invoiced"
    assert "FA-2026-00001" in caught.value.messages[0]
    pr.refresh_from_db()
    commitment.refresh_from_db()
    assert pr.state == State.RECEIVED
    assert commitment.state == Commitment.State.OPEN
    assert figures(line) == (100_000, 900_000)


def test_who_cancels_depends_on_whether_the_request_holds_credits(
    acheteur, chef, directeur, line, supplier
):
    draft = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(PermissionDenied):
        services.purchase_request_cancel(user=chef, request=draft, reason="Doublon")
    services.purchase_request_cancel(user=acheteur, request=draft, reason="Doublon")
    draft.refresh_from_db()
    assert draft.state == State.CANCELLED

    approved = submitted(acheteur, [request_line(line)], supplier)
    services.purchase_request_approve(user=chef, request=approved)
    with pytest.raises(PermissionDenied):
        services.purchase_request_cancel(user=acheteur, request=approved, reason="Plus utile")
    approved.refresh_from_db()
    assert approved.state == State.APPROVED
    services.purchase_request_cancel(user=directeur, request=approved, reason="Plus utile")
    approved.refresh_from_db()
    assert approved.state == State.CANCELLED


def test_a_cancellation_needs_a_reason_and_happens_once(acheteur, line, supplier):
    draft = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_cancel(user=acheteur, request=draft, reason="")
    assert caught.value.code == "required"
    services.purchase_request_cancel(user=acheteur, request=draft, reason="Doublon")
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_cancel(user=acheteur, request=draft, reason="Encore")
    assert caught.value.code == "state"
    draft.refresh_from_db()
    assert draft.cancel_reason == "Doublon"


# --- Attachments --------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_quote_is_attached_and_kept(acheteur, line, supplier, media):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    upload = SimpleUploadedFile("devis 2026.pdf", b"%PDF-1.7 devis", "application/pdf")
    attachment = services.attachment_add(user=acheteur, request=pr, file=upload)
    assert attachment.name == "devis 2026.pdf"
    assert attachment.size == len(b"%PDF-1.7 devis")
    assert attachment.uploaded_by == acheteur
    with attachment.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.7 devis"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("devis.exe", b"MZ....", "file_type"),
        ("devis", b"%PDF-1.7", "file_type"),
        ("devis.pdf", b"", "file_empty"),
        ("devis.pdf", b"<html>not a pdf</html>", "file_content"),
        ("photo.png", b"%PDF-1.7", "file_content"),
    ],
)
def test_bad_files_are_refused_with_a_message(acheteur, line, supplier, media, name, content, code):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(ProcurementError) as caught:
        services.attachment_add(user=acheteur, request=pr, file=SimpleUploadedFile(name, content))
    assert caught.value.code == code
    assert not Attachment.objects.exists()
    assert not any(media.rglob("*.*"))


def test_an_oversized_file_is_refused(acheteur, line, supplier, media, settings):
    settings.PROCUREMENT_ATTACHMENT_MAX_BYTES = 1_000
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(ProcurementError) as caught:
        services.attachment_add(
            user=acheteur, request=pr, file=SimpleUploadedFile("devis.pdf", b"%PDF-" + b"x" * 1_000)
        )
    assert caught.value.code == "file_size"
    assert not Attachment.objects.exists()


def test_only_a_buyer_attaches_and_not_to_a_cancelled_request(
    acheteur, chef, line, supplier, media
):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    with pytest.raises(PermissionDenied):
        services.attachment_add(
            user=chef, request=pr, file=SimpleUploadedFile("note.txt", b"Bonjour")
        )
    services.purchase_request_cancel(user=acheteur, request=pr, reason="Doublon")
    with pytest.raises(ProcurementError) as caught:
        services.attachment_add(
            user=acheteur, request=pr, file=SimpleUploadedFile("note.txt", b"Bonjour")
        )
    assert caught.value.code == "state"
    assert not Attachment.objects.exists()


# ---------------------------------------------------------------------------
# Short credits: approve, override or transmit, decided by one rule


def test_the_approval_path_is_one_rule_for_every_case(acheteur, chef, directeur, line, supplier):
    Decision = services.Decision
    covered = submitted(acheteur, [request_line(line)], supplier)
    short = submitted(acheteur, [request_line(line, unit_price=1_200_000)], supplier)
    is_short = services.credits_short
    assert not is_short(user=chef, request=covered) and is_short(user=chef, request=short)
    assert services.approval_path(chef, covered, short=False) == Decision.APPROVE
    assert services.approval_path(chef, short, short=True) == Decision.TRANSMIT
    assert services.approval_path(directeur, short, short=True) == Decision.OVERRIDE
    assert services.approval_path(acheteur, short, short=True) == Decision.NONE
    FiscalYear.objects.filter(pk=line.fiscal_year_id).update(control_mode="warn")
    short.refresh_from_db()
    assert services.approval_path(chef, short, short=True) == Decision.OVERRIDE


def test_the_section_head_transmits_a_short_request_to_the_director(
    acheteur, chef, directeur, line, supplier
):
    pr = submitted(acheteur, [request_line(line, unit_price=1_200_000)], supplier)
    services.purchase_request_transmit(user=chef, request=pr, note="  Urgent  ")
    pr.refresh_from_db()
    assert (pr.transmitted_by, pr.transmit_note, pr.state) == (chef, "Urgent", State.SUBMITTED)
    assert pr.transmitted_at is not None
    # Now the director's: the section head no longer decides it, the director overrides.
    assert services.approval_path(chef, pr, short=True) == services.Decision.NONE
    assert services.approval_path(directeur, pr, short=True) == services.Decision.OVERRIDE
    with pytest.raises(ProcurementError, match="déjà transmise"):
        services.purchase_request_transmit(user=chef, request=pr)
    services.purchase_request_approve(user=directeur, request=pr, override_reason="Pare-feu")
    pr.refresh_from_db()
    assert pr.state == State.APPROVED and pr.decision_reason == "Pare-feu"


def test_a_covered_request_is_not_transmitted(acheteur, chef, line, supplier):
    pr = submitted(acheteur, [request_line(line)], supplier)
    with pytest.raises(ProcurementError) as caught:
        services.purchase_request_transmit(user=chef, request=pr)
    assert caught.value.code == "not_transmittable"
    pr.refresh_from_db()
    assert pr.transmitted_at is None


def test_only_the_section_head_transmits(acheteur, directeur, line, supplier):
    pr = submitted(acheteur, [request_line(line, unit_price=1_200_000)], supplier)
    for user in (acheteur, directeur):
        with pytest.raises(PermissionDenied):
            services.purchase_request_transmit(user=user, request=pr)


def test_reopening_a_rejected_transmitted_request_sends_it_back_to_the_section_head(
    acheteur, chef, directeur, line, supplier
):
    pr = submitted(acheteur, [request_line(line, unit_price=1_200_000)], supplier)
    services.purchase_request_transmit(user=chef, request=pr)
    services.purchase_request_reject(user=directeur, request=pr, reason="Attendre la DM2")
    services.purchase_request_reopen(user=acheteur, request=pr)
    pr.refresh_from_db()
    assert pr.transmitted_at is None and pr.transmitted_by is None and pr.transmit_note == ""
    assert pr.history.filter(history_change_reason="Transmise au DSI").exists()


def test_at_chapter_level_the_rule_reads_the_chapters_available_as_the_commitment_does(
    acheteur, chef, line, supplier
):
    sibling = funded_line(
        2_000_000,
        code="F-6157-INFRA",
        nature_account=NatureAccountFactory(chapter=line.nature_account.chapter),
    )
    FiscalYear.objects.filter(pk=line.fiscal_year_id).update(control_level="chapter")
    pr = submitted(acheteur, [request_line(line, unit_price=1_500_000)], supplier)
    # The line alone lacks 500 000, its chapter (3 000 000) does not: approved by the head.
    assert not services.credits_short(user=chef, request=pr)
    assert services.approval_path(chef, pr, short=False) == services.Decision.APPROVE
    services.purchase_request_approve(user=chef, request=pr)
    big = submitted(acheteur, [request_line(sibling, unit_price=1_600_000)], supplier)
    shortages = services.request_shortages(user=chef, request=big)
    assert [(s.requested, s.available) for s in shortages] == [(1_600_000, 1_500_000)]
    with pytest.raises(CreditsShortError, match="Transmettez la demande au DSI"):
        services.purchase_request_approve(user=chef, request=big)
