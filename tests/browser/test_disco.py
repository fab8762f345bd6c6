"""In a real browser: `chef` opens the DISCO page, filters it in place, then drills from a
line's available amount down to the ledger entries behind it."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from budgets import services
from tests.browser.conftest import log_in, screenshot
from tests.factories import (
    BudgetLineFactory,
    CostCentreFactory,
    NatureAccountFactory,
    ProjectFactory,
    UserFactory,
    fund,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
NNBSP = "\u202f"


def figure(francs: int) -> str:
    """A list cell: the grouped figure, the currency being in the column header."""
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP)


def xpf(francs: int) -> str:
    sign = "-" if francs < 0 else ""
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def test_chef_filters_the_disco_page_in_place_and_drills_down_to_a_lines_entries(page):
    chef = UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
    infra = CostCentreFactory(code="INFRA", label="Infrastructures et exploitation")
    appli = CostCentreFactory(code="APPLI", label="Applications métier")
    maintenance = NatureAccountFactory(number="6156", label="Maintenance")
    licences = NatureAccountFactory(number="6051", label="Licences")
    servers = BudgetLineFactory(
        code="F-6156-INFRA",
        label="Maintenance des serveurs",
        nature_account=maintenance,
        cost_centre=infra,
    )
    erp = BudgetLineFactory(
        code="F-6156-APPLI",
        label="Maintenance du progiciel RH",
        nature_account=maintenance,
        cost_centre=appli,
    )
    office = BudgetLineFactory(
        code="F-6051-APPLI",
        label="Licences bureautiques",
        nature_account=licences,
        cost_centre=appli,
    )
    fund({servers: 5_000_000, erp: 2_000_000, office: 1_500_000})
    contract = ProjectFactory(code="TMA-RH", label="Tierce maintenance RH")
    services.credits_commit(user=chef, document=contract, amounts={erp: 600_000})
    services.credits_commit(user=chef, document=contract, amounts={erp: 250_000})
    services.credits_liquidate(user=chef, document=contract, line=erp, amount=400_000)

    log_in(page, "chef")
    page.goto(reverse("budgets:disco"))
    region = page.locator("#table-region")
    assert region.locator("tbody tr").count() == 3
    assert figure(8_500_000) in region.locator("tfoot").inner_text()

    # Filter by cost centre: htmx swaps the table in place and the URL follows.
    page.evaluate("window.sameDocument = true")  # lost if the whole page reloads
    page.locator("select[name=cost_centre]").select_option("APPLI")
    page.wait_for_url("**/budget/disponible/?*cost_centre=APPLI*")
    expect(region.locator("tbody tr")).to_have_count(2)
    assert page.evaluate("window.sameDocument === true")
    footer = region.locator("tfoot").inner_text()
    assert figure(3_500_000) in footer  # opened: 2 000 000 + 1 500 000
    assert figure(2_650_000) in footer  # available: 3 500 000 - 850 000

    # Then search within the cost centre.
    page.locator("input[name=q]").fill("progiciel")
    page.wait_for_url("**q=progiciel*")
    expect(region.locator("tbody tr")).to_have_count(1)
    assert page.evaluate("window.sameDocument === true")
    row = region.locator("tbody tr")
    assert "F-6156-APPLI" in row.inner_text()
    screenshot(page, "chef-disco-filtered")

    # Drill from the line's available amount to the entries behind it.
    available = row.locator("a[data-figure=available]")
    assert available.inner_text() == figure(1_150_000)
    available.click()
    page.wait_for_url(f"**{reverse('budgets:line-detail', args=[erp.pk])}?figure=available")
    assert page.get_by_test_id("line-code").inner_text() == "F-6156-APPLI"
    ledger = page.get_by_test_id("ledger")
    kinds = ledger.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["commit", "commit", "open"]  # the liquidation does not make the available
    amounts = ledger.locator("tbody tr td.amount").all_inner_texts()
    assert amounts == [
        f"+{figure(250_000)}",
        figure(1_150_000),
        f"+{figure(600_000)}",
        figure(1_400_000),
        f"+{figure(2_000_000)}",
        figure(2_000_000),
    ]
    assert "TMA-RH Tierce maintenance RH" in ledger.inner_text()
    screenshot(page, "chef-line-available-entries")
    assert page.errors == []


def test_chef_sees_both_lines_availability_before_requesting_a_transfer(page):
    UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
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
    fund({servers: 5_000_000, erp: 2_000_000})

    log_in(page, "chef")
    page.goto(reverse("budgets:transfer-create"))
    source_box, target_box = (
        page.locator("#source-availability"),
        page.locator("#target-availability"),
    )
    page.locator("select[name=source]").select_option(str(servers.pk))
    expect(source_box.locator("[data-figure=available]")).to_have_text(xpf(5_000_000))
    page.locator("select[name=target]").select_option(str(erp.pk))
    expect(target_box.locator("[data-figure=available]")).to_have_text(xpf(2_000_000))
    page.locator("input[name=amount]").fill("750 000")
    page.locator("textarea[name=reason]").fill("Renfort de la maintenance applicative")
    screenshot(page, "chef-transfer-form")
    page.locator("form[data-testid=transfer-form] button[type=submit]").click()
    page.wait_for_url("**/budget/virements/*/")
    assert page.get_by_test_id("amount").inner_text() == xpf(750_000)
    assert page.get_by_test_id("source-after").locator(".amount").inner_text() == xpf(4_250_000)
    assert page.get_by_test_id("target-after").locator(".amount").inner_text() == xpf(2_750_000)
    screenshot(page, "chef-transfer-requested")
    assert page.errors == []
