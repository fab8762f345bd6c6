"""The report lifecycle: request, build (idempotent), failure and retry, requeue."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

from dsi_finance.errors import ServiceError
from reporting.models import Report
from reporting.services import reports as services
from tests.factories import FiscalYearFactory
from tests.reporting import reports_lifecycle

pytestmark = pytest.mark.django_db

fake_builder = reports_lifecycle.fake_builder


@pytest.fixture
def year():
    return FiscalYearFactory(year=2026)


def request_monthly(user, django_capture_on_commit_callbacks, *, fmt="xlsx", **parameters):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = services.report_request(
            user=user,
            kind="monthly_execution",
            format=fmt,
            parameters={"year": 2026, "month": 10, **parameters},
        )
    return report, callbacks


def test_a_request_records_a_queued_report_and_sends_it_once_committed(
    chef, year, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(services, "report_enqueue", lambda *, report_id: sent.append(report_id))
    report, callbacks = request_monthly(chef, django_capture_on_commit_callbacks)
    assert sent == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [report.pk]
    report.refresh_from_db()
    assert (report.status, report.progress, report.requested_by) == ("queued", 0, chef)
    assert report.parameters == {"year": 2026, "month": 10}


@pytest.mark.parametrize(
    ("kind", "fmt", "parameters", "message"),
    [
        ("monthly_execution", "xlsx", {"year": 1990}, "L’exercice 1990 n’existe pas."),
        ("monthly_execution", "xlsx", {"year": 2026, "month": 13}, "Le mois doit être"),
        ("annual_magic", "xlsx", {}, "Type de rapport inconnu"),
        ("monthly_execution", "docx", {}, "Format de rapport inconnu"),
    ],
)
def test_bad_parameters_are_refused_in_french_and_record_nothing(
    chef, year, kind, fmt, parameters, message
):
    with pytest.raises(ServiceError) as refused:
        services.report_request(user=chef, kind=kind, format=fmt, parameters=parameters)
    assert message in " ".join(refused.value.messages)
    assert Report.objects.count() == 0


@pytest.mark.parametrize("who", ["directeur", "controleur", "acheteur", "comptable", "sans_role"])
def test_only_pilotage_requests_reports(who, request, year):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.report_request(user=user, kind="disco", format="xlsx", parameters={})
    assert Report.objects.count() == 0


def test_the_build_stores_one_file_and_building_twice_changes_nothing(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    built = services.report_build(report_id=report.pk, task_id="t-1")
    assert built.status == "done"
    assert built.progress == 100
    assert built.file.name == f"reports/report-{report.pk}.xlsx"
    content = default_storage.open(built.file.name).read()
    assert content == b"monthly_execution xlsx [('month', 10), ('year', 2026)]"
    assert built.file_size == len(content)
    assert built.started_at <= built.finished_at
    assert built.attempts == 1

    again = services.report_build(report_id=report.pk, task_id="t-1")
    assert fake_builder.calls == 1  # a done report is left as it is
    assert (again.status, again.attempts, again.finished_at) == (
        "done",
        1,
        built.finished_at,
    )
    assert default_storage.listdir("reports")[1] == [f"report-{report.pk}.xlsx"]


def test_a_rebuild_overwrites_the_partial_file_under_the_same_name(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    default_storage.save(f"reports/report-{report.pk}.xlsx", open(__file__, "rb"))  # noqa: SIM115
    services.report_build(report_id=report.pk)
    assert default_storage.listdir("reports")[1] == [f"report-{report.pk}.xlsx"]
    assert default_storage.open(f"reports/report-{report.pk}.xlsx").read().startswith(b"monthly")


def test_progress_is_written_while_the_builder_runs(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    seen = []
    fake_builder.pause = lambda: seen.append(
        Report.objects.values_list("status", "progress", "progress_note").get(pk=report.pk)
    )
    services.report_build(report_id=report.pk)
    assert seen == [("running", 10, "Lecture des lignes")]


def test_a_failure_is_recorded_in_french_then_a_retry_builds_it(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    fake_builder.fail_with = ValueError("division by zero in chapter 011")
    failed = services.report_build(report_id=report.pk)
    assert failed.status == "failed"
    assert failed.error == (
        "Le rapport n’a pas pu être construit. ValueError: division by zero in chapter 011"
    )
    assert failed.finished_at is not None
    assert not failed.file

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = services.report_retry(user=chef, report=failed)
    assert len(callbacks) == 1
    assert (queued.status, queued.error, queued.attempts) == ("queued", "", 1)
    fake_builder.fail_with = None
    done = services.report_build(report_id=report.pk)
    assert (done.status, done.attempts) == ("done", 2)
    statuses = list(done.history.order_by("history_id").values_list("status", flat=True))
    assert statuses == ["queued", "running", "failed", "queued", "running", "done"]


def test_only_a_failed_report_can_be_retried(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    with pytest.raises(ServiceError) as refused:
        services.report_retry(user=chef, report=report)
    assert "Seul un rapport en échec peut être relancé" in refused.value.messages[0]


def test_a_transient_error_is_recorded_then_raised_for_the_task_to_retry(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    fake_builder.fail_with = OperationalError("server closed the connection")
    with pytest.raises(OperationalError):
        services.report_build(report_id=report.pk, task_id="task-a")
    report.refresh_from_db()
    assert report.status == "failed"
    # The task's own retry (same task id) takes the failed report up again.
    fake_builder.fail_with = None
    assert services.report_build(report_id=report.pk, task_id="task-a").status == "done"


def test_a_failed_report_is_not_rebuilt_by_another_task(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    fake_builder.fail_with = ValueError("boom")
    services.report_build(report_id=report.pk, task_id="task-a")
    fake_builder.fail_with = None
    assert services.report_build(report_id=report.pk, task_id="task-b").status == "failed"
    assert fake_builder.calls == 1


def test_a_running_report_is_left_to_its_worker_unless_stale(
    chef, year, fake_builder, django_capture_on_commit_callbacks
):
    report, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=report.pk).update(
        status="running", task_id="lost-worker", started_at=timezone.now(), attempts=1
    )
    assert services.report_build(report_id=report.pk, task_id="other").status == "running"
    assert fake_builder.calls == 0

    Report.objects.filter(pk=report.pk).update(started_at=timezone.now() - timedelta(hours=2))
    taken_over = services.report_build(report_id=report.pk, task_id="other")
    assert (taken_over.status, taken_over.attempts, fake_builder.calls) == ("done", 2, 1)


def test_a_build_of_a_missing_report_does_nothing(fake_builder):
    assert services.report_build(report_id=999999) is None
    assert fake_builder.calls == 0


def test_an_unreachable_broker_leaves_the_report_queued_and_says_so(
    chef, year, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(task, *, args, task_id):
        from kombu.exceptions import OperationalError as BrokerDown

        raise BrokerDown("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(services, "_publish", refuse)
    report, callbacks = request_monthly(chef, django_capture_on_commit_callbacks)
    callbacks[0]()
    report.refresh_from_db()
    assert (report.status, report.enqueued_at) == ("queued", None)
    assert "injoignables" in services.report_waiting_message(report)


def test_the_requeue_sends_the_reports_whose_task_is_missing(
    chef, year, monkeypatch, django_capture_on_commit_callbacks
):
    now = timezone.now()
    never_sent, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    lost, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    waiting, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    stale, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    running, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    done, _ = request_monthly(chef, django_capture_on_commit_callbacks)
    Report.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(minutes=30))
    Report.objects.filter(pk=waiting.pk).update(enqueued_at=now - timedelta(minutes=2))
    Report.objects.filter(pk=stale.pk).update(status="running", started_at=now - timedelta(hours=3))
    Report.objects.filter(pk=running.pk).update(status="running", started_at=now)
    Report.objects.filter(pk=done.pk).update(status="done", enqueued_at=None)
    published = []
    monkeypatch.setattr(
        services, "_publish", lambda task, *, args, task_id: published.append(args[0])
    )
    assert services.reports_requeue_waiting(now=now) == 3
    assert published == [never_sent.pk, lost.pk, stale.pk]
    never_sent.refresh_from_db()
    assert never_sent.enqueued_at is not None
    assert never_sent.task_id


def test_the_requeue_stops_at_the_first_refusal_of_the_broker(
    chef, year, monkeypatch, django_capture_on_commit_callbacks
):
    for _ in range(3):
        request_monthly(chef, django_capture_on_commit_callbacks)
    calls = []

    def refuse(task, *, args, task_id):
        calls.append(args[0])
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(services, "_publish", refuse)
    assert services.reports_requeue_waiting() == 0
    assert len(calls) == 1
    assert Report.objects.filter(status="queued", enqueued_at__isnull=True).count() == 3


def test_the_download_name_is_french_and_dated(chef, year):
    report = Report(
        kind="monthly_execution",
        format="pdf",
        parameters={"year": 2026, "month": 3},
        finished_at=timezone.make_aware(timezone.datetime(2026, 4, 1, 6, 5)),
    )
    assert services.report_download_name(report) == ("execution-budgetaire-2026-03_2026-04-01.pdf")
