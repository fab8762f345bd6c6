"""In a real browser: amounts in francs are read as the buyer types them. "250.000" in a
request line's unit price echoes "= 250 000 F CFP" beside the field and its availability
box counts 250 000; "250.5" echoes the French refusal and the box never says "covered"."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot, xpf
from tests.factories import (
    BudgetLineFactory,
    CostCentreFactory,
    NatureAccountFactory,
    UserFactory,
    fund,
)
from tests.procurement.factories import SupplierFactory, ensure_tax_rates

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_unit_price_echoes_the_amount_understood_and_a_fraction_is_never_covered(page):
    ensure_tax_rates()
    UserFactory(username="acheteur", first_name="Paul", roles=["achat"])
    servers = BudgetLineFactory(
        code="F-6156-INFRA",
        label="Maintenance des serveurs",
        nature_account=NatureAccountFactory(number="6156", label="Maintenance"),
        cost_centre=CostCentreFactory(code="INFRA", label="Infrastructures"),
    )
    fund({servers: 2_000_000})
    supplier = SupplierFactory(name="Cipac Informatique")

    log_in(page, "acheteur")
    page.goto(reverse("procurement:request-create"))
    page.locator("select[name=supplier]").select_option(str(supplier.pk))
    page.locator("input[name=lines-0-description]").fill("Onduleur 3 kVA")
    page.locator("input[name=lines-0-quantity]").fill("1")
    page.locator("select[name=lines-0-budget_line]").select_option(str(servers.pk))
    price = page.locator("input[name=lines-0-unit_price]")
    echo = page.locator("#id_lines-0-unit_price-echo")
    box = page.locator("#availability-lines-0")

    # 250.000: two hundred and fifty thousand francs, and the line covers it.
    price.fill("250.000")
    expect(echo).to_have_text(f"= {xpf(250_000)}")
    expect(box.get_by_test_id("row-amount")).to_have_text(xpf(250_000))
    expect(box.get_by_test_id("row-requested")).to_have_text(xpf(250_000))
    expect(box.get_by_test_id("row-fits")).to_be_visible()
    screenshot(page, "amounts-250-000")

    # 250.5: refused in French beside the field and in the box, never "covered".
    price.fill("250.5")
    expect(echo.get_by_test_id("francs-refused")).to_contain_text(
        "250,5 francs\u00a0? Le franc CFP n’a pas de décimales"
    )
    expect(box.get_by_test_id("row-error")).to_contain_text("250,5 francs")
    expect(box.get_by_test_id("row-fits")).to_have_count(0)
    expect(box).not_to_contain_text("Le disponible la couvre")
    screenshot(page, "amounts-250-5")

    # Another way of grouping thousands, on a row added in place.
    page.get_by_test_id("add-line").click()
    second = page.locator("input[name=lines-1-unit_price]")
    second.fill("1'250'000")
    expect(page.locator("#id_lines-1-unit_price-echo")).to_have_text(f"= {xpf(1_250_000)}")
