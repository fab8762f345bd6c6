"""The ledger checks kept by reporting: the nightly one, "Run now", and their result;
the beat schedule and the tasks it names."""

from datetime import date

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import BudgetLine, LedgerEntry
from dsi_finance.celery import app
from reporting import tasks
from reporting.models import LedgerCheck, Report
from reporting.services import reports as services
from tests.factories import BudgetLineFactory, FiscalYearFactory, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(chef):
    licences, reseau = BudgetLineFactory(code="F-LICENCES"), BudgetLineFactory(code="F-RESEAU")
    fund({licences: 1_000_000, reseau: 400_000})
    budget_services.credits_commit(user=chef, document=licences, amounts={licences: 300_000})
    budget_services.credits_liquidate(user=chef, document=licences, line=licences, amount=200_000)
    return {"licences": licences, "reseau": reseau}


def test_a_consistent_ledger_gives_a_clean_check(ledger):
    check = tasks.nightly_ledger_check()
    check = LedgerCheck.objects.get(pk=check)
    assert check.is_clean
    assert (check.lines_checked, check.entries_checked) == (2, LedgerEntry.objects.count())
    assert (check.differences, check.broken_balances, check.details) == (0, 0, [])
    assert check.triggered_by is None


def test_differences_and_broken_balances_are_counted_and_detailed(ledger, chef):
    reseau = ledger["reseau"]
    BudgetLine.objects.filter(pk=ledger["licences"].pk).update(committed=F("committed") + 7)
    reseau.refresh_from_db()
    lying = LedgerEntry.objects.create(
        budget_line=reseau,
        kind=LedgerEntry.Kind.COMMIT,
        amount=1_000,
        available_after=reseau.available,  # should be 1 000 less
        document_type=ContentType.objects.get_for_model(reseau),
        document_id=reseau.pk,
        user=chef,
    )
    BudgetLine.objects.filter(pk=reseau.pk).update(committed=F("committed") + 1_000)

    check = services.ledger_check_run(user=chef)

    assert not check.is_clean
    assert (check.differences, check.broken_balances) == (1, 1)
    assert check.triggered_by == chef
    assert check.details == [
        {
            "type": "difference",
            "line_id": ledger["licences"].pk,
            "code": "F-LICENCES",
            "figure": "committed",
            "cached": 300_007,
            "ledger": 300_000,
            "gap": 7,
        },
        {
            "type": "balance",
            "entry_id": lying.pk,
            "line_id": reseau.pk,
            "code": "F-RESEAU",
            "available_after": 400_000,
            "running": 399_000,
        },
    ]


def test_a_crash_of_the_check_is_recorded_not_lost(ledger, monkeypatch):
    def crash():
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "ledger_differences", crash)
    check = services.ledger_check_run()
    assert check.finished_at is not None
    assert check.error == "Le contrôle du grand livre a lui-même échoué : RuntimeError: disk full"
    assert not check.is_clean


@pytest.mark.parametrize("who", ["directeur", "controleur", "acheteur", "comptable"])
def test_only_pilotage_runs_a_check(who, request):
    with pytest.raises(PermissionDenied):
        services.ledger_check_request(user=request.getfixturevalue(who))
    assert LedgerCheck.objects.count() == 0


def test_run_now_fills_the_row_it_made_once(chef, ledger, django_capture_on_commit_callbacks):
    # Eager in the tests: the task runs as soon as it is sent, on commit.
    with django_capture_on_commit_callbacks(execute=True):
        check = services.ledger_check_request(user=chef)
    check.refresh_from_db()
    assert check.is_clean and check.lines_checked == 2
    finished = check.finished_at
    assert services.ledger_check_run(check_id=check.pk).finished_at == finished  # idempotent
    assert LedgerCheck.objects.count() == 1


def test_run_now_with_the_broker_down_says_why_on_the_row(
    chef, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(task, *, args, task_id):
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(services, "_publish", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        check = services.ledger_check_request(user=chef)
    check.refresh_from_db()
    assert check.finished_at is not None
    assert check.error.startswith("Les traitements en arrière-plan sont injoignables")


# --- the schedules -----------------------------------------------------------------


def test_the_beat_schedule_names_registered_tasks_at_the_right_times():
    schedule = settings.CELERY_BEAT_SCHEDULE
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    monthly = schedule["reporting-monthly-report"]["schedule"]
    assert (monthly.minute, monthly.hour, monthly.day_of_month) == ({0}, {6}, {1})
    nightly = schedule["reporting-nightly-ledger-check"]["schedule"]
    assert (nightly.minute, nightly.hour, len(nightly.day_of_month)) == ({30}, {2}, 31)
    requeue = schedule["reporting-requeue-reports"]["schedule"]
    assert len(requeue.minute) == 60
    assert settings.CELERY_TIMEZONE == "Pacific/Noumea"


def test_the_build_task_acknowledges_late_and_retries_transient_errors():
    task = app.tasks["reporting.build_report"]
    assert task.acks_late is True
    assert task.max_retries == 3
    assert OSError not in task.autoretry_for or ConnectionError in task.autoretry_for
    assert set(services.TRANSIENT_ERRORS) <= set(task.autoretry_for)


@pytest.mark.parametrize(
    ("today", "expected"), [(date(2026, 11, 1), (2026, 10)), (date(2027, 1, 1), (2026, 12))]
)
def test_the_monthly_report_is_the_month_just_ended(today, expected):
    assert tasks.month_just_ended(today) == expected


def test_the_monthly_task_requests_the_xlsx_and_the_pdf_of_last_month(monkeypatch, time_machine):
    FiscalYearFactory(year=2026)
    time_machine.move_to("2026-11-01T06:00:00+11:00")
    sent = []
    monkeypatch.setattr(services, "report_enqueue", lambda *, report_id: sent.append(report_id))
    ids = tasks.monthly_report()
    reports = list(Report.objects.filter(pk__in=ids).order_by("pk"))
    assert [(r.kind, r.format, r.parameters, r.requested_by) for r in reports] == [
        ("monthly_execution", "xlsx", {"year": 2026, "month": 10}, None),
        ("monthly_execution", "pdf", {"year": 2026, "month": 10}, None),
    ]


def test_the_monthly_task_skips_a_year_that_does_not_exist(time_machine):
    time_machine.move_to("2031-01-01T06:00:00+11:00")
    assert tasks.monthly_report() == []
    assert Report.objects.count() == 0


def test_the_checks_page_follows_a_running_check_and_stops_once_it_is_done(chef, client_as):
    client = client_as(chef)
    url = reverse("reporting:ledger-check-list")
    running = LedgerCheck.objects.create(triggered_by=chef)
    page = client.get(url).content.decode()
    assert 'data-testid="polling"' in page and 'hx-trigger="every 2s"' in page
    running.finished_at = timezone.now()
    running.save(update_fields=["finished_at"])
    page = client.get(url).content.decode()
    assert 'id="ledger-checks"' in page
    assert 'data-testid="polling"' not in page and "every 2s" not in page
