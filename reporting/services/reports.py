"""The life of a report (queued → running → done or failed) and the ledger checks.

A request creates the Report row in its transaction and enqueues its Celery task
once that transaction commits (`transaction.on_commit`): a worker never looks
for a row that is not there yet. Publishing uses its own short-lived connection
that neither retries nor waits (`report_enqueue`): with the broker down, the
request answers at once, the row stays `queued` with `enqueued_at` empty, and
`reports_requeue_waiting` (every minute, through celery beat) sends it again.

The build (`report_build`, what the task calls) is idempotent: it claims the row
under a lock (a done report is left alone, a running one is only taken over when
stale or when it is this very task's earlier attempt), writes the file under a
name derived from the row (`reports/report-<pk>.<ext>`, replacing any partial
one) and records a failure on the row, in French, instead of losing it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from pathlib import Path

from celery import current_app
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from budgets.models import BudgetLine, LedgerEntry
from budgets.selectors import broken_balances, ledger_differences
from dsi_finance.errors import ServiceError
from dsi_finance.roles import require_capability
from reporting import reports as catalogue
from reporting.models import LedgerCheck, Report
from reporting.selectors.execution import last_complete_month

logger = logging.getLogger(__name__)

__all__ = [
    "DATA_ERRORS",
    "LEDGER_CHECK_CAPABILITY",
    "TRANSIENT_ERRORS",
    "ledger_check_request",
    "ledger_check_run",
    "monthly_reports_request",
    "report_build",
    "report_download_name",
    "report_enqueue",
    "report_request",
    "report_retry",
    "report_waiting_message",
    "reports_requeue_waiting",
]

REQUEST = "request_report"
# The ledger checks are shown to pilotage only: the capability it alone holds that
# is closest to "keep the books right" is the closing's.
LEDGER_CHECK_CAPABILITY = "run_closing"
# A running report whose worker has said nothing for this long is taken over.
STALE_AFTER = timedelta(minutes=getattr(settings, "REPORT_STALE_AFTER_MINUTES", 30))
# A queued report sent this long ago and still not started is sent again.
RESEND_AFTER = timedelta(minutes=getattr(settings, "REPORT_RESEND_AFTER_MINUTES", 10))
# How many differences and broken balances a ledger check keeps for its page.
DETAILS_KEPT = 100

try:  # kombu's errors when the broker cannot be reached
    from kombu.exceptions import OperationalError as BrokerError
except ImportError:  # pragma: no cover
    BrokerError = OSError

# Errors worth another attempt later (the task retries them with a backoff).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    BrokerError,
    ConnectionError,
    TimeoutError,
)
# Errors of the data: the report cannot be built as asked and another attempt would
# fail the same way (a rule refused it, its parameters no longer hold, an object it
# reads is gone). The report fails with a French message naming the cause.
DATA_ERRORS: tuple[type[BaseException], ...] = (ValidationError, ObjectDoesNotExist)

# The Celery tasks the service sends, by name (reporting.tasks defines them and imports
# this module; this module never imports it back).
BUILD_REPORT_TASK = "reporting.build_report"
RUN_LEDGER_CHECK_TASK = "reporting.run_ledger_check"


# ---------------------------------------------------------------------------
# Requesting


def _clean(kind: str, format: str, parameters) -> dict:
    """The kind's validated parameters, or a ServiceError with the French messages."""
    if kind not in Report.Kind.values:
        raise ServiceError(_("Unknown report kind: “%(kind)s”.") % {"kind": kind}, code="kind")
    if format not in Report.Format.values:
        raise ServiceError(
            _("Unknown report format: “%(format)s”.") % {"format": format}, code="format"
        )
    if parameters is not None and not hasattr(parameters, "get"):
        raise ServiceError(_("The parameters must be an object."), code="parameters")
    try:
        return catalogue.clean_parameters(kind, parameters or {})
    except ValidationError as error:
        detail = error.error_dict if hasattr(error, "error_dict") else error.messages
        raise ServiceError(detail, code="parameters") from None


def report_request(*, user, kind: str, format: str, parameters, enqueue: bool = True) -> Report:
    """A new queued report of `kind` as `format`; its task is sent once the caller's
    transaction commits. `user` None is celery beat (the scheduled reports).
    `enqueue=False` sends nothing: the caller builds it at once (the demo seed, whose
    worker is not running yet; the requeue schedule would send it after RESEND_AFTER).

    Whether the workers got it shows on the row: `enqueued_at` stays empty while
    the broker is unreachable (`report_waiting_message` says so to the user).
    """
    if user is not None:
        require_capability(user, REQUEST)
    cleaned = _clean(kind, format, parameters)
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind, format=format, parameters=cleaned, requested_by=user
        )
        if enqueue:
            transaction.on_commit(lambda: report_enqueue(report_id=report.pk))
    return report


