"""The suppliers API, /api/v1/suppliers/: everyone reads, the buyers create (once per
Idempotency-Key), update, deactivate and reactivate; nothing is ever deleted."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from dsi_finance.models import IdempotencyKey
from dsi_finance.roles import Role
from procurement.models import Supplier
from procurement.services import suppliers as services

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:supplier-list")
VALID_RIB = "17499 00010 12345678901 02"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


def detail_url(supplier, action: str = "") -> str:
    if action:
        return reverse(f"api:supplier-{action}", args=[supplier.pk])
    return reverse("api:supplier-detail", args=[supplier.pk])


def body(**fields) -> dict:
    return {
        "name": "Nouméa Informatique SARL",
        "ridet": "1234567001",
        "email": "contact@ni.nc",
        "payment_terms_days": 45,
        "bank_account": VALID_RIB,
    } | fields


def snapshot() -> list[dict]:
    return list(Supplier.objects.order_by("pk").values())


@pytest.fixture
def suppliers(acheteur):
    active = services.supplier_create(user=acheteur, name="Calédonie Réseaux", ridet="7654321.001")
    other = services.supplier_create(user=acheteur, name="Bureau Vallée", ridet="1111111.001")
    inactive = services.supplier_create(
        user=acheteur, name="Ancien Prestataire", ridet="2222222.001"
    )
    services.supplier_deactivate(user=acheteur, supplier=inactive)
    return {"active": active, "other": other, "inactive": inactive}


# --- Reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_lists_and_reads_suppliers(as_user, cast, suppliers, role):
    client = as_user(cast[role])
    response = client.get(LIST_URL)
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == ["Ancien Prestataire", "Bureau Vallée", "Calédonie Réseaux"]
    one = client.get(detail_url(suppliers["active"])).json()
    assert (one["ridet"], one["is_active"], one["payment_terms_days"]) == ("7654321.001", True, 30)


def test_the_list_filters_by_state_and_searches(as_user, chef, suppliers):
    client = as_user(chef)

    def names(**params):
        return [row["name"] for row in client.get(LIST_URL, params).json()["results"]]

    assert names(active="true") == ["Bureau Vallée", "Calédonie Réseaux"]
    assert names(active="false") == ["Ancien Prestataire"]
    assert names(search="réseaux") == ["Calédonie Réseaux"]
    assert names(search="1111111") == ["Bureau Vallée"]
    assert names(search="1 111 111.001", active="true") == ["Bureau Vallée"]


def test_an_anonymous_caller_gets_401(api, suppliers):
    assert api.get(LIST_URL).status_code == 401
    assert api.post(LIST_URL, body(), format="json").status_code == 401
    assert Supplier.objects.count() == 3


def test_an_account_without_role_gets_403(as_user, sans_role):
    assert as_user(sans_role).get(LIST_URL).status_code == 403


# --- Creation ------------------------------------------------------------------------------


def test_the_buyer_creates_a_supplier_normalised_by_the_service(as_user, acheteur):
    response = as_user(acheteur).post(LIST_URL, body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["ridet"], data["payment_terms_days"], data["bank_account"]) == (
        "1234567.001",
        45,
        "17499000101234567890102",
    )
    assert data["is_active"] is True
    supplier = Supplier.objects.get()
    assert data["id"] == supplier.pk
    assert supplier.history.get().history_user == acheteur


def test_the_same_idempotency_key_twice_creates_one_supplier_and_returns_it_again(
    as_user, acheteur
):
    client = as_user(acheteur)
    first = client.post(LIST_URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="cle-fournisseur-1")
    again = client.post(LIST_URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="cle-fournisseur-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Supplier.objects.count() == 1
    key = IdempotencyKey.objects.get()
    assert (key.scope, key.object_id) == ("supplier", first.json()["id"])


def test_a_new_key_with_the_same_ridet_is_refused_in_french_terms(as_user, acheteur):
    client = as_user(acheteur)
    client.post(LIST_URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="cle-1")
    response = client.post(
        LIST_URL, body(name="Doublon"), format="json", HTTP_IDEMPOTENCY_KEY="cle-2"
    )
    assert response.status_code == 400
    assert "Nouméa Informatique SARL" in response.json()["detail"]
    assert Supplier.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_an_overlong_idempotency_key_is_refused_and_creates_nothing(as_user, acheteur):
    response = as_user(acheteur).post(
        LIST_URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )
    assert response.status_code == 400
    assert "200" in response.json()["detail"]
    assert Supplier.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"ridet": "1234567"}, "1234567"),
        ({"ridet": "99"}, "99"),
        ({"bank_account": "17499 00010 12345678901 42"}, "02"),
        ({"payment_terms_days": -1}, "365"),
        ({"payment_terms_days": 1000}, "365"),
        ({"email": "pas-une-adresse"}, "pas-une-adresse"),
    ],
)
def test_bad_input_is_answered_400_with_the_message_and_changes_nothing(
    as_user, acheteur, suppliers, fields, words
):
    before = snapshot()
    response = as_user(acheteur).post(
        LIST_URL, body(**fields), format="json", HTTP_IDEMPOTENCY_KEY="cle"
    )
    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert snapshot() == before
    assert IdempotencyKey.objects.count() == 0


def test_a_body_of_the_wrong_type_is_answered_400(as_user, acheteur):
    response = as_user(acheteur).post(LIST_URL, body(payment_terms_days="trente"), format="json")
    assert response.status_code == 400
    assert "payment_terms_days" in response.json()
    assert Supplier.objects.count() == 0


@pytest.mark.parametrize("role", [Role.PILOTAGE, Role.COMPTABILITE, Role.DIRECTION, Role.CONTROLE])
def test_only_the_buyers_create(as_user, cast, role):
    response = as_user(cast[role]).post(LIST_URL, body(), format="json")
    assert response.status_code == 403
    assert Supplier.objects.count() == 0


# --- Update, deactivation, no deletion --------------------------------------------------------


def test_the_buyer_patches_some_fields(as_user, acheteur, suppliers):
    supplier = suppliers["active"]
    response = as_user(acheteur).patch(
        detail_url(supplier), {"payment_terms_days": 60, "phone": "+687 28 00 00"}, format="json"
    )
    assert response.status_code == 200, response.content
    supplier.refresh_from_db()
    assert (supplier.payment_terms_days, supplier.phone, supplier.name) == (
        60,
        "+687 28 00 00",
        "Calédonie Réseaux",
    )


def test_the_buyer_puts_the_whole_supplier(as_user, acheteur, suppliers):
    supplier = suppliers["active"]
    response = as_user(acheteur).put(
        detail_url(supplier),
        {"name": "Calédonie Réseaux SAS", "ridet": "7654321.001"},
        format="json",
    )
    assert response.status_code == 200
    supplier.refresh_from_db()
    assert (supplier.name, supplier.payment_terms_days, supplier.email) == (
        "Calédonie Réseaux SAS",
        30,
        "",
    )


def test_an_update_to_a_taken_ridet_is_refused_and_changes_nothing(as_user, acheteur, suppliers):
    before = snapshot()
    response = as_user(acheteur).patch(
        detail_url(suppliers["active"]), {"ridet": "1111111.001", "name": "X"}, format="json"
    )
    assert response.status_code == 400
    assert "Bureau Vallée" in response.json()["detail"]
    assert snapshot() == before


def test_a_reader_cannot_update(as_user, controleur, suppliers):
    before = snapshot()
    response = as_user(controleur).patch(
        detail_url(suppliers["active"]), {"name": "X"}, format="json"
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_the_buyer_deactivates_and_reactivates(as_user, acheteur, suppliers):
    client = as_user(acheteur)
    supplier = suppliers["active"]
    response = client.post(detail_url(supplier, "deactivate"))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    supplier.refresh_from_db()
    assert supplier.is_active is False
    again = client.post(detail_url(supplier, "deactivate"))
    assert again.status_code == 400
    assert "Calédonie Réseaux" in again.json()["detail"]
    assert client.post(detail_url(supplier, "reactivate")).json()["is_active"] is True


def test_deactivation_refuses_get_other_roles_and_anonymous(api, as_user, chef, suppliers):
    supplier = suppliers["active"]
    assert api.post(detail_url(supplier, "deactivate")).status_code == 401
    client = as_user(chef)
    assert client.get(detail_url(supplier, "deactivate")).status_code == 405
    assert client.post(detail_url(supplier, "deactivate")).status_code == 403
    supplier.refresh_from_db()
    assert supplier.is_active is True


def test_a_supplier_is_never_deleted(as_user, acheteur, suppliers):
    response = as_user(acheteur).delete(detail_url(suppliers["active"]))
    assert response.status_code == 405
    assert Supplier.objects.count() == 3


def test_the_schema_documents_the_idempotency_key_header(as_user, chef):
    response = as_user(chef).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/suppliers/"]["post"]
    assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_posts_with_one_key_create_one_supplier(postgres_only):
    import threading

    from django.db import connection

    from tests.factories import UserFactory

    buyer = UserFactory(username="acheteur", roles=[Role.ACHAT])
    barrier = threading.Barrier(8)
    answers: list[tuple[int, int]] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            client = APIClient()
            client.force_authenticate(buyer)
            barrier.wait(timeout=30)
            response = client.post(LIST_URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="course")
            with lock:
                answers.append((response.status_code, response.json().get("id")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _id in answers) == [200] * 7 + [201]
    assert len({pk for _status, pk in answers}) == 1
    assert Supplier.objects.count() == 1
