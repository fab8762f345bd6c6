"""Celery tasks of reporting: they take ids, call a service, and are idempotent.

The schedules (celery beat, CELERY_BEAT_SCHEDULE in the settings): the requeue
of reports whose task went missing every minute, the monthly execution report
on the 1st at 06:00 (Nouméa), the ledger check every night.

This module imports the service; the service never imports it back: it sends these
tasks by their names (BUILD_REPORT_TASK, RUN_LEDGER_CHECK_TASK).
"""

from celery import shared_task

from reporting.selectors.execution import last_complete_month
from reporting.services import reports as services


@shared_task(
    name=services.BUILD_REPORT_TASK,
    bind=True,
    acks_late=True,
    autoretry_for=services.TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=3,
)
def build_report(self, report_id: int) -> str | None:
    """Builds one report (idempotent: a done report is left as it is). A transient
    error (database or broker) is retried with a backoff; any failure stays visible
    on the report."""
    report = services.report_build(report_id=report_id, task_id=self.request.id)
    return report.status if report else None


@shared_task(name="reporting.requeue_reports")
def requeue_reports() -> int:
    """Sends again the reports whose task never reached the workers or went missing."""
    return services.reports_requeue_waiting()


# The month the schedule reports on: the last complete one (kept under this name).
month_just_ended = last_complete_month


@shared_task(name="reporting.monthly_report")
def monthly_report() -> list[int]:
    """The monthly execution report of the month just ended, as XLSX and as PDF,
    requested by nobody (the schedule). Returns the ids of the reports queued."""
    return [report.pk for report in services.monthly_reports_request()]


@shared_task(name="reporting.nightly_ledger_check")
def nightly_ledger_check() -> int:
    """Runs check_ledger and keeps its result (shown to pilotage)."""
    return services.ledger_check_run(user=None).pk


@shared_task(name=services.RUN_LEDGER_CHECK_TASK, acks_late=True)
def run_ledger_check(check_id: int) -> int:
    """Runs the ledger check that someone asked for ("Run now")."""
    return services.ledger_check_run(check_id=check_id).pk