def monthly_reports_request(*, today: date | None = None, enqueue: bool = True) -> list[Report]:
    """What celery beat asks for on the 1st: the monthly execution report of the last
    complete month on `today` (by default today in Nouméa), as XLSX and as PDF,
    requested by nobody. A report whose parameters are refused (no such fiscal year)
    is logged and left out. `enqueue`: as for report_request."""
    year, month = last_complete_month(today or timezone.localdate())
    requested = []
    for fmt in (Report.Format.XLSX, Report.Format.PDF):
        try:
            report = report_request(
                user=None,
                kind=Report.Kind.MONTHLY_EXECUTION,
                format=fmt,
                parameters={"year": year, "month": month},
                enqueue=enqueue,
            )
        except ServiceError as error:
            logger.error("Monthly report %s/%s not requested: %s", month, year, error.messages)
            continue
        requested.append(report)
    return requested


def report_waiting_message(report: Report) -> str | None:
    """What to tell the requester when the workers could not be reached, else None."""
    if report.status == Report.Status.QUEUED and report.enqueued_at is None:
        return _(
            "The report is recorded but the background workers cannot be reached right now: "
            "it stays queued and will be built as soon as they are back. Nothing is lost."
        )
    return None


def report_retry(*, user, report: Report) -> Report:
    """A failed report queued again (its attempts are kept, its history shows the
    failure); the task is sent once the transaction commits."""
    require_capability(user, REQUEST)
    with transaction.atomic():
        # Locked: two clicks on "Retry" queue it once.
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status != Report.Status.FAILED:
            raise ServiceError(
                _("Only a failed report can be retried; this one is “%(status)s”.")
                % {"status": report.get_status_display()},
                code="status",
            )
        report.status = Report.Status.QUEUED
        report.progress = 0
        report.progress_note = ""
        report.error = ""
        report.enqueued_at = None
        report.started_at = None
        report.finished_at = None
        report.save()
        transaction.on_commit(lambda: report_enqueue(report_id=report.pk))
    return report


def _task(name: str):
    """The registered Celery task called `name`. When the process has not imported the
    apps' tasks modules yet (a web process: Celery's autodiscovery is lazy), it runs the
    autodiscovery first."""
    app = current_app
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def _publish(task, *, args: list, task_id: str) -> None:
    """Sends `task` on a connection of its own that neither retries nor waits: with the
    broker down this raises within a second instead of blocking the request."""
    if task.app.conf.task_always_eager:
        task.apply_async(args=args, task_id=task_id)
        return
    options = {
        **(task.app.conf.broker_transport_options or {}),
        "max_retries": 0,
        "interval_start": 0,
    }
    with task.app.connection_for_write(transport_options=options) as connection:
        task.apply_async(args=args, task_id=task_id, connection=connection, retry=False)


def report_enqueue(*, report_id: int) -> bool:
    """Sends the report's build task to the workers; True when the broker took it.

    Not in a transaction (it is called on commit, or by the requeue schedule). The row
    gets the task's id and `enqueued_at` just before the sending; when the broker
    refuses, `enqueued_at` is emptied again and the requeue schedule tries again.
    """
    task_id = str(uuid.uuid4())
    # Stamped before sending, so that a fast worker never starts "before" it was sent.
    Report.objects.filter(pk=report_id).update(task_id=task_id, enqueued_at=timezone.now())
    try:
        _publish(_task(BUILD_REPORT_TASK), args=[report_id], task_id=task_id)
    except Exception as error:
        logger.warning("Report %s not sent to the workers: %s", report_id, error)
        Report.objects.filter(pk=report_id, task_id=task_id).update(enqueued_at=None)
        return False
    return True


def reports_requeue_waiting(*, now=None) -> int:
    """Sends again the reports whose task is missing: queued and never sent (broker
    down), queued and sent more than RESEND_AFTER ago without starting (message
    lost), or running with no sign of life for STALE_AFTER (worker lost). Returns
    how many were sent. Sending one twice is harmless: the build is idempotent."""
    now = now or timezone.now()
    waiting = Report.objects.filter(
        Q(status=Report.Status.QUEUED, enqueued_at__isnull=True)
        | Q(status=Report.Status.QUEUED, enqueued_at__lt=now - RESEND_AFTER)
        | Q(status=Report.Status.RUNNING, started_at__lt=now - STALE_AFTER)
    ).order_by("requested_at", "pk")
    sent = 0
    for report_id in waiting.values_list("pk", flat=True):
        if not report_enqueue(report_id=report_id):
            break  # the broker is still down: the next run tries again
        sent += 1
    return sent


