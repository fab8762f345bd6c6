"""In a real browser set to American English (the page fixture's locale en-US): the
director records a vote, and its date reads and is typed jj/mm/aaaa all the same,
picked in a French calendar or typed on the keyboard, never taken month first."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from budgets import services
from budgets.models import BudgetRevision
from tests.browser.conftest import log_in, screenshot
from tests.factories import BudgetLineFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip
INVALID = re.compile(r"\bis-invalid\b")


@pytest.fixture
def submitted_bp(db):
    """A BP of 2026 with one line, submitted: waiting for the director's vote."""
    UserFactory(username="directeur", roles=["direction"])
    admin = get_user_model().objects.create_superuser("bp-admin", "bp@example.nc", "x")
    line = BudgetLineFactory(code="F-6156-INFRA", label="Maintenance des serveurs")
    revision = services.revision_create(user=admin, fiscal_year=line.fiscal_year, kind="BP")
    services.revision_item_set(user=admin, revision=revision, budget_line=line, amount=1_000_000)
    services.revision_submit(user=admin, revision=revision)
    return revision


def open_vote_form(page, revision):
    assert page.evaluate("navigator.language") == "en-US"
    log_in(page, "directeur")
    page.goto(reverse("budgets:revision-detail", args=[revision.pk]))
    page.on("dialog", lambda dialog: dialog.accept())  # the vote asks for confirmation
    form = page.get_by_test_id("vote-form")
    field = form.locator("input[name=vote_date]")
    expect(field).to_have_attribute("type", "text")
    expect(field).to_have_attribute("placeholder", "jj/mm/aaaa")
    expect(field).to_have_value("")
    return form, field


def record_vote(page, form, revision) -> BudgetRevision:
    form.locator("input[name=vote_reference]").fill("Délibération n° 2026-099")
    form.get_by_role("button", name="Enregistrer le vote").click()
    expect(page.get_by_text("vote enregistré")).to_be_visible()
    return BudgetRevision.objects.get(pk=revision.pk)


def test_the_vote_date_is_picked_in_a_french_calendar_in_an_english_browser(page, submitted_bp):
    form, field = open_vote_form(page, submitted_bp)
    field.click()
    picker = page.locator(".datepicker.active")
    expect(picker).to_be_visible()
    # The calendar speaks French and starts on Monday, whatever the browser's language.
    expect(picker.locator(".days-of-week .dow").first).to_have_text("lu")
    title = picker.locator(".view-switch")
    month, year = title.inner_text().split()
    steps = (2026 - int(year)) * 12 + (12 - (MONTHS.index(month) + 1))
    button = picker.locator(".next-button" if steps > 0 else ".prev-button")
    for _step in range(abs(steps)):
        button.click()
    expect(title).to_have_text("décembre 2026")
    picker.locator(".datepicker-cell.day:not(.prev):not(.next)", has_text="8").first.click()

    expect(field).to_have_value("08/12/2026")
    expect(picker).to_be_hidden()
    screenshot(page, "directeur-vote-date-picked")
    revision = record_vote(page, form, submitted_bp)
    assert (revision.state, revision.vote_date) == ("voted", datetime.date(2026, 12, 8))
    assert page.errors == []


def test_the_vote_date_is_typed_day_first_and_a_month_first_one_is_kept_and_refused(
    page, submitted_bp
):
    form, field = open_vote_form(page, submitted_bp)
    # Typed month first, the American way: it stays as typed, marked, and is refused.
    field.click()
    field.press_sequentially("12/31/2026")
    field.press("Tab")
    expect(field).to_have_value("12/31/2026")
    expect(field).to_have_class(INVALID)
    form.locator("input[name=vote_reference]").fill("Délibération n° 2026-099")
    form.get_by_role("button", name="Enregistrer le vote").click()
    expect(page.get_by_role("alert").filter(has_text="« 12/31/2026 »")).to_be_visible()
    assert BudgetRevision.objects.get(pk=submitted_bp.pk).state == "submitted"

    # Eight digits on the keyboard alone: the slashes come by themselves.
    form, field = page.get_by_test_id("vote-form"), page.locator("input[name=vote_date]")
    field.click()
    field.press_sequentially("08122026")
    expect(field).to_have_value("08/12/2026")
    field.press("Tab")
    expect(field).to_have_value("08/12/2026")
    expect(field).not_to_have_class(INVALID)
    screenshot(page, "directeur-vote-date-typed")
    revision = record_vote(page, form, submitted_bp)
    assert (revision.state, revision.vote_date) == ("voted", datetime.date(2026, 12, 8))
    assert page.errors == []
