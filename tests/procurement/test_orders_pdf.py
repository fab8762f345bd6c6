"""The order form as a PDF: opened with pypdf, its text shows the operator, the number,
the supplier, each line and the right totals (before tax, TGC by rate, with tax)."""

import io
import re

import pytest
from pypdf import PdfReader

from procurement.pdf import order_pdf_filename, render_order_pdf
from procurement.services import orders
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """The PDF's text, its spaces (narrow no-break ones included) made plain and single."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def xpf(francs: int) -> str:
    return f"{francs:,}".replace(",", " ") + " F CFP"


@pytest.fixture
def order(settings, chef, acheteur):
    settings.OPERATOR_NAME = "Office des postes et télécommunications"
    settings.OPERATOR_DEPARTMENT = "Direction des systèmes d’information"
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"
    settings.OPERATOR_RIDET = "0123456.001"
    settings.OPERATOR_SIGNATORY_NAME = "Jean Wamytan"
    settings.OPERATOR_SIGNATORY_TITLE = "Directeur des systèmes d’information"
    ensure_tax_rates()
    line = funded_line(50_000_000, code="I-2183-INFRA", label="Serveurs et stockage de la salle B")
    supplier = SupplierFactory(
        name="Calédonie Informatique SARL",
        ridet="1234567.001",
        address="15 avenue du Maréchal Foch\n98800 Nouméa",
        payment_terms_days=45,
    )
    commitment = request_commitment(
        chef,
        [
            ordered_goods(line, "3", 1_250_000, "22", "Serveur lame bi-processeur"),
            ordered_goods(line, "12", 45_500, "22", "Barrette mémoire 64 Go"),
            ordered_goods(line, "2.5", 98_000, "11", "Jours d’installation sur site"),
            ordered_goods(line, "1", 30_000, "0", "Formation exonérée"),
        ],
        supplier=supplier,
        subject="Renouvellement des serveurs de la salle B",
    )
    return orders.purchase_order_create(
        user=acheteur,
        commitment=commitment,
        delivery_address="Salle serveurs B\n2 rue Monchovet, Nouméa",
        notes="Livraison sur rendez-vous",
    )


def test_the_order_pdf_shows_the_number_the_supplier_each_line_and_the_totals(order):
    data = render_order_pdf(order)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "BC-2026-00001" in text
    assert order.commitment.number in text
    assert order.commitment.purchase_request.number in text
    # The operator's header.
    assert "Office des postes et télécommunications" in text
    assert "0123456.001" in text
    # The supplier block.
    assert "Calédonie Informatique SARL" in text
    assert "1234567.001" in text
    assert "15 avenue du Maréchal Foch" in text
    # Each line: description, unit price and amount before tax.
    for description, unit_price, amount in [
        ("Serveur lame bi-processeur", 1_250_000, 3_750_000),
        ("Barrette mémoire 64 Go", 45_500, 546_000),
        ("Jours d’installation sur site", 98_000, 245_000),
        ("Formation exonérée", 30_000, 30_000),
    ]:
        assert description in text
        assert xpf(unit_price) in text
        assert xpf(amount) in text
    # Totals: 4 571 000 before tax; TGC 22 % on 4 296 000 = 945 120, 11 % on 245 000 =
    # 26 950, 0 % on 30 000 = 0; 5 543 070 with tax.
    assert (order.amount_ht, order.amount_tax, order.amount_ttc) == (4_571_000, 972_070, 5_543_070)
    assert xpf(4_571_000) in text
    assert xpf(945_120) in text and xpf(4_296_000) in text
    assert xpf(26_950) in text and xpf(245_000) in text
    assert xpf(5_543_070) in text
    assert "22 %" in text and "11 %" in text and "0 %" in text
    # Delivery and page numbers.
    assert "Salle serveurs B" in text
    assert "Page 1 / 1" in text


def test_the_order_pdf_is_in_french_whatever_the_language(order):
    from django.utils import translation

    with translation.override("en"):
        text = pdf_text(render_order_pdf(order))
    assert "2,5" in text  # a French decimal comma in the quantity
    assert "2.5" not in text


def test_the_pdf_file_is_named_after_the_order(order):
    assert order_pdf_filename(order) == "BC-2026-00001.pdf"


def test_a_long_order_runs_over_several_numbered_pages(settings, chef, acheteur):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"
    ensure_tax_rates()
    line = funded_line(900_000_000, code="F-6068-BUREAU")
    commitment = request_commitment(
        chef,
        [
            ordered_goods(line, "1", 10_000 + n, "22", f"Article de bureau numéro {n}")
            for n in range(1, 61)
        ],
    )
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    data = render_order_pdf(order)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    pages = len(reader.pages)
    text = pdf_text(data)
    assert f"Page 1 / {pages}" in text and f"Page {pages} / {pages}" in text
    assert "Article de bureau numéro 60" in text
    assert xpf(order.amount_ttc) in text


def test_the_order_pdf_shows_the_imputation_payment_terms_signatory_and_address(order):
    """The operator's address, signatory and title come from the settings; the budget
    imputation from the commitment's lines; the payment terms from the supplier."""
    text = pdf_text(render_order_pdf(order))
    assert "2 rue Monchovet, 98800 Nouméa" in text
    assert "BP 000" not in text
    assert "adresse à compléter" not in text.lower()
    # The signatory: title then name.
    assert "Directeur des systèmes d’information" in text
    assert "Jean Wamytan" in text
    # The imputation: each line's code, and the summary with the line's label and its
    # four order lines' total before tax (4 571 000).
    assert "IMPUTATION BUDGÉTAIRE" in text  # a label in capitals (CSS)
    assert text.count("I-2183-INFRA") == 5  # four order lines and the summary row
    flat = text.replace("\n", " ")  # a label wraps in its cell
    assert "Serveurs et stockage de la salle B" in flat
    assert "Lignes du bon 1, 2, 3, 4" in flat
    assert text.count(xpf(4_571_000)) == 2  # the total before tax and the imputation
    # The supplier's payment terms.
    assert "Délai de paiement" in text
    assert "45 jours à compter de la réception de la facture" in text


