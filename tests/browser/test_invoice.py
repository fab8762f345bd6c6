"""In a real browser: the accounting assistant enters a supplier invoice for a commitment,
matches its lines (the commitment's lines load as the commitment is chosen), sees the
totals as she types, records it, liquidates it, and sees the state and the ledger entries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from budgets.models import BudgetLine
from procurement.models import Invoice
from procurement.services.invoices import invoice_create
from tests.browser.conftest import htmx_idle, log_in, screenshot
from tests.factories import BudgetLineFactory, UserFactory, fund
from tests.procurement.factories import (
    SupplierFactory,
    ensure_tax_rates,
    invoice_commitment,
    invoice_line,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL_URL = re.compile(r".*/achats/factures/\d+/$")
NBSP = "\u00a0"
NNBSP = "\u202f"


def xpf(francs: int) -> str:
    return f"{francs:,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def test_the_assistant_enters_matches_and_liquidates_an_invoice(page, settings):
    settings.PROCUREMENT_LIQUIDATION_THRESHOLD = 10_000_000
    ensure_tax_rates()
    comptable = UserFactory(username="comptable", first_name="Léa", roles=["comptabilite"])
    chef = UserFactory(username="chef", roles=["pilotage"])
    servers = BudgetLineFactory(code="F-6156-INFRA", label="Maintenance des serveurs")
    licences = BudgetLineFactory(code="F-6051-APPLI", label="Licences")
    fund({servers: 5_000_000, licences: 1_000_000})
    supplier = SupplierFactory(name="Cegelec NC", payment_terms_days=30)
    SupplierFactory(name="Autre fournisseur")
    commitment = invoice_commitment(
        chef, [(servers, 2_000_000, 10), (licences, 600_000, None)], supplier=supplier
    )
    today = timezone.localdate()
    # A commitment of the supplier already invoiced in full: not offered by default.
    exhausted = invoice_commitment(chef, [(licences, 100_000, None)], supplier=supplier)
    invoice_create(
        user=comptable,
        supplier=supplier,
        supplier_number="CEG-2026-0001",
        invoice_date=today - timedelta(days=20),
        received_on=today - timedelta(days=19),
        commitment=exhausted,
        lines=[invoice_line(exhausted.lines.get(), amount_ht="100000")],
    )

    log_in(page, "comptable")
    page.goto(reverse("procurement:invoice-create"))
    form = page.get_by_test_id("invoice-form")
    form.locator("select[name=supplier]").select_option(str(supplier.pk))
    # Choosing the supplier swaps the matching region (and its commitment select) in:
    # wait for it, or the next choice would go to the select being replaced.
    expect(page.get_by_test_id("matching")).to_have_attribute("data-supplier", str(supplier.pk))
    htmx_idle(page)
    commitment_select = form.locator("select[name=commitment]")
    expect(commitment_select.locator(f"option[value='{commitment.pk}']")).to_have_count(1)
    expect(commitment_select.locator(f"option[value='{exhausted.pk}']")).to_have_count(0)
    # « Afficher aussi les engagements soldés » brings it in.
    form.get_by_label("Afficher aussi les engagements soldés").check()
    expect(commitment_select.locator(f"option[value='{exhausted.pk}']")).to_have_count(1)
    form.get_by_label("Afficher aussi les engagements soldés").uncheck()
    expect(commitment_select.locator(f"option[value='{exhausted.pk}']")).to_have_count(0)
    htmx_idle(page)
    commitment_select.select_option(str(commitment.pk))
    expect(page.get_by_test_id("matching")).to_have_attribute("data-commitment", str(commitment.pk))

    # The commitment's lines come with their figures, and one invoice line per line.
    figures = page.get_by_test_id("commitment-lines")
    expect(figures).to_be_visible()
    assert xpf(2_000_000) in figures.inner_text()
    rows = page.locator("#invoice-lines tr.invoice-line-row")
    expect(rows).to_have_count(2)

    form.locator("input[name=supplier_number]").fill("CEG-2026-0147")
    form.locator("input[name=invoice_date]").fill(f"{today - timedelta(days=6):%d/%m/%Y}")
    form.locator("input[name=received_on]").fill(f"{today - timedelta(days=2):%d/%m/%Y}")
    # Four switches of the ten received, and a month of support.
    rows.nth(0).locator("input[name$=quantity]").fill("4")
    rows.nth(0).locator("input[name$=amount]").fill("800 000")
    rows.nth(1).locator("input[name$=amount]").fill("50000")
    rows.nth(1).locator("input[name$=description]").fill("Support de mars")
    # A line added by mistake, then removed.
    page.get_by_test_id("add-line").click()
    expect(rows).to_have_count(3)
    rows.nth(2).locator("input[name$=amount]").fill("999")
    rows.nth(2).locator("[data-invoice-remove-line]").click()
    expect(rows.nth(2)).to_be_hidden()

    totals = page.get_by_test_id("invoice-totals")
    expect(totals.locator("[data-total=ht]")).to_have_text(xpf(850_000))
    expect(totals.locator("[data-total=tax]")).to_have_text(xpf(187_000))
    expect(totals.locator("[data-total=ttc]")).to_have_text(xpf(1_037_000))
    # An invoice in F CFP: no conversion row.
    expect(totals.get_by_test_id("xpf-row")).to_be_hidden()
    # The total with tax on the paper, mistyped: the difference shows as one types…
    control = form.locator("input[name=total_ttc]")
    control.fill("1.037.007")  # thousands with dots, as often written here
    expect(totals.locator("[data-total=difference]")).to_have_text(f"7{NBSP}F{NBSP}CFP")
    expect(totals.locator("[data-total=difference]")).to_have_class(re.compile("text-danger"))
    screenshot(page, "comptable-invoice-form")
    # …and the server refuses it, recording nothing.
    page.get_by_test_id("save-invoice").click()
    error = page.get_by_test_id("control-total-error")
    expect(error).to_contain_text(f"de 7{NBSP}F{NBSP}CFP")
    assert not Invoice.objects.filter(supplier_number="CEG-2026-0147").exists()
    control = form.locator("input[name=total_ttc]")
    control.fill("1 037 000")
    expect(totals.locator("[data-total=difference]")).to_have_text(f"0{NBSP}F{NBSP}CFP")

    page.get_by_test_id("save-invoice").click()
    page.wait_for_url(DETAIL_URL)
    invoice = Invoice.objects.get(supplier_number="CEG-2026-0147")
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "entered")
    assert page.get_by_test_id("amount-ht").inner_text() == xpf(850_000)
    expect(page.get_by_test_id("line")).to_have_count(2)
    due = (today - timedelta(days=2) + timedelta(days=30)).strftime("%d/%m/%Y")
    assert due in page.get_by_test_id("due-on").inner_text()

    page.get_by_test_id("liquidate").click()
    page.wait_for_url(f"**{invoice.get_absolute_url()}")
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "liquidated")
    entries = page.get_by_test_id("entries").locator("tbody tr")
    expect(entries).to_have_count(2)
    kinds = entries.evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["liquidate", "liquidate"]
    amounts = page.get_by_test_id("entries").inner_text()
    assert xpf(800_000) in amounts and xpf(50_000) in amounts
    expect(page.get_by_test_id("history-item").first).to_be_visible()
    screenshot(page, "comptable-invoice-liquidated")

    assert BudgetLine.objects.get(pk=servers.pk).liquidated == 800_000
    assert BudgetLine.objects.get(pk=licences.pk).liquidated == 50_000
    assert page.errors == []


def test_the_assistant_enters_a_direct_invoice_seeing_each_lines_available_amount(page):
    ensure_tax_rates()
    UserFactory(username="comptable", roles=["comptabilite"])
    licences = BudgetLineFactory(code="F-6051-APPLI", label="Licences")
    fund({licences: 1_000_000})
    supplier = SupplierFactory(name="Microsoft NC")
    today = timezone.localdate()

    log_in(page, "comptable")
    page.goto(reverse("procurement:invoice-create"))
    form = page.get_by_test_id("invoice-form")
    form.locator("select[name=supplier]").select_option(str(supplier.pk))
    # Choosing the supplier swaps the matching region (and its commitment select) in:
    # wait for it, or the next choice would go to the select being replaced.
    expect(page.get_by_test_id("matching")).to_have_attribute("data-supplier", str(supplier.pk))
    htmx_idle(page)
    expect(page.get_by_test_id("commitment-lines")).to_have_count(0)
    row = page.locator("#invoice-lines tr.invoice-line-row").first
    row.locator("select[name$=budget_line]").select_option(str(licences.pk))
    box = row.get_by_test_id("line-availability")
    expect(box.locator("[data-figure=available]")).to_have_text(xpf(1_000_000))

    form.locator("input[name=supplier_number]").fill("MS-881")
    form.locator("input[name=invoice_date]").fill(f"{today - timedelta(days=3):%d/%m/%Y}")
    form.locator("input[name=received_on]").fill(f"{today - timedelta(days=1):%d/%m/%Y}")
    totals = page.get_by_test_id("invoice-totals")
    expect(totals.get_by_test_id("xpf-row")).to_be_hidden()
    form.locator("input[name=currency]").fill("EUR")
    row.locator("input[name$=description]").fill("Licences Office, 10 postes")
    row.locator("input[name$=amount]").fill("1000,00")
    # An invoice in euros: the conversion row shows, and the control is in euros.
    expect(totals.get_by_test_id("xpf-row")).to_be_visible()
    expect(totals.locator("[data-total=xpf-ht]")).to_have_text(xpf(119_332))
    expect(totals.locator("[data-total=ttc]")).to_have_text(f"1{NNBSP}110,00{NBSP}EUR")
    form.locator("input[name=total_ttc]").fill("1 110,00")
    expect(totals.locator("[data-total=difference]")).to_have_text(f"0,00{NBSP}EUR")
    page.get_by_test_id("save-invoice").click()
    page.wait_for_url(DETAIL_URL)
    assert page.get_by_test_id("amount-ht").inner_text() == xpf(119_332)
    assert "1\u202f000,00" in page.get_by_test_id("amount-ht-currency").inner_text()

    page.get_by_test_id("liquidate").click()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "liquidated")
    assert BudgetLine.objects.get(pk=licences.pk).liquidated == 119_332
    screenshot(page, "comptable-direct-invoice-liquidated")
    assert page.errors == []
