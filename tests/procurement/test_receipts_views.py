"""Receipt pages: the list, a receipt's page, the receipt form (one quantity per ordered
line beside what was ordered, already received and left; recorded once however often
it is sent) and the cancellation."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dsi_finance.idempotency import FORM_TOKEN_FIELD
from procurement.models import CommitmentLine, PurchaseRequest, Receipt
from procurement.services import orders, receipts
from tests.assertions import assert_sends_to_login
from tests.procurement.factories import (
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("procurement:receipt-list")
CREATE_URL = reverse("procurement:receipt-create")


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def commitment(chef):
    ensure_tax_rates()
    line = funded_line(20_000_000, code="I-2183-INFRA")
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


def lines(commitment) -> tuple[CommitmentLine, CommitmentLine]:
    first, second = CommitmentLine.objects.filter(commitment=commitment).order_by("position")
    return first, second


def create_url(commitment) -> str:
    return f"{CREATE_URL}?commitment={commitment.pk}"


def post_receipt(client, commitment, quantities, **extra):
    screens, days = lines(commitment)
    data = {
        "received_on": extra.pop("received_on", timezone.localdate().strftime("%d/%m/%Y")),
        "note": extra.pop("note", ""),
        f"quantity_{screens.pk}": quantities[0],
        f"quantity_{days.pk}": quantities[1],
        **extra,
    }
    return client.post(create_url(commitment), data)


def received(commitment) -> list[Decimal]:
    return [line.received_quantity for line in lines(commitment)]


def test_the_receipt_form_shows_ordered_received_and_left_for_each_line(
    acheteur, commitment, order, client_as
):
    receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(),
        quantities={lines(commitment)[0]: "4"},
    )
    response = client_as(acheteur).get(create_url(commitment))
    assert response.status_code == 200
    text = page_text(response)
    screens, days = lines(commitment)
    assert f'data-line="{screens.pk}"' in text and f'data-line="{days.pk}"' in text
    assert 'data-figure="ordered">10<' in text
    assert 'data-figure="received">4<' in text
    assert 'data-figure="left">6<' in text
    assert 'data-figure="left">2,5<' in text
    assert 'data-left="6"' in text and 'data-left="2.5"' in text  # "receive everything"
    assert 'data-testid="receive-all"' in text
    assert order.number in text


def test_partial_then_full_receipts_through_the_form_move_the_request_state(
    acheteur, commitment, order, client_as
):
    client = client_as(acheteur)
    response = post_receipt(client, commitment, ("4", ""), note="Premier carton")
    first = Receipt.objects.get()
    assert response.status_code == 302
    assert response["Location"] == first.get_absolute_url()
    assert received(commitment) == [Decimal("4"), Decimal("0")]
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.PARTLY_RECEIVED
    post_receipt(client, commitment, ("6", "2,5"))
    assert received(commitment) == [Decimal("10"), Decimal("2.5")]
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.RECEIVED


def test_receiving_more_than_ordered_is_refused_with_the_lines_name_and_nothing_changes(
    acheteur, commitment, order, client_as
):
    response = post_receipt(client_as(acheteur), commitment, ("11", "1"))
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1 and "Écran 27 pouces" in errors[0]
    assert "Écran 27 pouces" in page_text(response)
    assert not Receipt.objects.exists()
    assert received(commitment) == [Decimal(0), Decimal(0)]
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.ORDERED


@pytest.mark.parametrize("quantity", ["-2", "deux", "1,2345"])
def test_a_bad_quantity_is_refused_and_nothing_is_recorded(
    quantity, acheteur, commitment, order, client_as
):
    response = post_receipt(client_as(acheteur), commitment, (quantity, ""))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Receipt.objects.exists()


def test_a_receipt_dated_tomorrow_is_refused(acheteur, commitment, order, client_as):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = post_receipt(
        client_as(acheteur), commitment, ("1", ""), received_on=tomorrow.isoformat()
    )
    assert tomorrow.strftime("%d/%m/%Y") in page_text(response)
    assert not Receipt.objects.exists()


def test_the_receipt_form_sent_twice_records_one_receipt(acheteur, commitment, order, client_as):
    client = client_as(acheteur)
    post_receipt(client, commitment, ("3", ""), **{FORM_TOKEN_FIELD: "jeton-sf"})
    response = post_receipt(client, commitment, ("3", ""), **{FORM_TOKEN_FIELD: "jeton-sf"})
    receipt = Receipt.objects.get()
    assert response["Location"] == receipt.get_absolute_url()
    assert received(commitment) == [Decimal(3), Decimal(0)]


@pytest.mark.parametrize("username", ["chef", "comptable", "directeur", "controleur"])
def test_only_the_buyer_records_receipts(username, cast, commitment, order, client_as):
    user = next(u for u in cast.values() if u.username == username)
    client = client_as(user)
    assert client.get(create_url(commitment)).status_code == 403
    assert post_receipt(client, commitment, ("1", "")).status_code == 403
    assert not Receipt.objects.exists()


def test_an_anonymous_visitor_is_sent_to_login(client, acheteur, commitment, order):
    receipt = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(),
        quantities={lines(commitment)[0]: "1"},
    )
    for target in (
        LIST_URL,
        create_url(commitment),
        reverse("procurement:receipt-detail", args=[receipt.pk]),
    ):
        assert_sends_to_login(client.get(target))
    assert_sends_to_login(
        client.post(reverse("procurement:receipt-cancel", args=[receipt.pk]), {"reason": "x"})
    )
    assert not Receipt.objects.get().is_cancelled


@pytest.fixture
def receipt(acheteur, commitment, order):
    return receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(),
        quantities={lines(commitment)[0]: "4", lines(commitment)[1]: "1.5"},
        note="Livré par transporteur",
    )


@pytest.mark.parametrize("username", ["acheteur", "comptable", "chef", "directeur", "controleur"])
def test_the_reading_roles_list_and_read_receipts(username, cast, receipt, client_as):
    user = next(u for u in cast.values() if u.username == username)
    client = client_as(user)
    listed = client.get(LIST_URL)
    assert [r.pk for r in listed.context["table"].paginated_rows.data] == [receipt.pk]
    text = page_text(client.get(receipt.get_absolute_url()))
    assert 'data-testid="number">SF-2026-00001<' in text
    assert 'data-figure="quantity">4<' in text and 'data-figure="quantity">1,5<' in text
    assert "Livré par transporteur" in text
    assert ('data-testid="cancel"' in text) == (username == "acheteur")


def test_a_user_without_a_role_may_not_read_receipts(sans_role, receipt, client_as):
    client = client_as(sans_role)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(receipt.get_absolute_url()).status_code == 403


def test_the_list_filters_by_state_and_text(acheteur, commitment, receipt, client_as):
    second = receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(),
        quantities={lines(commitment)[0]: "1"},
    )
    receipts.receipt_cancel(user=acheteur, receipt=second, reason="Doublon")
    client = client_as(acheteur)

    def shown(**filters):
        response = client.get(LIST_URL, filters)
        return sorted(r.number for r in response.context["table"].paginated_rows.data)

    assert shown() == ["SF-2026-00001", "SF-2026-00002"]
    assert shown(state="live") == ["SF-2026-00001"]
    assert shown(state="cancelled") == ["SF-2026-00002"]
    assert shown(q="BC-2026-00001") == ["SF-2026-00001", "SF-2026-00002"]
    assert shown(q="00002") == ["SF-2026-00002"]


def test_the_buyer_cancels_a_receipt_with_a_reason(acheteur, commitment, receipt, client_as):
    client = client_as(acheteur)
    cancel = reverse("procurement:receipt-cancel", args=[receipt.pk])
    assert client.get(cancel).status_code == 405
    client.post(cancel, {"reason": ""})
    assert not Receipt.objects.get().is_cancelled
    response = client.post(cancel, {"reason": "Colis renvoyé"}, follow=True)
    receipt.refresh_from_db()
    assert receipt.is_cancelled and receipt.cancel_reason == "Colis renvoyé"
    assert received(commitment) == [Decimal(0), Decimal(0)]
    assert any(receipt.number in message for message in messages_of(response))
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.ORDERED


def test_readers_may_not_cancel_a_receipt(chef, receipt, client_as):
    cancel = reverse("procurement:receipt-cancel", args=[receipt.pk])
    assert client_as(chef).post(cancel, {"reason": "Essai"}).status_code == 403
    assert not Receipt.objects.get().is_cancelled
