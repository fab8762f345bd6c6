"""The commitments API (/api/v1/commitments/): list and read with nested lines, open a
recurring contract's commitment with an Idempotency-Key, close one; the screens'
permissions."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from budgets.models import BudgetLine, LedgerEntry
from procurement.models import Commitment
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST = reverse("api:commitment-list")


@pytest.fixture
def as_user():
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


@pytest.fixture
def lines(db):
    ensure_tax_rates()
    return (
        funded_line(3_000_000, code="F-6156-INFRA"),
        funded_line(1_000_000, code="F-6262-TELECOM"),
    )


@pytest.fixture
def supplier(db):
    return SupplierFactory(name="OPT Nouvelle-Calédonie")


def body(supplier, lines, amounts=(1_200_000, 480_000), **extra):
    return {
        "supplier": supplier.pk,
        "subject": "Liaisons et maintenance 2026",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "lines": [
            {"budget_line": lines[0].pk, "description": "Maintenance", "amount": amounts[0]},
            {"budget_line": lines[1].pk, "description": "Liaison fibre", "amount": amounts[1]},
        ],
        **extra,
    }


def available(line) -> int:
    return BudgetLine.objects.get(pk=line.pk).available


def entries_of(commitment_id) -> list[tuple[str, str, int]]:
    return list(
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(Commitment), document_id=commitment_id
        )
        .order_by("pk")
        .values_list("budget_line__code", "kind", "amount")
    )


def test_the_section_head_opens_a_recurring_contract_that_takes_exactly_its_amount(
    chef, lines, supplier, as_user
):
    response = as_user(chef).post(LIST, body(supplier, lines), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"] == "EJ-2026-00001"
    assert (data["kind"], data["state"], data["amount"], data["remainder"]) == (
        "recurring",
        "open",
        1_680_000,
        1_680_000,
    )
    assert [(line["budget_line_code"], line["amount"]) for line in data["lines"]] == [
        ("F-6156-INFRA", 1_200_000),
        ("F-6262-TELECOM", 480_000),
    ]
    assert (available(lines[0]), available(lines[1])) == (1_800_000, 520_000)
    assert entries_of(data["id"]) == [
        ("F-6156-INFRA", "commit", 1_200_000),
        ("F-6262-TELECOM", "commit", 480_000),
    ]


def test_the_same_idempotency_key_twice_opens_one_commitment(chef, lines, supplier, as_user):
    client = as_user(chef)
    headers = {"Idempotency-Key": "contrat-opt-2026"}
    first = client.post(LIST, body(supplier, lines), format="json", headers=headers)
    second = client.post(LIST, body(supplier, lines), format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Commitment.objects.count() == 1
    assert available(lines[0]) == 1_800_000


def test_a_shortage_is_refused_with_a_message_and_takes_nothing(chef, lines, supplier, as_user):
    response = as_user(chef).post(
        LIST, body(supplier, lines, amounts=(100, 1_000_001)), format="json"
    )
    assert response.status_code == 400
    assert "F-6262-TELECOM" in response.json()["detail"]
    assert not Commitment.objects.exists()
    assert (available(lines[0]), available(lines[1])) == (3_000_000, 1_000_000)


@pytest.mark.parametrize(
    "change",
    [
        {"lines": []},
        {"period_end": "2025-12-31"},
        {"supplier": 999_999},
        {"subject": ""},
    ],
)
def test_bad_input_is_refused_and_nothing_is_taken(change, chef, lines, supplier, as_user):
    response = as_user(chef).post(LIST, {**body(supplier, lines), **change}, format="json")
    assert response.status_code == 400
    assert not Commitment.objects.exists()
    assert available(lines[0]) == 3_000_000


@pytest.mark.parametrize("amount", [-5, 0, 12.5, "mille"])
def test_a_bad_amount_is_refused(amount, chef, lines, supplier, as_user):
    response = as_user(chef).post(
        LIST, body(supplier, lines, amounts=(amount, 1_000)), format="json"
    )
    assert response.status_code == 400
    assert not Commitment.objects.exists()


@pytest.mark.parametrize("username", ["acheteur", "comptable", "directeur", "controleur"])
def test_only_the_section_head_opens_and_closes(username, cast, chef, lines, supplier, as_user):
    user = next(u for u in cast.values() if u.username == username)
    client = as_user(user)
    assert client.post(LIST, body(supplier, lines), format="json").status_code == 403
    created = as_user(chef).post(LIST, body(supplier, lines), format="json").json()
    close = reverse("api:commitment-close", args=[created["id"]])
    assert client.post(close, {"reason": "x"}, format="json").status_code == 403
    assert Commitment.objects.get().state == Commitment.State.OPEN


def test_every_role_reads_the_commitments_and_filters_them(cast, chef, lines, supplier, as_user):
    recurring = as_user(chef).post(LIST, body(supplier, lines), format="json").json()
    goods = request_commitment(chef, [ordered_goods(lines[0], "2", 10_000)])
    for user in cast.values():
        client = as_user(user)
        listed = client.get(LIST)
        assert listed.status_code == 200
        assert {c["number"] for c in listed.json()["results"]} == {
            recurring["number"],
            goods.number,
        }
    client = as_user(chef)
    assert [c["number"] for c in client.get(LIST, {"kind": "request"}).json()["results"]] == [
        goods.number
    ]
    assert [
        c["number"] for c in client.get(LIST, {"budget_line": lines[1].pk}).json()["results"]
    ] == [recurring["number"]]
    line = client.get(reverse("api:commitment-detail", args=[goods.pk])).json()["lines"][0]
    assert (line["quantity"], line["unit_price"], line["tax_rate"], line["amount"]) == (
        "2.000",
        10_000,
        "22.00",
        20_000,
    )


def test_closing_releases_the_remainder(chef, lines, supplier, as_user):
    client = as_user(chef)
    created = client.post(LIST, body(supplier, lines), format="json").json()
    close = reverse("api:commitment-close", args=[created["id"]])
    assert client.get(close).status_code == 405
    assert client.post(close, {}, format="json").status_code == 400
    response = client.post(close, {"reason": "Résiliation"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["state"], data["released"], data["remainder"], data["close_reason"]) == (
        "closed",
        1_680_000,
        0,
        "Résiliation",
    )
    assert entries_of(created["id"])[-2:] == [
        ("F-6156-INFRA", "release", -1_200_000),
        ("F-6262-TELECOM", "release", -480_000),
    ]
    assert (available(lines[0]), available(lines[1])) == (3_000_000, 1_000_000)
    again = client.post(close, {"reason": "Encore"}, format="json")
    assert again.status_code == 400 and created["number"] in again.json()["detail"]


def test_anonymous_and_roleless_callers_are_refused(sans_role, as_user):
    assert APIClient().get(LIST).status_code == 401
    assert as_user(sans_role).get(LIST).status_code == 403


def test_there_is_no_delete(chef, lines, supplier, as_user):
    client = as_user(chef)
    created = client.post(LIST, body(supplier, lines), format="json").json()
    assert client.delete(reverse("api:commitment-detail", args=[created["id"]])).status_code == 405
    assert Commitment.objects.exists()
