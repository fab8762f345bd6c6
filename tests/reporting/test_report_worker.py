"""Reports built by a real Celery worker, through a real broker.

With CELERY_BROKER_URL=redis://… (CI), a report requested over HTTP is built by a
worker consuming Redis, downloaded over HTTP, and its content read back (openpyxl,
pdftotext). With the broker stopped, the request answers at once, the report stays
queued and nothing is lost: once the broker is back, the requeue schedule sends it
and a worker builds it. The embedded broker (Kombu's filesystem transport) runs the
same path with no server at all.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from budgets import services as budget_services
from reporting import tasks
from reporting.models import Report
from tests.conftest import broker_url, skip_unless
from tests.factories import BudgetLineFactory, FiscalYearFactory, fund
from tests.reporting import reports_lifecycle
from tests.reporting.report_helpers import normalise, pdf_text
from tests.reporting.reports_lifecycle import project_app

REQUEST = reverse("reporting:report-request")
# A port where nothing listens: the broker is "stopped".
STOPPED_BROKER = "redis://127.0.0.1:6390/0"

worker_friendly_sqlite = reports_lifecycle.worker_friendly_sqlite


@pytest.fixture
def books(chef, settings, tmp_path):
    """This month's year with two funded lines, a commitment and a liquidation."""
    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.localdate()
    year = FiscalYearFactory(year=today.year)
    licences = BudgetLineFactory(fiscal_year=year, code="F-LICENCES")
    reseau = BudgetLineFactory(fiscal_year=year, code="F-RESEAU")
    fund({licences: 1_000_000, reseau: 400_000})
    budget_services.credits_commit(user=chef, document=licences, amounts={licences: 300_000})
    budget_services.credits_liquidate(user=chef, document=licences, line=licences, amount=200_000)
    return {"year": today.year, "month": today.month}


def filesystem_broker(tmp_path) -> tuple[str, dict]:
    queue = tmp_path / "queue"
    queue.mkdir(exist_ok=True)
    return "filesystem://localhost//", {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }


def wait_until_finished(report_id: int, timeout: float = 120) -> Report:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = Report.objects.get(pk=report_id)
        if report.status in (Report.Status.DONE, Report.Status.FAILED):
            return report
        time.sleep(0.2)
    raise AssertionError(f"report {report_id} still {report.status} after {timeout} s")


def request_over_http(client, books, fmt: str) -> tuple[Report, str]:
    response = client.post(
        REQUEST,
        {
            "kind": "monthly_execution",
            "format": fmt,
            "year": books["year"],
            "month": books["month"],
        },
        follow=True,
    )
    assert response.status_code == 200
    return Report.objects.latest("pk"), response.content.decode()


def xlsx_cells(path) -> list:
    workbook = load_workbook(path, read_only=True)
    return [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    ]


def check_download(client, report: Report, tmp_path) -> None:
    response = client.get(reverse("reporting:report-download", args=[report.pk]))
    assert response.status_code == 200
    assert f"execution-budgetaire-{report.parameters['year']}-" in response["Content-Disposition"]
    path = tmp_path / f"downloaded.{report.format}"
    path.write_bytes(b"".join(response.streaming_content))
    assert path.stat().st_size == report.file_size
    if report.format == "xlsx":
        cells = xlsx_cells(path)
        assert "F-LICENCES" in cells and "F-RESEAU" in cells
        assert 1_400_000 in cells  # opened on the two lines
        assert 300_000 in cells and 200_000 in cells  # committed, liquidated
    else:
        text = normalise(pdf_text(path))
        assert "F-LICENCES" in text and "F-RESEAU" in text
        assert "1 400 000" in text


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker_friendly_sqlite")
def test_redis_carries_a_report_requested_over_http_to_a_real_worker(
    chef, client_as, books, tmp_path
):
    skip_unless(broker_url().startswith("redis://"), "needs CELERY_BROKER_URL=redis://… (CI)")
    client = client_as(chef)
    with project_app(broker_url()) as app:
        assert app.connection_for_write().transport_cls == "redis"
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            xlsx, page = request_over_http(client, books, "xlsx")
            assert "Rapport demandé" in page
            pdf, _ = request_over_http(client, books, "pdf")
            xlsx, pdf = wait_until_finished(xlsx.pk), wait_until_finished(pdf.pk)
    for report in (xlsx, pdf):
        assert report.status == "done", report.error
        assert report.enqueued_at <= report.started_at <= report.finished_at
        assert report.attempts == 1
        check_download(client, report, tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker_friendly_sqlite")
def test_with_the_broker_stopped_the_request_answers_queued_and_the_report_is_built_later(
    chef, client_as, books, tmp_path, monkeypatch
):
    # Celery lets CELERY_BROKER_URL override the app's own: the stopped broker must win.
    real_broker = broker_url()
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    client = client_as(chef)
    with project_app(STOPPED_BROKER):
        started = time.monotonic()
        report, page = request_over_http(client, books, "xlsx")
        assert time.monotonic() - started < 10  # answered, not hung on the broker
    assert "injoignables pour le moment" in page
    assert (report.status, report.enqueued_at) == ("queued", None)

    # The broker is back: the requeue schedule sends the report, a worker builds it.
    if real_broker.startswith("redis://"):
        monkeypatch.setenv("CELERY_BROKER_URL", real_broker)
        back = project_app(real_broker)
    else:
        back = project_app(*filesystem_broker(tmp_path))
    with back as app, start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert tasks.requeue_reports() == 1
        report = wait_until_finished(report.pk)
    assert report.status == "done", report.error
    assert report.enqueued_at is not None
    check_download(client, report, tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker_friendly_sqlite")
def test_the_embedded_broker_builds_a_report_with_no_server(
    chef, client_as, books, tmp_path, monkeypatch
):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    client = client_as(chef)
    with project_app(*filesystem_broker(tmp_path)) as app:
        assert app.connection_for_write().transport_cls == "filesystem"
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            report, _ = request_over_http(client, books, "pdf")
            report = wait_until_finished(report.pk)
    assert report.status == "done", report.error
    check_download(client, report, tmp_path)
