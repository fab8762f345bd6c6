"""The receipts API (/api/v1/receipts/): list and read with their lines, record one with
an Idempotency-Key, cancel one; the screens' permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from procurement.models import CommitmentLine, PurchaseRequest, Receipt
from procurement.services import orders
from tests.procurement.factories import (
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST = reverse("api:receipt-list")


@pytest.fixture
def as_user():
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


@pytest.fixture
def commitment(chef, acheteur):
    ensure_tax_rates()
    line = funded_line(20_000_000, code="I-2183-INFRA")
    commitment = request_commitment(
        chef,
        [
            ordered_goods(line, "10", 120_000, "22", "Écran 27 pouces"),
            ordered_goods(line, "2.5", 90_000, "11", "Jours d’installation"),
        ],
    )
    orders.purchase_order_create(user=acheteur, commitment=commitment)
    return commitment


def line_ids(commitment) -> list[int]:
    return list(
        CommitmentLine.objects.filter(commitment=commitment)
        .order_by("position")
        .values_list("pk", flat=True)
    )


def body(commitment, quantities, **extra):
    return {
        "commitment": commitment.pk,
        "received_on": timezone.localdate().isoformat(),
        "lines": [
            {"commitment_line": pk, "quantity": quantity}
            for pk, quantity in zip(line_ids(commitment), quantities, strict=False)
            if quantity is not None
        ],
        **extra,
    }


def received(commitment) -> list[Decimal]:
    return [
        line.received_quantity
        for line in CommitmentLine.objects.filter(commitment=commitment).order_by("position")
    ]


def test_the_buyer_records_partial_then_full_receipts(acheteur, commitment, as_user):
    client = as_user(acheteur)
    first = client.post(LIST, body(commitment, ["4", None], note="Carton 1"), format="json")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["number"] == "SF-2026-00001"
    assert data["order_number"] == "BC-2026-00001"
    assert [(line["position"], line["quantity"]) for line in data["lines"]] == [(1, "4.000")]
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.PARTLY_RECEIVED
    second = client.post(LIST, body(commitment, [6, 2.5]), format="json")
    assert second.status_code == 201, second.content
    assert received(commitment) == [Decimal(10), Decimal("2.5")]
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.RECEIVED


def test_the_same_idempotency_key_twice_records_one_receipt(acheteur, commitment, as_user):
    client = as_user(acheteur)
    headers = {"Idempotency-Key": "sf-ecrans-1"}
    first = client.post(LIST, body(commitment, ["4"]), format="json", headers=headers)
    second = client.post(LIST, body(commitment, ["4"]), format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Receipt.objects.count() == 1
    assert received(commitment)[0] == Decimal(4)


def test_receiving_more_than_ordered_is_refused_naming_the_line(acheteur, commitment, as_user):
    response = as_user(acheteur).post(LIST, body(commitment, ["11", "1"]), format="json")
    assert response.status_code == 400
    assert "Écran 27 pouces" in response.json()["detail"]
    assert not Receipt.objects.exists()
    assert received(commitment) == [Decimal(0), Decimal(0)]


@pytest.mark.parametrize(
    "change",
    [
        {"lines": []},
        {"received_on": "demain"},
        {"received_on": (timezone.localdate() + timedelta(days=2)).isoformat()},
        {"lines": [{"commitment_line": 999_999, "quantity": "1"}]},
        {"lines": [{"quantity": "1"}]},
    ],
)
def test_bad_input_is_refused_and_nothing_is_recorded(change, acheteur, commitment, as_user):
    response = as_user(acheteur).post(LIST, {**body(commitment, ["1"]), **change}, format="json")
    assert response.status_code == 400
    assert not Receipt.objects.exists()


def test_a_line_sent_twice_is_refused(acheteur, commitment, as_user):
    pk = line_ids(commitment)[0]
    data = body(commitment, ["1"])
    data["lines"] = [{"commitment_line": pk, "quantity": "1"}] * 2
    response = as_user(acheteur).post(LIST, data, format="json")
    assert response.status_code == 400
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("quantity", ["-1", "abc", 0.0001])
def test_a_bad_quantity_is_refused(quantity, acheteur, commitment, as_user):
    response = as_user(acheteur).post(LIST, body(commitment, [quantity]), format="json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Receipt.objects.exists()


@pytest.mark.parametrize("username", ["chef", "comptable", "directeur", "controleur"])
def test_only_the_buyer_records_and_cancels(username, cast, acheteur, commitment, as_user):
    user = next(u for u in cast.values() if u.username == username)
    client = as_user(user)
    assert client.post(LIST, body(commitment, ["1"]), format="json").status_code == 403
    receipt = as_user(acheteur).post(LIST, body(commitment, ["1"]), format="json").json()
    cancel = reverse("api:receipt-cancel", args=[receipt["id"]])
    assert client.post(cancel, {"reason": "x"}, format="json").status_code == 403
    assert not Receipt.objects.get().is_cancelled
    assert client.get(LIST).status_code == 200  # every role reads


def test_cancelling_takes_the_quantities_back(acheteur, commitment, as_user):
    client = as_user(acheteur)
    receipt = client.post(LIST, body(commitment, ["4", "1"]), format="json").json()
    cancel = reverse("api:receipt-cancel", args=[receipt["id"]])
    assert client.get(cancel).status_code == 405
    assert client.post(cancel, {}, format="json").status_code == 400
    response = client.post(cancel, {"reason": "Saisie en double"}, format="json")
    assert response.status_code == 200
    assert response.json()["cancelled"] is True
    assert response.json()["cancelled_by"] == "acheteur"
    assert received(commitment) == [Decimal(0), Decimal(0)]
    assert client.get(LIST, {"cancelled": "true"}).json()["count"] == 1
    assert client.get(LIST, {"cancelled": "false"}).json()["count"] == 0


def test_anonymous_and_roleless_callers_and_delete_are_refused(
    sans_role, acheteur, commitment, as_user
):
    receipt = as_user(acheteur).post(LIST, body(commitment, ["1"]), format="json").json()
    assert APIClient().get(LIST).status_code == 401
    assert as_user(sans_role).get(LIST).status_code == 403
    detail = reverse("api:receipt-detail", args=[receipt["id"]])
    assert as_user(acheteur).delete(detail).status_code == 405
    assert Receipt.objects.exists()


def test_the_list_reads_in_a_fixed_number_of_queries(acheteur, commitment, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(acheteur)
    client.post(LIST, body(commitment, ["1", "0.5"]), format="json")
    client.get(LIST)  # the user's permissions are cached from then on
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for _ in range(3):
        client.post(LIST, body(commitment, ["1", "0.5"]), format="json")
    with CaptureQueriesContext(connection) as four:
        assert client.get(LIST).json()["count"] == 4
    assert len(four.captured_queries) == len(one.captured_queries)
