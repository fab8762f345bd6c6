"""In a real browser: the buyer opens an order and downloads its PDF order form, whose
text shows the right total; records what arrived with "receive everything"; the section
head opens a recurring contract, each line showing its available amount as it is chosen."""

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from budgets.models import BudgetLine
from procurement.models import Commitment, PurchaseRequest, Receipt
from procurement.services import orders
from tests.browser.conftest import log_in, screenshot
from tests.factories import UserFactory
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    funded_line,
    ordered_goods,
    request_commitment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
NNBSP = "\u202f"


def xpf(francs: int) -> str:
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def plain(text: str) -> str:
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


@pytest.fixture
def order():
    """An order of 3 servers at 1 250 000 (TGC 22 %) and 2,5 days at 98 000 (TGC 11 %):
    3 995 000 before tax, 825 000 + 26 950 of TGC, 4 846 950 with tax."""
    ensure_tax_rates()
    chef = UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
    buyer = UserFactory(username="acheteur", first_name="Paul", roles=["achat"])
    line = funded_line(50_000_000, code="I-2183-INFRA")
    commitment = request_commitment(
        chef,
        [
            ordered_goods(line, "3", 1_250_000, "22", "Serveur lame"),
            ordered_goods(line, "2.5", 98_000, "11", "Jours d’installation"),
        ],
        supplier=SupplierFactory(name="Calédonie Informatique SARL"),
    )
    return orders.purchase_order_create(user=buyer, commitment=commitment)


def test_the_buyer_downloads_the_order_form_and_its_total_is_right(page, order, settings):
    settings.OPERATOR_ADDRESS = "2 rue Monchovet, 98800 Nouméa"  # not the placeholder
    assert order.amount_ttc == 4_846_950
    log_in(page, "acheteur")
    page.goto(reverse("procurement:order-detail", args=[order.pk]))
    expect(page.get_by_test_id("number")).to_have_text("BC-2026-00001")
    expect(page.get_by_test_id("total-ttc")).to_have_text(xpf(4_846_950))
    screenshot(page, "order-page")

    with page.expect_download() as download_info:
        page.get_by_test_id("pdf").click()
    download = download_info.value
    assert download.suggested_filename == "BC-2026-00001.pdf"
    data = Path(download.path()).read_bytes()
    text = plain("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert "BC-2026-00001" in text
    assert "Calédonie Informatique SARL" in text
    assert "4 846 950 F CFP" in text
    assert "3 995 000 F CFP" in text
    assert page.errors == []


def test_the_buyer_receives_everything_left_in_one_click(page, order):
    log_in(page, "acheteur")
    page.goto(reverse("procurement:order-detail", args=[order.pk]))
    page.get_by_test_id("mark-sent").click()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "sent")
    # The button works once the page's scripts are attached: wait for the new page's load.
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("receipt-create").click()
    page.get_by_test_id("receive-all").click()
    quantities = page.locator("input.receipt-quantity")
    expect(quantities.nth(0)).to_have_value("3")
    expect(quantities.nth(1)).to_have_value("2,5")
    screenshot(page, "receipt-form")
    page.get_by_test_id("submit").click()
    page.wait_for_url("**/achats/receptions/*/")
    expect(page.get_by_test_id("number")).to_have_text("SF-2026-00001")
    assert Receipt.objects.get().lines.count() == 2
    assert PurchaseRequest.objects.get().state == PurchaseRequest.State.RECEIVED
    assert page.errors == []


def test_the_section_head_opens_a_recurring_contract_with_live_availability(page):
    ensure_tax_rates()
    UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
    maintenance = funded_line(3_000_000, code="F-6156-INFRA")
    telecom = funded_line(1_000_000, code="F-6262-TELECOM")
    supplier = SupplierFactory(name="OPT Nouvelle-Calédonie")

    log_in(page, "chef")
    page.goto(reverse("procurement:commitment-create"))
    page.locator("select[name=supplier]").select_option(str(supplier.pk))
    page.locator("input[name=subject]").fill("Liaisons fibre 2026")
    page.locator("input[name=period_start]").fill("01/01/2026")
    page.locator("input[name=period_end]").fill("31/12/2026")
    rows = page.locator("tr.commitment-line-row")
    rows.nth(0).locator("select").select_option(str(maintenance.pk))
    expect(rows.nth(0).locator("[data-figure=available]")).to_have_text(xpf(3_000_000))
    rows.nth(0).locator("input[name$=description]").fill("Maintenance")
    rows.nth(0).locator("input[name$=amount]").fill("1 200 000")
    page.locator("[data-add-line]").click()
    expect(rows).to_have_count(2)
    rows.nth(1).locator("select").select_option(str(telecom.pk))
    expect(rows.nth(1).locator("[data-figure=available]")).to_have_text(xpf(1_000_000))
    rows.nth(1).locator("input[name$=description]").fill("Liaison fibre")
    rows.nth(1).locator("input[name$=amount]").fill("480 000")
    screenshot(page, "recurring-commitment-form")
    page.get_by_test_id("commitment-form").locator("button[type=submit]").click()
    page.wait_for_url("**/achats/engagements/*/")
    expect(page.get_by_test_id("amount")).to_have_text(xpf(1_680_000))
    commitment = Commitment.objects.get()
    assert commitment.amount == 1_680_000
    assert BudgetLine.objects.get(pk=telecom.pk).available == 520_000
    expect(page.get_by_test_id("entries").locator("tbody tr")).to_have_count(2)
    screenshot(page, "commitment-page")
    assert page.errors == []