def test_the_imputation_sums_the_order_lines_per_budget_line(settings, chef, acheteur):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"
    ensure_tax_rates()
    servers = funded_line(50_000_000, code="I-2183-INFRA", label="Serveurs")
    licences = funded_line(9_000_000, code="F-6051-APPLI", label="Licences")
    commitment = request_commitment(
        chef,
        [
            ordered_goods(servers, "2", 1_000_000, "22", "Serveur"),
            ordered_goods(licences, "10", 50_000, "22", "Licence"),
            ordered_goods(servers, "1", 300_000, "22", "Baie"),
        ],
    )
    order = orders.purchase_order_create(user=acheteur, commitment=commitment)
    from procurement.pdf import budget_imputation
    from procurement.selectors.orders import order_file

    rows = budget_imputation(order_file(order=order))
    assert [(row["line"].code, row["positions"], row["amount_ht"]) for row in rows] == [
        ("I-2183-INFRA", [1, 3], 2_300_000),
        ("F-6051-APPLI", [2], 500_000),
    ]
    text = pdf_text(render_order_pdf(order))
    assert "I-2183-INFRA Serveurs" in text and "Lignes du bon 1, 3" in text
    assert "F-6051-APPLI Licences" in text and "Lignes du bon 2" in text
    assert xpf(2_300_000) in text and xpf(500_000) in text


def test_production_refuses_an_order_pdf_while_the_address_is_the_placeholder(order, settings):
    from procurement.pdf import OrderPdfUnavailable

    settings.DEBUG = False
    settings.OPERATOR_ADDRESS = settings.OPERATOR_ADDRESS_PLACEHOLDER
    with pytest.raises(OrderPdfUnavailable, match="OPERATOR_ADDRESS"):
        render_order_pdf(order)
    settings.OPERATOR_ADDRESS = "  "  # an empty address is no better
    with pytest.raises(OrderPdfUnavailable):
        render_order_pdf(order)


def test_the_order_page_answers_409_in_french_naming_the_setting(
    order, settings, client_as, acheteur
):
    from django.urls import reverse

    settings.DEBUG = False
    settings.OPERATOR_ADDRESS = settings.OPERATOR_ADDRESS_PLACEHOLDER
    response = client_as(acheteur).get(reverse("procurement:order-pdf", args=[order.pk]))
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "Le bon de commande BC-2026-00001 ne peut pas encore être produit" in text
    assert "Renseignez la variable d’environnement OPERATOR_ADDRESS" in text


def test_the_api_answers_409_in_french_naming_the_setting(order, settings, acheteur):
    from rest_framework.test import APIClient

    settings.DEBUG = False
    settings.OPERATOR_ADDRESS = settings.OPERATOR_ADDRESS_PLACEHOLDER
    client = APIClient()
    client.force_authenticate(acheteur)
    for accept in ("application/json", "application/pdf"):
        response = client.get(
            f"/api/v1/purchase-orders/{order.pk}/pdf/",
            headers={"Accept": accept, "Accept-Language": "fr"},
        )
        assert response.status_code == 409
        body = (
            response.json()
            if accept == "application/json"
            else __import__("json").loads(response.content)
        )
        assert "OPERATOR_ADDRESS" in body["detail"]
        assert "adresse provisoire « BP 000" in body["detail"]


def test_debug_builds_the_order_pdf_with_an_address_to_complete_mark(order, settings):
    settings.DEBUG = True
    settings.OPERATOR_ADDRESS = settings.OPERATOR_ADDRESS_PLACEHOLDER
    text = pdf_text(render_order_pdf(order))
    assert "BP 000" in text
    assert "ADRESSE À COMPLÉTER" in text.upper()
