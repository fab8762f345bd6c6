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
    ensure_tax_rates()
    line = funded_line(50_000_000, code="I-2183-INFRA")
    supplier = SupplierFactory(
        name="Calédonie Informatique SARL",
        ridet="1234567.001",
        address="15 avenue du Maréchal Foch\n98800 Nouméa",
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


def test_a_long_order_runs_over_several_numbered_pages(chef, acheteur):
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
