"""Reporting: controlling reports built in the background, the nightly ledger checks,
and the arguments written beside the provisions at closing.

Reporting reads every app and is read by none (DESIGN.md): its figures come from
the budgets availability selector and the ledger.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Report(models.Model):
    """One requested report file: what was asked, by whom, and how its build went.

    The record is created in the request's transaction and its Celery task enqueued
    once that transaction commits; `enqueued_at` stays empty while the broker is
    unreachable, and the requeue schedule sends it again (nothing is lost). The
    task is idempotent: it writes `file` under a name derived from the record, so
    running it twice leaves one file.
    """

    class Kind(models.TextChoices):
        MONTHLY_EXECUTION = "monthly_execution", _("Monthly budget execution")
        VARIANCE = "variance", _("Variance analysis")
        PROVISIONS = "provisions", _("Provisions synthesis at closing")
        DISCO = "disco", _("DISCO extract")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Spreadsheet (XLSX)")
        PDF = "pdf", _("PDF")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The report's own parameters, already validated: {"year": 2026, "month": 10, …}.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # Empty for the reports that celery beat schedules.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    progress_note = models.CharField(_("step"), max_length=200, blank=True)
    enqueued_at = models.DateTimeField(_("sent to the workers at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-requested_at", "-pk")
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(
                fields=("requested_at",),
                condition=Q(status="queued"),
                name="report_waiting",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_format_display()}) #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("reporting:report-detail", args=[self.pk])

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class LedgerCheck(models.Model):
    """The result of one run of check_ledger (nightly through celery beat, or by hand):
    cached totals against the ledger, and running balances."""

    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    lines_checked = models.PositiveIntegerField(_("lines checked"), default=0)
    entries_checked = models.PositiveBigIntegerField(_("entries checked"), default=0)
    differences = models.PositiveIntegerField(_("cached totals that differ"), default=0)
    broken_balances = models.PositiveIntegerField(_("broken running balances"), default=0)
    # The first differences and broken balances found, for the page: [{"code": …, …}].
    details = models.JSONField(_("details"), default=list, blank=True)
    # Empty while running; a crash of the check itself is recorded here.
    error = models.TextField(_("error"), blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("run by"),
    )

    class Meta:
        ordering = ("-started_at", "-pk")
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")

    def __str__(self) -> str:
        return _("Ledger check of %(date)s") % {"date": self.started_at}

    @property
    def is_clean(self) -> bool:
        return (
            self.finished_at is not None
            and not self.error
            and self.differences == 0
            and self.broken_balances == 0
        )


class ProvisionArgument(models.Model):
    """What `pilotage` writes beside a provision (received, not yet invoiced) of the
    closing synthesis: why the charge belongs to the year, what the invoice awaits."""

    budget_line = models.ForeignKey(
        "budgets.BudgetLine",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("budget line"),
    )
    supplier = models.ForeignKey(
        "procurement.Supplier",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("supplier"),
    )
    text = models.TextField(_("argument"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    updated_at = models.DateTimeField(_("written at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("budget_line", "supplier")
        verbose_name = _("provision argument")
        verbose_name_plural = _("provision arguments")
        constraints = [
            models.UniqueConstraint(
                fields=("budget_line", "supplier"), name="provision_argument_one_per_line_supplier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.budget_line_id}/{self.supplier_id}"
