"""The purchase request API: /api/v1/purchase-requests/ with its nested lines and its
actions, the same capabilities and services as the screens."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from budgets.models import BudgetLine, LedgerEntry
from procurement.models import Commitment, PurchaseRequest
from procurement.services import requests as services
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    purchase_request,
    request_line,
)

pytestmark = pytest.mark.django_db

State = PurchaseRequest.State
LIST = reverse("api:purchase-request-list")


def detail(pr) -> str:
    return reverse("api:purchase-request-detail", args=[pr.pk])


def act(pr, name: str) -> str:
    return reverse(f"api:purchase-request-{name}", args=[pr.pk])


def figures(line) -> tuple[int, int]:
    line = BudgetLine.objects.get(pk=line.pk)
    return line.committed, line.available


def entries_of(document) -> list[tuple[str, int, str]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(document), document_id=document.pk
        )
        .order_by("pk")
        .values_list("kind", "amount", "reason")
    )


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def as_user():
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


@pytest.fixture
def line():
    return funded_line(1_000_000, code="F-6156-INFRA", label="Maintenance des serveurs")


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cipac Informatique")


def body(supplier, line, **changes) -> dict:
    data = {
        "supplier": supplier.pk,
        "subject": "Onduleurs",
        "justification": "Fin de garantie",
        "lines": [
            {
                "description": "Onduleur 3 kVA",
                "quantity": "2",
                "unit_price": 450_000,
                "tax_rate": "22",
                "budget_line": line.pk,
            },
            {
                "description": "Installation",
                "quantity": 2.5,
                "unit_price": 10_001,
                "tax_rate": 11,
                "budget_line": None,
            },
        ],
    }
    data.update(changes)
    return data


# --- Access ---------------------------------------------------------------------------


def test_an_anonymous_call_gets_401_and_a_role_without_requests_403(client, sans_role, as_user):
    assert APIClient().get(LIST).status_code == 401
    assert as_user(sans_role).get(LIST).status_code == 403


def test_a_token_opens_the_list(acheteur, line, supplier):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=acheteur).key}")
    response = client.get(LIST)
    assert response.status_code == 200
    assert [r["number"] for r in response.json()["results"]] == [pr.number]


def test_there_is_no_delete(as_user, acheteur, line, supplier):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    assert as_user(acheteur).delete(detail(pr)).status_code == 405
    assert PurchaseRequest.objects.filter(pk=pr.pk).exists()


def test_only_buyers_create_and_controllers_only_read(as_user, chef, controleur, line, supplier):
    for user in (chef, controleur):
        assert as_user(user).post(LIST, body(supplier, line), format="json").status_code == 403
    assert not PurchaseRequest.objects.exists()


# --- Creating and reading -------------------------------------------------------------


def test_the_buyer_creates_a_request_with_nested_lines(as_user, acheteur, line, supplier):
    response = as_user(acheteur).post(LIST, body(supplier, line), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"] == "DA-2026-00001"
    assert data["state"] == "draft"
    assert data["supplier"] == supplier.pk and data["supplier_name"] == "Cipac Informatique"
    assert (data["amount_ht"], data["amount_tax"], data["amount_ttc"]) == (
        925_003,
        198_000 + 2_750,
        925_003 + 200_750,
    )
    assert data["tax_by_rate"] == [
        {"rate": "22", "base": 900_000, "tax": 198_000},
        {"rate": "11", "base": 25_003, "tax": 2_750},
    ]
    assert [
        (x["position"], x["quantity"], x["unit_price"], x["tax_rate"], x["amount_ht"])
        for x in data["lines"]
    ] == [(1, "2.000", 450_000, "22", 900_000), (2, "2.500", 10_001, "11", 25_003)]
    assert data["lines"][0]["budget_line_code"] == "F-6156-INFRA"
    assert data["lines"][1]["budget_line"] is None
    assert data["commitment"] is None
    assert data["requested_by"] == "acheteur"
    assert data["url"].endswith(PurchaseRequest.objects.get().get_absolute_url())


def test_the_same_idempotency_key_twice_records_once(as_user, acheteur, line, supplier):
    client = as_user(acheteur)
    first = client.post(
        LIST, body(supplier, line), format="json", HTTP_IDEMPOTENCY_KEY="da-onduleurs-1"
    )
    again = client.post(
        LIST, body(supplier, line), format="json", HTTP_IDEMPOTENCY_KEY="da-onduleurs-1"
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert PurchaseRequest.objects.count() == 1
    other = client.post(
        LIST, body(supplier, line), format="json", HTTP_IDEMPOTENCY_KEY="da-onduleurs-2"
    )
    assert other.status_code == 201
    assert PurchaseRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("line_change", "code_text"),
    [
        ({"quantity": "-1"}, "1"),
        ({"quantity": "0"}, "1"),
        ({"tax_rate": "7"}, "7 %"),
        ({"unit_price": 0}, "1"),
    ],
)
def test_bad_input_gets_a_400_with_the_message_and_records_nothing(
    as_user, acheteur, line, supplier, line_change, code_text
):
    data = body(supplier, line)
    data["lines"][0].update(line_change)
    response = as_user(acheteur).post(LIST, data, format="json")
    assert response.status_code == 400
    assert code_text in response.json()["detail"]
    assert not PurchaseRequest.objects.exists()


def test_a_malformed_body_gets_field_errors(as_user, acheteur, line, supplier):
    data = body(supplier, line)
    data["lines"][0]["unit_price"] = "beaucoup"
    data["supplier"] = 999_999
    response = as_user(acheteur).post(LIST, data, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "supplier" in errors and "lines" in errors
    assert not PurchaseRequest.objects.exists()


def test_an_empty_request_is_refused(as_user, acheteur, line, supplier):
    response = as_user(acheteur).post(LIST, body(supplier, line, lines=[]), format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not PurchaseRequest.objects.exists()


def test_the_list_filters_by_state_mine_year_and_supplier(as_user, acheteur, chef, line, supplier):
    from tests.factories import UserFactory

    colleague = UserFactory(username="acheteur2", roles=["achat"])
    other = SupplierFactory(name="Nautile")
    mine = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    theirs = purchase_request(
        user=colleague, lines=[request_line(line)], supplier=other, submit=True
    )
    client = as_user(acheteur)

    def numbers(**params):
        return sorted(r["number"] for r in client.get(LIST, params).json()["results"])

    assert numbers() == sorted([mine.number, theirs.number])
    assert numbers(mine="true") == [mine.number]
    assert numbers(state="submitted") == [theirs.number]
    assert numbers(supplier=other.pk) == [theirs.number]
    assert numbers(year=2026) == sorted([mine.number, theirs.number])
    assert numbers(year=2025) == []
    assert as_user(chef).get(detail(mine)).json()["number"] == mine.number


# --- Changing a draft -----------------------------------------------------------------


def test_a_draft_is_changed_and_its_lines_replaced(as_user, acheteur, line, supplier):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier)
    client = as_user(acheteur)
    response = client.patch(detail(pr), {"subject": "Nouvel objet"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["subject"] == "Nouvel objet"
    assert len(response.json()["lines"]) == 1
    response = client.put(detail(pr), body(supplier, line), format="json")
    assert response.status_code == 200
    pr.refresh_from_db()
    assert pr.amount_ht == 925_003
    assert pr.lines.count() == 2


def test_editing_an_approved_request_is_refused(as_user, acheteur, chef, line, supplier):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier, submit=True)
    services.purchase_request_approve(user=chef, request=pr)
    response = as_user(acheteur).patch(detail(pr), {"subject": "Changé"}, format="json")
    assert response.status_code == 400
    assert pr.number in response.json()["detail"]
    pr.refresh_from_db()
    assert pr.subject == "Achat de test"


# --- Actions --------------------------------------------------------------------------


def test_the_journey_submit_and_approve_through_the_api(as_user, acheteur, chef, line, supplier):
    created = as_user(acheteur).post(
        LIST, body(supplier, line, lines=body(supplier, line)["lines"][:1]), format="json"
    )
    pr = PurchaseRequest.objects.get(pk=created.json()["id"])
    assert as_user(chef).post(act(pr, "submit")).status_code == 403
    response = as_user(acheteur).post(act(pr, "submit"))
    assert response.status_code == 200
    assert response.json()["state"] == "submitted"
    assert as_user(acheteur).post(act(pr, "approve")).status_code == 403
    assert as_user(acheteur).get(act(pr, "approve")).status_code == 405

    response = as_user(chef).post(act(pr, "approve"), {}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    commitment = Commitment.objects.get(purchase_request=pr)
    assert data["state"] == "approved"
    assert data["decided_by"] == "chef"
    assert data["commitment"] == {
        "id": commitment.pk,
        "number": "EJ-2026-00001",
        "state": "open",
        "amount": 900_000,
    }
    assert figures(line) == (900_000, 100_000)
    assert entries_of(commitment) == [("commit", 900_000, "")]
    again = as_user(chef).post(act(pr, "approve"), {}, format="json")
    assert again.status_code == 400
    assert figures(line) == (900_000, 100_000)


def test_submitting_with_a_line_lacking_its_budget_line_is_refused(
    as_user, acheteur, line, supplier
):
    pr = purchase_request(
        user=acheteur, lines=[request_line(line), request_line(None)], supplier=supplier
    )
    response = as_user(acheteur).post(act(pr, "submit"))
    assert response.status_code == 400
    assert "2" in response.json()["detail"]
    pr.refresh_from_db()
    assert pr.state == State.DRAFT


def test_short_credits_answer_credits_short_and_the_director_overrides(
    as_user, acheteur, chef, directeur, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=1_300_000)],
        supplier=supplier,
        submit=True,
    )
    refused = as_user(chef).post(act(pr, "approve"), {"override_reason": "Urgent"}, format="json")
    assert refused.status_code == 400
    data = refused.json()
    assert data["code"] == "credits_short"
    assert data["can_override"] is False
    assert data["shortages"] == [
        {"scope": data["shortages"][0]["scope"], "requested": 1_300_000, "available": 1_000_000}
    ]
    assert not Commitment.objects.exists()
    refused = as_user(directeur).post(act(pr, "approve"), {}, format="json")
    assert refused.json()["can_override"] is True
    response = as_user(directeur).post(
        act(pr, "approve"), {"override_reason": "Sécurité du réseau"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["decision_reason"] == "Sécurité du réseau"
    commitment = Commitment.objects.get(purchase_request=pr)
    assert entries_of(commitment) == [("override", 1_300_000, "Sécurité du réseau")]
    assert figures(line) == (1_300_000, -300_000)


def test_over_the_threshold_the_section_head_gets_403_with_the_reason(
    as_user, acheteur, chef, supplier, settings
):
    settings.PROCUREMENT_APPROVAL_THRESHOLD = 100_000
    line = funded_line(1_000_000)
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=100_001)],
        supplier=supplier,
        submit=True,
    )
    response = as_user(chef).post(act(pr, "approve"), {}, format="json")
    assert response.status_code == 403
    assert pr.number in response.json()["detail"]
    assert figures(line) == (0, 1_000_000)


def test_reject_reopen_and_cancel(as_user, acheteur, chef, line, supplier):
    pr = purchase_request(user=acheteur, lines=[request_line(line)], supplier=supplier, submit=True)
    approver = as_user(chef)
    assert approver.post(act(pr, "reject"), {}, format="json").status_code == 400
    response = approver.post(act(pr, "reject"), {"reason": "Trois devis"}, format="json")
    assert response.json()["state"] == "rejected"
    assert response.json()["decision_reason"] == "Trois devis"
    buyer = as_user(acheteur)
    assert buyer.post(act(pr, "reopen")).json()["state"] == "draft"
    assert buyer.post(act(pr, "cancel"), {"reason": ""}, format="json").status_code == 400
    response = buyer.post(act(pr, "cancel"), {"reason": "Doublon"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["cancel_reason"] == "Doublon"


def test_cancelling_an_approved_request_through_the_api_releases_its_credits(
    as_user, acheteur, chef, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=300_000)],
        supplier=supplier,
        submit=True,
    )
    commitment = services.purchase_request_approve(user=chef, request=pr)
    assert (
        as_user(acheteur).post(act(pr, "cancel"), {"reason": "x"}, format="json").status_code == 403
    )
    response = as_user(chef).post(act(pr, "cancel"), {"reason": "Reporté"}, format="json")
    assert response.status_code == 200
    assert response.json()["commitment"]["state"] == "cancelled"
    assert figures(line) == (0, 1_000_000)
    assert entries_of(commitment) == [("commit", 300_000, ""), ("release", -300_000, "Reporté")]


def test_the_section_head_transmits_a_short_request_through_the_api(
    as_user, acheteur, chef, directeur, line, supplier
):
    pr = purchase_request(
        user=acheteur,
        lines=[request_line(line, unit_price=1_200_000)],
        supplier=supplier,
        submit=True,
    )
    assert as_user(directeur).post(act(pr, "transmit"), {}, format="json").status_code == 403
    assert as_user(acheteur).post(act(pr, "transmit"), {}, format="json").status_code == 403
    response = as_user(chef).post(act(pr, "transmit"), {"reason": "Urgent"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["transmitted_by"], body["transmit_note"]) == ("chef", "Urgent")
    assert body["state"] == "submitted" and body["transmitted_at"]
    again = as_user(chef).post(act(pr, "transmit"), {}, format="json")
    assert again.status_code == 400 and "déjà transmise" in again.json()["detail"]
