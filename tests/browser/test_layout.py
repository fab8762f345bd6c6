"""In a real browser at 1 366 × 768 (the smallest screen of the users): the main lists fit
the window with realistic rows (long labels, amounts in hundreds of millions), so that
their last column (the state, the execution rate) is on screen without scrolling sideways.

The currency is written once, in the amount columns' headers (« Montant HT (F CFP) »),
and the cells carry the grouped figure only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetLine
from procurement.models import Commitment
from procurement.services.invoices import invoice_create
from tests.browser.conftest import log_in as browser_log_in
from tests.browser.conftest import screenshot
from tests.factories import BudgetLineFactory, UserFactory, fund
from tests.procurement.factories import (
    SupplierFactory,
    invoice_commitment,
    invoice_line,
    purchase_request,
    request_line,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768
NNBSP = "\u202f"
LONG_LABEL = (
    "Maintenance évolutive et corrective du progiciel de gestion des ressources humaines "
    "et de la paie, y compris l'assistance aux utilisateurs de Brousse et des Îles"
)
LONG_SUPPLIER = "Société Calédonienne d'Ingénierie des Réseaux et des Télécommunications"
BIG = 987_654_321


def log_in(page, username: str) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    browser_log_in(page, username)


def assert_table_fits(page, name: str) -> list[str]:
    """The table's last header ends inside the viewport, and neither the table's scrolling
    wrapper nor the page scrolls sideways. Returns the header texts."""
    table = page.locator("#table-region table").first
    table.locator("tbody tr").first.wait_for()
    screenshot(page, f"layout-{name}")
    last = table.locator("thead th").last
    box = last.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= WIDTH, (
        f"{name}: the last column « {last.inner_text()} » ends at "
        f"{box['x'] + box['width']:.0f} px, beyond the {WIDTH} px window"
    )
    overflow = table.evaluate(
        """table => ({wrapper: table.parentElement.scrollWidth - table.parentElement.clientWidth,
                      page: document.documentElement.scrollWidth - window.innerWidth})"""
    )
    assert overflow == {"wrapper": 0, "page": 0}, f"{name} overflows sideways: {overflow}"
    return [text.strip() for text in table.locator("thead th").all_inner_texts()]


def first_row_cells(page) -> list[str]:
    return page.locator("#table-region tbody tr").first.locator("td").all_inner_texts()


@pytest.fixture
def realistic_rows():
    """Lines with long labels and long codes, credits in hundreds of millions, a submitted
    request, a commitment and an invoice of a supplier with a long name."""
    chef = UserFactory(username="chef", roles=["pilotage"])
    buyer = UserFactory(username="acheteur", roles=["achat"])
    accountant = UserFactory(username="comptable", roles=["comptabilite"])
    lines = [
        BudgetLineFactory(code=f"F-6156-WEB-PORTAIL-{n}", label=f"{LONG_LABEL} ({n})")
        for n in range(1, 4)
    ]
    fund({line: BIG for line in lines})
    supplier = SupplierFactory(name=LONG_SUPPLIER, payment_terms_days=30)
    purchase_request(
        user=buyer,
        supplier=supplier,
        subject=LONG_LABEL,
        lines=[request_line(lines[0], quantity="3", unit_price=45_678_900)],
        submit=True,
    )
    commitment = invoice_commitment(chef, [(lines[1], 123_456_789, None)], supplier=supplier)
    Commitment.objects.filter(pk=commitment.pk).update(subject=LONG_LABEL)
    today = timezone.localdate()
    invoice_create(
        user=accountant,
        supplier=supplier,
        supplier_number="SCIRT-2026-000123456",
        invoice_date=today - datetime.timedelta(days=3),
        received_on=today,
        commitment=commitment,
        lines=[invoice_line(commitment.lines.get(), amount_ht="100000000")],
    )
    return lines


def test_disco_fits_1366_px_with_its_execution_rate_visible(page, realistic_rows):
    log_in(page, "chef")
    page.goto(reverse("budgets:disco"))
    headers = assert_table_fits(page, "disco")
    assert headers[-1] == "Taux d’exécution"
    assert "Disponible (F\u00a0CFP)" in headers
    # The currency is in the header, not repeated in every cell; the code stays on one line.
    cells = first_row_cells(page)
    assert f"987{NNBSP}654{NNBSP}321" in cells
    assert not any("CFP" in cell for cell in cells)
    code = page.locator("#table-region tbody tr").first.locator("td").first
    assert code.evaluate("td => getComputedStyle(td).whiteSpace") == "nowrap"
    assert BudgetLine.objects.count() == 3


def test_request_list_of_the_approver_fits_1366_px_with_state_and_approver(page, realistic_rows):
    log_in(page, "chef")
    page.goto(reverse("procurement:request-list") + "?tab=to_approve")
    headers = assert_table_fits(page, "requests-to-approve")
    assert {"Montant HT (F\u00a0CFP)", "Montant TTC (F\u00a0CFP)", "État", "Approbateur"} <= set(
        headers
    )
    # 3 × 45 678 900 before tax, 22 % TGC: 167 184 774 with tax.
    cells = first_row_cells(page)
    assert f"137{NNBSP}036{NNBSP}700" in cells
    assert f"167{NNBSP}184{NNBSP}774" in cells


def test_buyers_own_request_list_fits_1366_px(page, realistic_rows):
    log_in(page, "acheteur")
    page.goto(reverse("procurement:request-list"))
    headers = assert_table_fits(page, "requests-mine")
    assert headers[-1] == "État"


def test_invoice_list_fits_1366_px_with_its_state(page, realistic_rows):
    log_in(page, "comptable")
    page.goto(reverse("procurement:invoice-list"))
    headers = assert_table_fits(page, "invoices")
    assert headers[-1] == "État"
    assert f"100{NNBSP}000{NNBSP}000" in first_row_cells(page)


def test_commitment_list_fits_1366_px_with_its_state(page, realistic_rows):
    log_in(page, "chef")
    page.goto(reverse("procurement:commitment-list"))
    headers = assert_table_fits(page, "commitments")
    assert headers[-1] == "État"
    assert f"123{NNBSP}456{NNBSP}789" in first_row_cells(page)
