"""In a real browser: pilotage writes the argument of a provision in place (htmx), and
the page keeps it once reloaded; the director reads it without a form."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reporting.models import ProvisionArgument
from tests.browser.conftest import log_in, screenshot
from tests.reporting.provisions_closing import closing  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pilotage_writes_an_argument_in_place(page, closing, directeur):  # noqa: F811
    log_in(page, "chef")
    page.goto(reverse("reporting:provisions") + "?year=2026")
    rows = page.get_by_test_id("provision-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("provisions-total")).to_contain_text("516")
    row = rows.filter(has_text="=Evil SARL")
    row.get_by_role("textbox").fill("Livré le 5/11, facture attendue en janvier")
    row.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Enregistré.")).to_be_visible()
    screenshot(page, "provisions-pilotage")
    assert ProvisionArgument.objects.get().text == "Livré le 5/11, facture attendue en janvier"
    page.reload()
    expect(
        page.get_by_test_id("provision-row").filter(has_text="=Evil SARL").get_by_role("textbox")
    ).to_have_value("Livré le 5/11, facture attendue en janvier")
    assert page.errors == []

    page.context.clear_cookies()
    log_in(page, "directeur")
    page.goto(reverse("reporting:provisions") + "?year=2026")
    expect(page.get_by_text("Livré le 5/11, facture attendue en janvier")).to_be_visible()
    expect(page.get_by_role("textbox")).to_have_count(0)
    screenshot(page, "provisions-direction")