# ---------------------------------------------------------------------------
# Building


def _claim(report_id: int, task_id: str | None, now) -> tuple[Report | None, str]:
    """Locks the row and marks it running for this build; (None, token) when there
    is nothing to do (no such report, done, or running elsewhere)."""
    with transaction.atomic():
        # Locked: two deliveries of the same task cannot both start the build.
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            return None, ""
        ours = bool(task_id) and report.task_id == task_id
        if report.status == Report.Status.DONE:
            return None, ""
        if report.status == Report.Status.FAILED and not ours:
            return None, ""  # failed for good: report_retry queues it again
        if report.status == Report.Status.RUNNING and not ours:
            last_sign = report.started_at or report.requested_at
            if last_sign and last_sign >= now - STALE_AFTER:
                return None, ""  # another worker is building it
        token = task_id or str(uuid.uuid4())
        report.status = Report.Status.RUNNING
        report.task_id = token
        report.started_at = now
        report.finished_at = None
        report.progress = 0
        report.progress_note = ""
        report.error = ""
        report.attempts += 1
        report.save()
        return report, token


def _progress_callback(report_id: int, token: str):
    def progress(percent: int, note: str = "") -> None:
        # Its own small UPDATE (autocommit): the page sees it at once, and a build
        # that was taken over no longer writes.
        percent = max(0, min(100, int(percent)))
        Report.objects.filter(pk=report_id, task_id=token, status=Report.Status.RUNNING).update(
            progress=percent, progress_note=str(note or "")[:200]
        )

    return progress


def _store(report: Report, built) -> tuple[str, int]:
    """Writes the built file as reports/report-<pk>.<ext>, replacing any earlier one."""
    name = f"reports/report-{report.pk}.{report.format}"
    source = getattr(built, "path", None) or getattr(built, "path_or_file", None)
    if default_storage.exists(name):
        default_storage.delete(name)
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            stored = default_storage.save(name, File(handle))
    elif isinstance(source, bytes):
        from django.core.files.base import ContentFile

        stored = default_storage.save(name, ContentFile(source))
    else:
        stored = default_storage.save(name, File(source))
    return stored, default_storage.size(stored)


def _discard(built) -> None:
    """Deletes the builder's temporary file."""
    source = getattr(built, "path", None)
    if isinstance(source, (str, Path)):
        Path(source).unlink(missing_ok=True)


def report_build(*, report_id: int, task_id: str | None = None) -> Report | None:
    """Builds the report's file (what the Celery task calls). Idempotent: a done report
    is left as it is, a running one is left to its worker unless stale; the file is
    always reports/report-<pk>.<ext>, so building twice leaves one file.

    A failure is recorded on the row (status failed, a French message), by kind:
    a transient error (database or broker unreachable, a timeout: TRANSIENT_ERRORS) is
    raised again after that, for the task to retry with its backoff; a data error (a
    rule's refusal, invalid parameters, a missing object: DATA_ERRORS) fails the report
    with the French message naming the cause; any other exception fails it with the
    exception's type and text, and is logged with its traceback.
    """
    now = timezone.now()
    report, token = _claim(report_id, task_id, now)
    if report is None:
        return Report.objects.filter(pk=report_id).first()
    built = None
    try:
        builder = catalogue.builder_for(report.kind, report.format)
        progress = _progress_callback(report.pk, token)
        with translation.override(settings.LANGUAGE_CODE):
            built = builder(parameters=dict(report.parameters), progress=progress)
        name, size = _store(report, built)
    except TRANSIENT_ERRORS as error:
        logger.warning("Report %s: transient error, to be retried: %r", report.pk, error)
        _record_failure(report.pk, token, error)
        raise
    except DATA_ERRORS as error:
        logger.warning("Report %s refused by its data: %r", report.pk, error)
        _record_failure(report.pk, token, error)
        return Report.objects.filter(pk=report_id).first()
    except Exception as error:
        # Not a known kind: a bug. Recorded on the row and logged with its traceback.
        logger.exception("Report %s failed", report.pk)
        _record_failure(report.pk, token, error)
        return Report.objects.filter(pk=report_id).first()
    finally:
        if built is not None:
            _discard(built)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.task_id != token:
            return report  # taken over meanwhile: the other build records its own end
        report.status = Report.Status.DONE
        report.progress = 100
        report.progress_note = ""
        report.file.name = name
        report.file_size = size
        report.finished_at = timezone.now()
        report.error = ""
        report.save()
    return report


def _record_failure(report_id: int, token: str, error: BaseException) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        message = failure_message(error)
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.task_id != token:
            return
        report.status = Report.Status.FAILED
        report.error = message
        report.finished_at = timezone.now()
        report.save()


