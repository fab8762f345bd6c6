"""In a real browser: the buyer enters a purchase request with two lines, sees each
line's budget line availability appear as they type (one line short), saves the
draft and submits it after the warning."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from procurement.models import PurchaseRequest
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


def test_the_buyer_enters_two_lines_sees_their_availability_and_submits(page):
    ensure_tax_rates()
    UserFactory(username="acheteur", first_name="Paul", roles=["achat"])
    maintenance = NatureAccountFactory(number="6156", label="Maintenance")
    servers = BudgetLineFactory(
        code="F-6156-INFRA",
        label="Maintenance des serveurs",
        nature_account=maintenance,
        cost_centre=CostCentreFactory(code="INFRA", label="Infrastructures"),
    )
    erp = BudgetLineFactory(
        code="F-6156-APPLI",
        label="Maintenance du progiciel RH",
        nature_account=maintenance,
        cost_centre=CostCentreFactory(code="APPLI", label="Applications métier"),
    )
    fund({servers: 2_000_000, erp: 300_000})
    supplier = SupplierFactory(name="Cipac Informatique")

    log_in(page, "acheteur")
    page.goto(reverse("procurement:request-create"))
    page.locator("select[name=supplier]").select_option(str(supplier.pk))
    page.locator("input[name=subject]").fill("Renouvellement des onduleurs")

    # First line: two UPS on the servers' line, which has enough.
    page.locator("input[name=lines-0-description]").fill("Onduleur 3 kVA")
    page.locator("input[name=lines-0-quantity]").fill("2")
    page.locator("input[name=lines-0-unit_price]").fill("450 000")
    # A line starts at the normal TGC rate; equipment of this kind goes at 22 %.
    expect(page.locator("select[name=lines-0-tax_rate] option:checked")).to_have_text("11\u00a0%")
    page.locator("select[name=lines-0-tax_rate]").select_option(label="22\u00a0%")
    page.locator("select[name=lines-0-budget_line]").select_option(str(servers.pk))
    first = page.locator("#availability-lines-0")
    expect(first.locator("[data-figure=available]")).to_have_text(xpf(2_000_000))
    expect(first.get_by_test_id("row-amount")).to_have_text(xpf(900_000))
    expect(first.get_by_test_id("row-fits")).to_be_visible()

    # Second line, added in place: days of service on the ERP line, which is short.
    page.get_by_test_id("add-line").click()
    page.locator("input[name=lines-1-description]").fill("Installation et paramétrage")
    page.locator("input[name=lines-1-quantity]").fill("2,5")
    page.locator("input[name=lines-1-unit_price]").fill("150 000")
    page.locator("select[name=lines-1-tax_rate]").select_option(label="11\u00a0%")
    page.locator("select[name=lines-1-budget_line]").select_option(str(erp.pk))
    second = page.locator("#availability-lines-1")
    expect(second.locator("[data-figure=available]")).to_have_text(xpf(300_000))
    expect(second.get_by_test_id("row-amount")).to_have_text(xpf(375_000))
    expect(second.get_by_test_id("row-short")).to_contain_text(xpf(75_000))
    totals = page.locator("#request-totals")
    expect(totals.get_by_test_id("amount-ht")).to_have_text(xpf(1_275_000))
    # TGC: 22 % of 900 000 and 11 % of 375 000.
    expect(totals.get_by_test_id("amount-ttc")).to_have_text(xpf(1_275_000 + 198_000 + 41_250))
    screenshot(page, "acheteur-request-form")

    page.get_by_test_id("save").click()
    page.wait_for_url("**/achats/demandes/*/")
    request = PurchaseRequest.objects.get()
    assert page.get_by_test_id("number").inner_text() == request.number == "DA-2026-00001"
    assert page.get_by_test_id("state").get_attribute("data-state") == "draft"
    assert page.get_by_test_id("submit-warning").is_visible()

    # The submit form asks first: a line is short.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "submitted")
    assert len(dialogs) == 1
    request.refresh_from_db()
    assert request.state == PurchaseRequest.State.SUBMITTED
    assert request.amount_ht == 1_275_000
    screenshot(page, "acheteur-request-submitted")
    assert page.errors == [], page.errors
