"""Purchase order pages: the list, an order's page, the order form of an approved
request's commitment (recorded once however often it is sent), the PDF download and the
sent / cancel actions."""

import html
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from dsi_finance.idempotency import FORM_TOKEN_FIELD
from procurement.models import PurchaseOrder, PurchaseRequest
from procurement.services import orders, receipts
from tests.assertions import assert_sends_to_login
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("procurement:order-list")
CREATE_URL = reverse("procurement:order-create")
NBSP = "\u00a0"
NNBSP = "\u202f"


def figure(francs: int) -> str:
    """How a list cell writes an amount (its header names the currency): `1 234 567`."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP)


def xpf(francs: int) -> str:
    return f"{francs:,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def url(name: str, order) -> str:
    return reverse(f"procurement:{name}", args=[order.pk])


@pytest.fixture
def line(db):
    ensure_tax_rates()
    return funded_line(20_000_000, code="I-2183-INFRA")


@pytest.fixture
def commitment(chef, line):
    """4 switches at 300 000 (TGC 22 %) and 1 day of set-up at 90 000 (TGC 11 %):
    1 290 000 before tax, 273 900 of TGC, 1 563 900 with tax."""
    return request_commitment(
        chef,
        [
            ordered_goods(line, "4", 300_000, "22", "Commutateur 48 ports"),
            ordered_goods(line, "1", 90_000, "11", "Journée de mise en service"),
        ],
        supplier=SupplierFactory(name="Pacific Réseaux SARL"),
    )


@pytest.fixture
def order(acheteur, commitment, settings):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"  # not the placeholder
    return orders.purchase_order_create(user=acheteur, commitment=commitment)


def create_url(commitment) -> str:
    return f"{CREATE_URL}?commitment={commitment.pk}"


# --- The list -----------------------------------------------------------------------


@pytest.mark.parametrize("username", ["acheteur", "comptable", "chef", "directeur", "controleur"])
def test_every_role_lists_the_orders(username, cast, order, client_as):
    user = next(u for u in cast.values() if u.username == username)
    response = client_as(user).get(LIST_URL)
    assert response.status_code == 200
    assert [o.pk for o in response.context["table"].paginated_rows.data] == [order.pk]
    text = page_text(response)
    assert "BC-2026-00001" in text
    assert f">{figure(1_563_900)}<" in text


def test_a_user_without_a_role_may_not_open_the_order_pages(sans_role, order, client_as):
    client = client_as(sans_role)
    for target in (LIST_URL, url("order-detail", order), url("order-pdf", order)):
        assert client.get(target).status_code == 403


def test_an_anonymous_visitor_is_sent_to_login_from_every_order_page(client, order, commitment):
    for target in (
        LIST_URL,
        create_url(commitment),
        url("order-detail", order),
        url("order-pdf", order),
    ):
        assert_sends_to_login(client.get(target))
    for action in ("order-mark-sent", "order-cancel"):
        assert_sends_to_login(client.post(url(action, order)))
    assert PurchaseOrder.objects.get().state == PurchaseOrder.State.ISSUED


def test_the_list_filters_by_state_supplier_and_text(acheteur, chef, line, order, client_as):
    other = orders.purchase_order_create(
        user=acheteur,
        commitment=request_commitment(
            chef, [ordered_goods(line)], supplier=SupplierFactory(name="Bureau Plus")
        ),
    )
    orders.purchase_order_mark_sent(user=acheteur, order=other)
    client = client_as(chef)

    def shown(**filters):
        response = client.get(LIST_URL, filters)
        return sorted(o.number for o in response.context["table"].paginated_rows.data)

    assert shown() == ["BC-2026-00001", "BC-2026-00002"]
    assert shown(state="sent") == ["BC-2026-00002"]
    assert shown(supplier=order.supplier_id) == ["BC-2026-00001"]
    assert shown(q="réseaux") == ["BC-2026-00001"]
    assert shown(q="00002") == ["BC-2026-00002"]
    assert shown(year="2027") == []


def test_the_list_answers_htmx_with_its_table_only(chef, order, client_as):
    response = client_as(chef).get(
        LIST_URL, headers={"HX-Request": "true", "HX-Target": "table-region"}
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="table-region"')
    assert "<html" not in text


# --- The order's page ------------------------------------------------------------------


def test_the_order_page_shows_its_lines_totals_and_links(acheteur, order, client_as):
    response = client_as(acheteur).get(url("order-detail", order))
    assert response.status_code == 200
    text = page_text(response)
    assert 'data-testid="number">BC-2026-00001<' in text
    assert xpf(1_200_000) in text  # 4 × 300 000
    assert f'data-testid="total-ht">{xpf(1_290_000)}<' in text
    assert f'data-testid="total-ttc">{xpf(1_563_900)}<' in text
    assert xpf(264_000) in text and xpf(9_900) in text  # TGC 22 % and 11 %
    assert order.commitment.number in text
    assert order.commitment.purchase_request.number in text
    assert url("order-pdf", order) in text
    assert 'data-testid="mark-sent"' in text
    assert 'data-testid="history"' in text


def test_the_order_page_says_why_no_form_is_built_while_the_address_is_the_placeholder(
    acheteur, order, client_as, settings
):
    settings.DEBUG = False
    settings.OPERATOR_ADDRESS = settings.OPERATOR_ADDRESS_PLACEHOLDER
    text = page_text(client_as(acheteur).get(url("order-detail", order)))
    assert url("order-pdf", order) not in text  # no link to a download that would fail
    warning = text.split('data-testid="pdf-unavailable">')[1].split("</div>")[0]
    assert "Renseignez la variable d’environnement OPERATOR_ADDRESS" in warning


def test_readers_see_the_order_without_its_actions(chef, order, client_as):
    text = page_text(client_as(chef).get(url("order-detail", order)))
    assert url("order-pdf", order) in text
    assert 'data-testid="mark-sent"' not in text
    assert 'data-testid="cancel"' not in text


# --- Issuing the order ---------------------------------------------------------------


def test_the_order_form_shows_the_commitments_lines_and_totals(acheteur, commitment, client_as):
    response = client_as(acheteur).get(create_url(commitment))
    assert response.status_code == 200
    text = page_text(response)
    assert commitment.number in text
    assert "Commutateur 48 ports" in text
    assert f'data-testid="total-ttc">{xpf(1_563_900)}<' in text
    assert FORM_TOKEN_FIELD in text


def test_the_buyer_issues_the_order_and_the_request_is_ordered(acheteur, commitment, client_as):
    delivery = timezone.localdate() + timedelta(days=20)
    response = client_as(acheteur).post(
        create_url(commitment),
        {
            "delivery_address": "Salle serveurs B",
            "delivery_date": delivery.strftime("%d/%m/%Y"),
            "notes": "Appeler avant",
            FORM_TOKEN_FIELD: "jeton-1",
        },
    )
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert (order.number, order.amount_ttc, order.delivery_date, order.delivery_address) == (
        "BC-2026-00001",
        1_563_900,
        delivery,
        "Salle serveurs B",
    )
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.ORDERED


def test_the_order_form_sent_twice_records_one_order(acheteur, commitment, client_as):
    client = client_as(acheteur)
    data = {"delivery_address": "", "notes": "", FORM_TOKEN_FIELD: "le-meme-jeton"}
    first = client.post(create_url(commitment), data)
    second = client.post(create_url(commitment), data, follow=True)
    order = PurchaseOrder.objects.get()
    assert first["Location"] == second.redirect_chain[-1][0] == order.get_absolute_url()
    assert any(order.number in message for message in messages_of(second))
    assert PurchaseOrder.objects.count() == 1


def test_a_second_order_of_the_same_commitment_is_refused_with_a_message(
    acheteur, commitment, order, client_as
):
    response = client_as(acheteur).post(create_url(commitment), {FORM_TOKEN_FIELD: "autre"})
    assert response.status_code == 200
    assert order.number in page_text(response)
    assert response.context["form"].non_field_errors()
    assert PurchaseOrder.objects.count() == 1


def test_a_delivery_date_already_past_is_refused_and_nothing_is_recorded(
    acheteur, commitment, client_as
):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client_as(acheteur).post(
        create_url(commitment), {"delivery_date": yesterday.isoformat()}
    )
    assert response.status_code == 200
    assert yesterday.strftime("%d/%m/%Y") in page_text(response)
    assert not PurchaseOrder.objects.exists()


def test_a_malformed_delivery_date_is_refused_by_the_form(acheteur, commitment, client_as):
    response = client_as(acheteur).post(create_url(commitment), {"delivery_date": "demain"})
    assert response.status_code == 200
    assert response.context["form"].errors["delivery_date"] == [
        "« demain » n’est pas une date au format jj/mm/aaaa, le jour d’abord "
        "(08/12/2026 pour le 8 décembre 2026)."
    ]
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("username", ["chef", "comptable", "directeur", "controleur"])
def test_only_the_buyer_opens_the_order_form(username, cast, commitment, client_as):
    user = next(u for u in cast.values() if u.username == username)
    client = client_as(user)
    assert client.get(create_url(commitment)).status_code == 403
    assert client.post(create_url(commitment), {}).status_code == 403
    assert not PurchaseOrder.objects.exists()


def test_the_order_form_without_a_commitment_sends_back_to_the_commitments(acheteur, client_as):
    response = client_as(acheteur).get(CREATE_URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("procurement:commitment-list")


def test_the_order_form_of_an_unknown_commitment_is_not_found(acheteur, client_as):
    assert client_as(acheteur).get(f"{CREATE_URL}?commitment=999999").status_code == 404


# --- PDF ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["acheteur", "comptable", "controleur"])
def test_the_pdf_downloads_with_the_orders_number_as_its_name(
    username, cast, order, client_as, settings
):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"  # not the placeholder
    user = next(u for u in cast.values() if u.username == username)
    response = client_as(user).get(url("order-pdf", order))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="BC-2026-00001.pdf"'
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "BC-2026-00001" in text
    assert "1 563 900" in text.replace(NNBSP, " ").replace(NBSP, " ")


# --- Sent and cancelled ---------------------------------------------------------------


def test_the_buyer_marks_the_order_as_sent(acheteur, order, client_as):
    response = client_as(acheteur).post(url("order-mark-sent", order), follow=True)
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.SENT
    assert order.sent_by == acheteur
    assert any(order.number in message for message in messages_of(response))


def test_marking_as_sent_twice_answers_with_a_message_and_changes_nothing(
    acheteur, order, client_as
):
    client = client_as(acheteur)
    client.post(url("order-mark-sent", order))
    sent_at = PurchaseOrder.objects.get().sent_at
    response = client.post(url("order-mark-sent", order), follow=True)
    assert response.status_code == 200
    assert any(order.number in message for message in messages_of(response))
    assert PurchaseOrder.objects.get().sent_at == sent_at


def test_the_order_actions_refuse_get(acheteur, order, client_as):
    client = client_as(acheteur)
    assert client.get(url("order-mark-sent", order)).status_code == 405
    assert client.get(url("order-cancel", order)).status_code == 405
    assert PurchaseOrder.objects.get().state == PurchaseOrder.State.ISSUED


@pytest.mark.parametrize("action", ["order-mark-sent", "order-cancel"])
def test_readers_may_not_change_an_order(action, chef, order, client_as):
    response = client_as(chef).post(url(action, order), {"reason": "Essai"})
    assert response.status_code == 403
    assert PurchaseOrder.objects.get().state == PurchaseOrder.State.ISSUED


def test_the_buyer_cancels_an_order_with_a_reason(acheteur, order, client_as):
    client = client_as(acheteur)
    response = client.post(url("order-cancel", order), {"reason": ""}, follow=True)
    assert PurchaseOrder.objects.get().state == PurchaseOrder.State.ISSUED
    assert messages_of(response)
    client.post(url("order-cancel", order), {"reason": "Fournisseur en rupture"})
    order.refresh_from_db()
    assert (order.state, order.cancel_reason) == (
        PurchaseOrder.State.CANCELLED,
        "Fournisseur en rupture",
    )
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.APPROVED


def test_an_order_with_a_receipt_cannot_be_cancelled(acheteur, order, commitment, client_as):
    receipts.receipt_create(
        user=acheteur,
        commitment=commitment,
        received_on=timezone.localdate(),
        quantities={commitment.lines.get(position=1): "1"},
    )
    client = client_as(acheteur)
    assert 'data-testid="cancel"' not in page_text(client.get(url("order-detail", order)))
    response = client.post(url("order-cancel", order), {"reason": "Trop tard"}, follow=True)
    assert any("SF-2026-00001" in message for message in messages_of(response))
    assert PurchaseOrder.objects.get().state == PurchaseOrder.State.ISSUED
