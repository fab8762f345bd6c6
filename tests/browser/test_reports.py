"""In a real browser: `chef` requests the monthly execution report, watches its page
follow the build that a real Celery worker runs (htmx polling, no reload), then
downloads the file and it opens."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from budgets import services
from reporting.models import LedgerCheck, Report
from reporting.selectors.execution import last_complete_month
from tests.browser.conftest import htmx_idle, log_in, screenshot
from tests.conftest import broker_url
from tests.factories import BudgetLineFactory, FiscalYearFactory, UserFactory, fund
from tests.reporting import reports_lifecycle
from tests.reporting.reports_lifecycle import project_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

worker_friendly_sqlite = reports_lifecycle.worker_friendly_sqlite


def test_chef_requests_the_monthly_report_watches_it_finish_and_downloads_it(
    page, settings, tmp_path, monkeypatch, worker_friendly_sqlite
):
    settings.MEDIA_ROOT = tmp_path / "media"
    chef = UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
    today = timezone.localdate()
    year = FiscalYearFactory(year=today.year)
    licences = BudgetLineFactory(fiscal_year=year, code="F-LICENCES", label="Licences")
    fund({licences: 2_500_000})
    services.credits_commit(user=chef, document=licences, amounts={licences: 900_000})

    # The worker's broker: Redis when the suite runs with it (CI), else the embedded one.
    if broker_url().startswith("redis://"):
        broker, options = broker_url(), {"socket_connect_timeout": 3}
    else:
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
        queue = tmp_path / "queue"
        queue.mkdir()
        broker = "filesystem://localhost//"
        options = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(tmp_path / "control"),
            "store_processed": False,
        }

    with project_app(broker, options) as app:
        log_in(page, "chef")
        page.goto(reverse("reporting:report-list"))
        page.get_by_test_id("request-link").click()
        page.get_by_label("Rapport").select_option("monthly_execution")
        # Choosing the kind swaps its parameters in: act on them once the swap is done.
        htmx_idle(page)
        page.get_by_label("Tableur (XLSX)").check()
        # The form starts on the last complete month, and says so.
        year, month = last_complete_month(today)
        # (In January that is last year's December, which is not in the books here: the
        # month is then left to its default, the empty choice.)
        expect(page.get_by_label("Mois")).to_have_value(str(month) if year == today.year else "")
        expect(page.get_by_test_id("help-month")).to_contain_text("dernier mois complet")
        page.get_by_label("Mois").select_option(str(today.month))  # the month under way
        htmx_idle(page)
        expect(page.get_by_label("Mois")).to_have_value(str(today.month))
        screenshot(page, "report-form")
        page.get_by_test_id("submit").click()

        # No worker yet: the page says the report waits, and polls.
        region = page.get_by_test_id("status-region")
        expect(region).to_have_attribute("data-status", "queued")
        expect(page.get_by_test_id("progress")).to_be_visible()
        expect(page.get_by_test_id("building")).to_contain_text("construction est en cours")
        report = Report.objects.get()
        assert report.requested_by == chef
        url = page.url
        screenshot(page, "report-queued")

        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            expect(region).to_have_attribute("data-status", "done", timeout=60_000)
        assert page.url == url  # followed in place, without a reload
        expect(page.get_by_test_id("status")).to_have_text("Terminé")
        expect(page.get_by_test_id("progress")).to_have_count(0)
        # Nothing on the page says it is still being built; the size reads in Ko.
        expect(page.get_by_text("construction est en cours")).to_have_count(0)
        expect(page.get_by_test_id("download")).to_contain_text(" Ko)")
        screenshot(page, "report-done")

        with page.expect_download() as info:
            page.get_by_test_id("download").click()
        download = info.value
        assert download.suggested_filename.startswith(
            f"execution-budgetaire-{today.year}-{today.month:02d}_"
        )
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        page.goto(reverse("reporting:report-list"))
        expect(page.get_by_test_id("count")).to_contain_text("1 rapport")
        screenshot(page, "report-list")
    cells = [
        cell
        for sheet in load_workbook(path, read_only=True).worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    ]
    assert "F-LICENCES" in cells
    assert 2_500_000 in cells and 900_000 in cells
    assert page.errors == []


def test_chef_reads_the_ledger_checks_and_runs_one_now(page):
    UserFactory(username="chef", first_name="Marie", roles=["pilotage"])
    line = BudgetLineFactory(code="F-RESEAU", label="Réseau")
    fund({line: 400_000})
    LedgerCheck.objects.create(
        lines_checked=1,
        entries_checked=1,
        differences=1,
        details=[
            {
                "type": "difference",
                "line_id": line.pk,
                "code": "F-RESEAU",
                "figure": "committed",
                "cached": 1_000,
                "ledger": 0,
                "gap": 1_000,
            }
        ],
        finished_at=timezone.now(),
    )
    log_in(page, "chef")
    page.goto(reverse("reporting:ledger-check-list"))
    checks = page.get_by_test_id("check")
    expect(checks).to_have_count(1)
    expect(checks.first).to_have_attribute("data-clean", "no")
    checks.first.get_by_text("Détails").click()
    expect(page.get_by_test_id("details")).to_contain_text("F-RESEAU")
    # The suite's workers are eager: the check runs as soon as it is sent.
    page.get_by_test_id("run-now").click()
    expect(checks).to_have_count(2)
    # A running check is followed by the page itself until it ends (the machine may be busy).
    expect(checks.first).to_have_attribute("data-clean", "yes", timeout=60_000)
    expect(checks.first.get_by_test_id("counts")).to_contain_text(
        "Lignes vérifiées : 1, écritures : 1 · totaux en écart : 0"
    )
    screenshot(page, "ledger-checks")
    assert page.errors == []