def failure_message(error: BaseException) -> str:
    """The French message a failed report shows, naming the cause."""
    if isinstance(error, ValidationError):
        detail = " ".join(error.messages)
    elif isinstance(error, ObjectDoesNotExist):
        return _("The report could not be built: an item it reads no longer exists (%(item)s).") % {
            "item": _missing_item(error)
        }
    else:
        detail = f"{type(error).__name__}: {error}"
    return _("The report could not be built. %(detail)s") % {"detail": detail}


def _missing_item(error: ObjectDoesNotExist) -> str:
    """The verbose name of the model whose object is missing, else the error's text."""
    for model in apps.get_models():
        if type(error) is model.DoesNotExist:
            return str(model._meta.verbose_name)
    return str(error) or type(error).__name__


def report_download_name(report: Report) -> str:
    """The French file name of a download, the one the builder gave its file: the
    kind's name (its class's `filename_base`), then the build date, e.g.
    `execution-budgetaire-2026-10_2026-11-01.xlsx`."""
    params = report.parameters or {}
    base = None
    kind = catalogue.REGISTRY.get(report.kind)
    if kind is not None:
        try:
            base = kind.filename_base(params)
        except (KeyError, TypeError, ValueError):
            base = None  # parameters stored before a change of the kind's: the fallback
    if not base:
        parts = [kind.stem if kind is not None else slugify(report.kind)]
        parts += [
            f"{params[key]:02d}" if key == "month" else slugify(str(params[key]))
            for key in ("year", "month", "section", "chapter")
            if params.get(key)
        ]
        base = "-".join(parts)
    built_on = timezone.localdate(report.finished_at or report.requested_at or timezone.now())
    return f"{base}_{built_on:%Y-%m-%d}.{report.format}"


# ---------------------------------------------------------------------------
# Ledger checks


def ledger_check_request(*, user) -> LedgerCheck:
    """A ledger check run by the workers now ("Run now"): the row is created at once
    (unfinished), its task sent on commit. With the broker down, the row records why."""
    require_capability(user, LEDGER_CHECK_CAPABILITY)
    with transaction.atomic():
        check = LedgerCheck.objects.create(triggered_by=user)
        transaction.on_commit(lambda: _ledger_check_enqueue(check.pk))
    return check


def _ledger_check_enqueue(check_id: int) -> bool:
    try:
        _publish(_task(RUN_LEDGER_CHECK_TASK), args=[check_id], task_id=str(uuid.uuid4()))
    except Exception as error:
        logger.warning("Ledger check %s not sent to the workers: %s", check_id, error)
        LedgerCheck.objects.filter(pk=check_id, finished_at__isnull=True).update(
            finished_at=timezone.now(),
            error=_("The background workers could not be reached: the check did not run. %(error)s")
            % {"error": error},
        )
        return False
    return True


def ledger_check_run(*, user=None, check_id: int | None = None) -> LedgerCheck:
    """Runs check_ledger and keeps its result: the counts and the first 100 details.
    Fills the row `check_id` (made by ledger_check_request) or a new one; `user` None is
    the nightly schedule. A crash of the check is recorded on the row, not raised."""
    if user is not None:
        require_capability(user, LEDGER_CHECK_CAPABILITY)
    check = None
    if check_id is not None:
        check = LedgerCheck.objects.filter(pk=check_id).first()
    if check is None:
        check = LedgerCheck.objects.create(triggered_by=user)
    elif check.finished_at is not None:
        return check  # already ran: idempotent
    try:
        differences = ledger_differences()
        broken = broken_balances(limit=DETAILS_KEPT)
        details = [
            {
                "type": "difference",
                "line_id": diff.line_id,
                "code": diff.code,
                "figure": diff.figure,
                "cached": diff.cached,
                "ledger": diff.ledger,
                "gap": diff.cached - diff.ledger,
            }
            for diff in differences[:DETAILS_KEPT]
        ]
        details += [
            {
                "type": "balance",
                "entry_id": entry.pk,
                "line_id": entry.budget_line_id,
                "code": entry.budget_line.code,
                "available_after": entry.available_after,
                "running": entry.running,
            }
            for entry in broken[: max(0, DETAILS_KEPT - len(details))]
        ]
        check.lines_checked = BudgetLine.objects.count()
        check.entries_checked = LedgerEntry.objects.count()
        check.differences = len(differences)
        check.broken_balances = len(broken)
        check.details = details
        check.error = ""
    except Exception as error:
        logger.exception("Ledger check %s crashed", check.pk)
        with translation.override(settings.LANGUAGE_CODE):
            check.error = _("The ledger check itself failed: %(error)s") % {
                "error": f"{type(error).__name__}: {error}"
            }
    check.finished_at = timezone.now()
    check.save()
    return check
