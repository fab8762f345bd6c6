"""In a real browser: the section head types a DM's changes in two rows of the revision
editor, sees the new amounts and the section totals recomputed as he types (one amount
typed `250.000`, read by the server as 250 000), is warned when he tries to leave with
the rows unsaved, saves them all at once, reloads and finds both saved."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from budgets import services
from budgets.models import RevisionItem
from tests.browser.conftest import log_in, screenshot
from tests.factories import (
    BudgetLineFactory,
    ChapterFactory,
    CostCentreFactory,
    NatureAccountFactory,
    UserFactory,
    fund,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\u00a0"
NNBSP = "\u202f"


def xpf(francs: int, *, signed: bool = False) -> str:
    sign = "-" if francs < 0 else ("+" if signed and francs > 0 else "")
    return sign + f"{abs(francs):,}".replace(",", NNBSP) + f"{NBSP}F{NBSP}CFP"


def test_the_section_head_types_two_rows_is_warned_before_leaving_and_saves_them_all(page):
    chef = UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
    opex = ChapterFactory(code="011", label="Charges à caractère général", section="F")
    centre = CostCentreFactory(code="INFRA", label="Infrastructures")
    maint = BudgetLineFactory(
        code="F-MAINT",
        label="Maintenance des serveurs",
        nature_account=NatureAccountFactory(number="6156", chapter=opex),
        cost_centre=centre,
    )
    tel = BudgetLineFactory(
        code="F-TEL",
        label="Liaisons télécom",
        fiscal_year=maint.fiscal_year,
        nature_account=NatureAccountFactory(number="6262", chapter=opex),
        cost_centre=centre,
    )
    fund({maint: 12_000_000, tel: 4_500_000})
    dm1 = services.revision_create(user=chef, fiscal_year=maint.fiscal_year, kind="DM1")
    url = reverse("budgets:revision-detail", args=[dm1.pk])

    log_in(page, "chef")
    page.errors.clear()  # only this page's errors matter here
    page.goto(url)
    maint_row, tel_row = page.locator(f"#line-{maint.pk}"), page.locator(f"#line-{tel.pk}")
    counter = page.get_by_test_id("unsaved-count")
    section_change = page.locator('#section-total-F [data-sum="change"]')
    section_new = page.locator('#section-total-F [data-sum="new"]')
    expect(counter).to_have_text("")
    expect(page.get_by_test_id("save-all")).to_be_disabled()  # nothing to save yet

    # Type a cut in the first row: its new amount and the section follow as one types.
    maint_row.locator("[data-amount]").click()
    maint_row.locator("[data-amount]").press_sequentially("-1 500 000")
    maint_row.locator("[data-justification]").fill("Fin du contrat de l'ancien SAN")
    expect(maint_row.get_by_test_id("new")).to_have_text(xpf(10_500_000))
    expect(counter).to_have_text("1 ligne modifiée non enregistrée")

    # "250.000" is two hundred and fifty thousand: the server's echo says so, and the
    # recomputation takes its figure (until it answers, a dotted amount shows "?").
    tel_row.locator("[data-amount]").click()
    tel_row.locator("[data-amount]").press_sequentially("250.000")
    expect(tel_row.get_by_test_id("francs-understood")).to_have_text(f"= {xpf(250_000)}")
    expect(tel_row.get_by_test_id("new")).to_have_text(xpf(4_750_000))
    expect(counter).to_have_text("2 lignes modifiées non enregistrées")
    expect(section_change).to_have_text(xpf(-1_250_000))
    expect(section_new).to_have_text(xpf(15_250_000))
    expect(page.locator('[data-testid="grand-total"] [data-sum="new"]')).to_have_text(
        xpf(15_250_000)
    )
    screenshot(page, "revision-editor-typed")

    # Leaving now would lose both rows: the browser asks first; staying keeps them.
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    with page.expect_event("dialog"):
        page.get_by_role("link", name="Budget primitif et décisions modificatives").click()
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(url)
    expect(tel_row.locator("[data-amount]")).to_have_value("250.000")
    assert not RevisionItem.objects.filter(revision=dm1).exists()

    # Save all: one POST, no warning, both rows saved.
    with page.expect_request(
        lambda request: (
            request.method == "POST"
            and request.url.endswith(reverse("budgets:revision-items-save", args=[dm1.pk]))
        )
    ) as posted:
        page.get_by_test_id("save-all").click()
    body = posted.value.post_data
    assert f"line-{maint.pk}-amount" in body and f"line-{tel.pk}-amount" in body
    page.wait_for_url(f"**{url}")
    expect(page.get_by_role("alert").filter(has_text="2 lignes enregistrées")).to_be_visible()
    assert dialogs == ["beforeunload"]  # saving did not ask

    page.reload()
    maint_row, tel_row = page.locator(f"#line-{maint.pk}"), page.locator(f"#line-{tel.pk}")
    expect(maint_row.locator("[data-amount]")).to_have_value("-1 500 000")
    expect(tel_row.locator("[data-amount]")).to_have_value("250 000")
    expect(tel_row.get_by_test_id("new")).to_have_text(xpf(4_750_000))
    expect(page.get_by_test_id("unsaved-count")).to_have_text("")
    assert dialogs == ["beforeunload"]  # the reload had nothing to lose
    saved = {
        item.budget_line.code: (item.amount, item.justification)
        for item in RevisionItem.objects.filter(revision=dm1).select_related("budget_line")
    }
    assert saved == {
        "F-MAINT": (-1_500_000, "Fin du contrat de l'ancien SAN"),
        "F-TEL": (250_000, ""),
    }
    assert page.errors == []
