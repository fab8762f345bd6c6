"""The purchase orders API (/api/v1/purchase-orders/): list and read, create with an
Idempotency-Key, mark as sent, cancel, and the PDF; the screens' permissions."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from procurement.models import DocumentSequence, PurchaseOrder, PurchaseRequest
from procurement.services import orders
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST = reverse("api:purchase-order-list")


def detail(order, action: str | None = None) -> str:
    if action is None:
        return reverse("api:purchase-order-detail", args=[order.pk])
    return reverse(f"api:purchase-order-{action}", args=[order.pk])


@pytest.fixture
def as_user():
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


@pytest.fixture
def line(db):
    ensure_tax_rates()
    return funded_line(20_000_000, code="I-2183-INFRA")


@pytest.fixture
def commitment(chef, line):
    """2 firewalls at 450 000 (22 %) and 3 days at 80 000 (11 %): 1 140 000 HT,
    198 000 + 26 400 = 224 400 of TGC, 1 364 400 TTC."""
    return request_commitment(
        chef,
        [
            ordered_goods(line, "2", 450_000, "22", "Pare-feu"),
            ordered_goods(line, "3", 80_000, "11", "Jours de configuration"),
        ],
        supplier=SupplierFactory(name="Sécurité Pacifique"),
    )


@pytest.fixture
def order(acheteur, commitment):
    return orders.purchase_order_create(user=acheteur, commitment=commitment)


def test_the_buyer_creates_an_order_and_reads_its_lines_and_tgc_by_rate(
    acheteur, commitment, as_user
):
    delivery = timezone.localdate() + timedelta(days=10)
    response = as_user(acheteur).post(
        LIST,
        {
            "commitment": commitment.pk,
            "delivery_address": "Salle B",
            "delivery_date": delivery.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "BC-2026-00001"
    assert (body["amount_ht"], body["amount_tax"], body["amount_ttc"]) == (
        1_140_000,
        224_400,
        1_364_400,
    )
    assert body["tax_by_rate"] == [
        {"rate": "22.00", "base": 900_000, "tax": 198_000},
        {"rate": "11.00", "base": 240_000, "tax": 26_400},
    ]
    assert [(line["description"], line["amount_ht"]) for line in body["lines"]] == [
        ("Pare-feu", 900_000),
        ("Jours de configuration", 240_000),
    ]
    assert body["state"] == "issued"
    assert body["delivery_date"] == delivery.isoformat()
    assert body["pdf"].endswith(f"/api/v1/purchase-orders/{body['id']}/pdf/")
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.ORDERED


def test_the_same_idempotency_key_twice_creates_one_order(acheteur, commitment, as_user):
    client = as_user(acheteur)
    headers = {"Idempotency-Key": "commande-pare-feu"}
    first = client.post(LIST, {"commitment": commitment.pk}, format="json", headers=headers)
    second = client.post(LIST, {"commitment": commitment.pk}, format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert PurchaseOrder.objects.count() == 1
    assert DocumentSequence.objects.get(kind="BC", year=2026).last == 1


def test_a_second_order_without_a_key_is_refused_with_a_message(acheteur, order, as_user):
    response = as_user(acheteur).post(LIST, {"commitment": order.commitment_id}, format="json")
    assert response.status_code == 400
    assert order.number in response.json()["detail"]
    assert PurchaseOrder.objects.count() == 1


def test_bad_input_is_refused_and_nothing_is_created(acheteur, commitment, as_user):
    client = as_user(acheteur)
    assert client.post(LIST, {}, format="json").status_code == 400
    assert client.post(LIST, {"commitment": 999_999}, format="json").status_code == 400
    past = (timezone.localdate() - timedelta(days=3)).isoformat()
    response = client.post(
        LIST, {"commitment": commitment.pk, "delivery_date": past}, format="json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("username", ["chef", "comptable", "directeur", "controleur"])
def test_only_the_buyer_creates_sends_or_cancels(username, cast, commitment, as_user):
    user = next(u for u in cast.values() if u.username == username)
    client = as_user(user)
    assert client.post(LIST, {"commitment": commitment.pk}, format="json").status_code == 403
    assert not PurchaseOrder.objects.exists()
    order = orders.purchase_order_create(
        user=next(u for u in cast.values() if u.username == "acheteur"), commitment=commitment
    )
    assert client.post(detail(order, "mark-sent")).status_code == 403
    assert client.post(detail(order, "cancel"), {"reason": "x"}).status_code == 403
    assert PurchaseOrder.objects.get().state == PurchaseOrder.State.ISSUED


@pytest.mark.parametrize("username", ["acheteur", "comptable", "chef", "directeur", "controleur"])
def test_every_role_reads_the_orders(username, cast, order, as_user):
    user = next(u for u in cast.values() if u.username == username)
    client = as_user(user)
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert [o["number"] for o in listed.json()["results"]] == ["BC-2026-00001"]
    assert client.get(detail(order)).json()["amount_ttc"] == 1_364_400


def test_an_anonymous_caller_gets_401(order):
    client = APIClient()
    assert client.get(LIST).status_code == 401
    assert client.get(detail(order, "pdf")).status_code == 401
    assert client.post(LIST, {}, format="json").status_code == 401


def test_a_user_without_a_role_gets_403(sans_role, order, as_user):
    client = as_user(sans_role)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(order, "pdf")).status_code == 403


def test_the_list_filters_by_state_and_supplier(acheteur, chef, line, order, as_user):
    other = orders.purchase_order_create(
        user=acheteur, commitment=request_commitment(chef, [ordered_goods(line)])
    )
    orders.purchase_order_mark_sent(user=acheteur, order=other)
    client = as_user(chef)

    def numbers(**params):
        return sorted(o["number"] for o in client.get(LIST, params).json()["results"])

    assert numbers(state="sent") == ["BC-2026-00002"]
    assert numbers(supplier=order.supplier_id) == ["BC-2026-00001"]
    assert numbers(year=2027) == []


def test_mark_sent_then_cancel_refused_once_sent_is_not_received(acheteur, order, as_user):
    client = as_user(acheteur)
    assert client.get(detail(order, "mark-sent")).status_code == 405
    sent = client.post(detail(order, "mark-sent"))
    assert sent.status_code == 200
    assert sent.json()["state"] == "sent" and sent.json()["sent_by"] == "acheteur"
    again = client.post(detail(order, "mark-sent"))
    assert again.status_code == 400 and order.number in again.json()["detail"]
    assert client.post(detail(order, "cancel"), {}, format="json").status_code == 400
    cancelled = client.post(detail(order, "cancel"), {"reason": "Doublon"}, format="json")
    assert cancelled.status_code == 200
    assert (cancelled.json()["state"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "Doublon",
    )


def test_there_is_no_delete(acheteur, order, as_user):
    assert as_user(acheteur).delete(detail(order)).status_code == 405
    assert PurchaseOrder.objects.exists()


@pytest.mark.parametrize("accept", [None, "application/pdf"])
def test_the_pdf_endpoint_returns_the_order_form(accept, comptable, order, as_user, settings):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"  # not the placeholder
    headers = {"Accept": accept} if accept else {}
    response = as_user(comptable).get(detail(order, "pdf"), headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="BC-2026-00001.pdf"'
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "BC-2026-00001" in text and "Sécurité Pacifique" in text


def test_the_list_reads_in_a_fixed_number_of_queries(acheteur, chef, line, order, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(chef)
    client.get(LIST)  # the user's permissions are cached from then on
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for _ in range(4):
        orders.purchase_order_create(
            user=acheteur,
            commitment=request_commitment(
                chef, [ordered_goods(line, "1", 1_000, "22"), ordered_goods(line, "2", 500, "6")]
            ),
        )
    with CaptureQueriesContext(connection) as five:
        body = client.get(LIST).json()
    assert body["count"] == 5
    assert len(five.captured_queries) == len(one.captured_queries)
