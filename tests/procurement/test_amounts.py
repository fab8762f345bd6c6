"""Amounts in francs as people type them (issue 11): "250.000" is 250 000 F CFP in the
purchase request form, its live availability box, the API and the invoice lines; "250.5"
is refused with a French message, saves nothing, and never shows a green "covered"."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from procurement.models import Commitment, PurchaseRequest
from procurement.services.common import ProcurementError
from procurement.services.currency import currency_amount
from tests.procurement.factories import SupplierFactory, ensure_tax_rates, funded_line
from tests.procurement.request_forms import form_data, page_text, row, xpf

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("procurement:request-create")
AVAILABILITY_URL = reverse("procurement:request-availability")
API_REQUESTS = reverse("api:purchase-request-list")
NB = "\u00a0"
NNBSP = "\u202f"
REFUSED_250_5 = (
    f"Le prix unitaire «{NB}250.5{NB}»{NB}: 250,5 francs{NB}? Le franc CFP n’a pas de "
    f"décimales{NB}; tapez 250 ou 250{NNBSP}000 (milliers séparés par des espaces, des "
    "points ou des apostrophes)."
)


@pytest.fixture(autouse=True)
def _rates():
    ensure_tax_rates()


@pytest.fixture
def line():
    return funded_line(1_000_000, code="F-6156-INFRA", label="Maintenance des serveurs")


@pytest.fixture
def supplier():
    return SupplierFactory(name="Cipac Informatique")


def boxes_of(response) -> dict[str, str]:
    return dict(
        re.findall(
            r'<div id="availability-(lines-\d)" hx-swap-oob="innerHTML">(.*?)</div>\s*(?=<div id=|$)',
            page_text(response),
            re.S,
        )
    )


# --- The request form ---------------------------------------------------------------


@pytest.mark.parametrize("typed", ["250.000", "250 000", "250'000", "250\u202f000", "250000"])
def test_a_unit_price_grouped_by_dots_spaces_or_apostrophes_saves_250_000_francs(
    typed, client_as, acheteur, line, supplier
):
    response = client_as(acheteur).post(
        CREATE_URL, form_data(supplier, [row(line, quantity="2", unit_price=typed)])
    )
    assert response.status_code == 302
    request_line = PurchaseRequest.objects.get().lines.get()
    assert (request_line.unit_price, request_line.amount_ht) == (250_000, 500_000)


def test_a_fractional_unit_price_is_refused_with_what_was_understood_and_nothing_saved(
    client_as, acheteur, line, supplier
):
    response = client_as(acheteur).post(
        CREATE_URL, form_data(supplier, [row(line, unit_price="250.5")])
    )
    assert response.status_code == 200
    assert REFUSED_250_5 in page_text(response)
    assert not PurchaseRequest.objects.exists()


def test_the_price_field_carries_the_live_echo_and_the_quantity_says_decimals_are_accepted(
    client_as, acheteur
):
    text = page_text(client_as(acheteur).get(CREATE_URL))
    price = re.search(r'<input[^>]*name="lines-0-unit_price"[^>]*>', text).group(0)
    assert f'data-francs="{reverse("francs-echo")}"' in price
    assert 'inputmode="numeric"' in price and 'autocomplete="off"' in price
    assert "Décimales acceptées : 1,5 ou 1.5" in text


# --- The live availability box --------------------------------------------------------


def test_the_availability_box_reads_250_000_and_refuses_250_5_without_a_green_tick(
    client_as, acheteur, line, supplier
):
    other = funded_line(300_000, code="F-6161-APPLI")
    data = form_data(
        supplier,
        [
            row(line, quantity="1", unit_price="250.000"),
            row(other, quantity="1", unit_price="250.5"),
            row(other, quantity="1", unit_price="10 000"),
            row(line, quantity="", unit_price=""),
        ],
    )
    response = client_as(acheteur).get(AVAILABILITY_URL, data)
    boxes = boxes_of(response)
    # The totals leave out the unreadable line 2, and say so.
    totals = page_text(response).split('id="request-totals" hx-swap-oob="innerHTML"')[1]
    assert f'data-testid="amount-ht">{xpf(260_000)}' in totals
    assert "Sans la ou les lignes 2, dont le montant est illisible." in totals
    # 250.000 is 250 000 F CFP, covered by the 1 000 000 available.
    assert 'data-verdict="fits"' in boxes["lines-0"]
    assert f'data-testid="row-amount">{xpf(250_000)}' in boxes["lines-0"]
    assert 'data-testid="row-fits"' in boxes["lines-0"]
    # 250.5 is refused: the reason, never "covered".
    assert REFUSED_250_5 in boxes["lines-1"]
    assert 'data-testid="row-fits"' not in boxes["lines-1"]
    assert "Le disponible la couvre" not in boxes["lines-1"]
    assert 'data-verdict="error"' in boxes["lines-1"]
    # The other row on the same budget line: its total is unknown, so no verdict either.
    assert 'data-verdict="incomplete"' in boxes["lines-2"]
    assert 'data-testid="row-fits"' not in boxes["lines-2"]
    # A row still being typed has no verdict.
    assert 'data-verdict="pending"' in boxes["lines-3"]
    assert 'data-testid="row-fits"' not in boxes["lines-3"]


def test_a_bad_quantity_shows_its_reason_in_the_box(client_as, acheteur, line, supplier):
    data = form_data(supplier, [row(line, quantity="deux", unit_price="250.000")])
    boxes = boxes_of(client_as(acheteur).get(AVAILABILITY_URL, data))
    assert "La quantité doit être un nombre." in boxes["lines-0"]
    assert 'data-testid="row-fits"' not in boxes["lines-0"]


def test_the_single_line_box_reads_its_amount_strictly(client_as, acheteur, line):
    fits = page_text(
        client_as(acheteur).get(AVAILABILITY_URL, {"budget_line": line.pk, "amount": "250.000"})
    )
    assert 'data-fits="true"' in fits and xpf(250_000) in fits
    refused = page_text(
        client_as(acheteur).get(AVAILABILITY_URL, {"budget_line": line.pk, "amount": "250.5"})
    )
    assert "data-fits" not in refused and 'data-testid="row-error"' in refused


# --- The API ----------------------------------------------------------------------------


def api_body(supplier, line, unit_price) -> dict:
    return {
        "supplier": supplier.pk,
        "subject": "Onduleurs",
        "lines": [
            {
                "description": "Onduleur 3 kVA",
                "quantity": "2",
                "unit_price": unit_price,
                "tax_rate": "22",
                "budget_line": line.pk,
            }
        ],
    }


@pytest.fixture
def api(acheteur):
    client = APIClient()
    client.force_authenticate(acheteur)
    return client


@pytest.mark.parametrize("unit_price", ["250.000", "250 000", "250'000", 250_000, 250_000.0])
def test_the_api_reads_a_string_250_000_as_250_000_francs_never_250(
    unit_price, api, line, supplier
):
    response = api.post(API_REQUESTS, api_body(supplier, line, unit_price), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["unit_price"] == 250_000
    assert PurchaseRequest.objects.get().lines.get().unit_price == 250_000


@pytest.mark.parametrize(
    ("unit_price", "message"),
    [
        ("250.5", REFUSED_250_5),
        (250.5, f"Le prix unitaire «{NB}250.5{NB}»{NB}: 250,5 francs{NB}?"),
        ("1.000.00", f"Le prix unitaire «{NB}1.000.00{NB}»"),
        ("250,000", "250\u202f000 ou 250 francs"),
        (True, "Un montant en francs est un entier (250000) ou une chaîne"),
        ("", "Indiquez un montant en francs."),
    ],
)
def test_the_api_refuses_fractional_or_ambiguous_francs_in_french(
    unit_price, message, api, line, supplier
):
    response = api.post(API_REQUESTS, api_body(supplier, line, unit_price), format="json")
    assert response.status_code == 400
    errors = response.json()["lines"]["0"]["unit_price"]
    assert any(message in error for error in errors), errors
    assert not PurchaseRequest.objects.exists()


@pytest.mark.parametrize(
    ("typed", "status", "committed"), [("250.000", 201, 250_000), ("250.5", 400, None)]
)
def test_the_recurring_commitment_api_reads_francs_the_same_way(
    typed, status, committed, chef, line, supplier
):
    client = APIClient()
    client.force_authenticate(chef)
    body = {
        "supplier": supplier.pk,
        "subject": "Maintenance",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "lines": [{"budget_line": line.pk, "description": "Maintenance", "amount": typed}],
    }
    response = client.post(reverse("api:commitment-list"), body, format="json")
    assert response.status_code == status, response.content
    if committed is None:
        assert not Commitment.objects.exists()
        assert "Le franc CFP n’a pas de décimales" in str(response.json())
    else:
        assert Commitment.objects.get().amount == committed


# --- Invoice lines in XPF ------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["250.000", "250 000", "250'000", "250000", 250_000])
def test_an_invoice_line_in_xpf_reads_250_000_as_thousands(typed):
    assert currency_amount(typed, currency="XPF") == 250_000


@pytest.mark.parametrize("typed", ["250.5", "250.00", "1 000,50"])
def test_an_invoice_line_in_xpf_refuses_decimals_in_french(typed):
    with pytest.raises(ProcurementError) as error:
        currency_amount(typed, currency="XPF")
    assert "Le franc CFP n’a pas de décimales" in error.value.messages[0]


def test_an_invoice_line_in_euros_keeps_its_cents():
    assert str(currency_amount("1 234,56", currency="EUR")) == "1234.56"
