"""Budgets: fiscal years, the nomenclature, budget lines, revisions, transfers and the ledger.

Money is integer XPF francs (BigIntegerField). The ledger (`LedgerEntry`) is the
only truth about a line's credits; the totals kept on `BudgetLine` are a cache
that the services update in the same transaction as the entry they post, and
that `manage.py check_ledger` recomputes (DESIGN.md, rules 1 to 3).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Section(models.TextChoices):
    OPERATING = "F", _("Operating (OPEX)")
    INVESTMENT = "I", _("Investment (CAPEX)")


class FiscalYear(models.Model):
    class State(models.TextChoices):
        PREPARATION = "preparation", _("In preparation")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class ControlLevel(models.TextChoices):
        LINE = "line", _("Budget line")
        CHAPTER = "chapter", _("Chapter")

    class ControlMode(models.TextChoices):
        BLOCK = "block", _("Block")
        WARN = "warn", _("Warn")

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PREPARATION
    )
    control_level = models.CharField(
        _("control level"),
        max_length=8,
        choices=ControlLevel.choices,
        default=ControlLevel.LINE,
        help_text=_("Where the available amount is checked: on each line or on its chapter."),
    )
    control_mode = models.CharField(
        _("control mode"),
        max_length=8,
        choices=ControlMode.choices,
        default=ControlMode.BLOCK,
        help_text=_(
            "Block: a short available amount is refused unless the IT director overrides it. "
            "Warn: whoever commits may go on after confirming, with a reason kept in the ledger."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ("-year",)
        verbose_name = _("fiscal year")
        verbose_name_plural = _("fiscal years")

    def __str__(self) -> str:
        return str(self.year)


class Chapter(models.Model):
    """A chapter of the chart of accounts (e.g. 011 Charges à caractère général, 21 …)."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    label = models.CharField(_("label"), max_length=200)
    section = models.CharField(_("section"), max_length=1, choices=Section.choices)

    class Meta:
        ordering = ("code",)
        verbose_name = _("chapter")
        verbose_name_plural = _("chapters")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class NatureAccount(models.Model):
    """An account of the French chart of accounts (PCG), in its chapter."""

    number = models.CharField(_("account"), max_length=12, unique=True)
    label = models.CharField(_("label"), max_length=200)
    chapter = models.ForeignKey(
        Chapter, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("chapter")
    )

    class Meta:
        ordering = ("number",)
        verbose_name = _("nature account")
        verbose_name_plural = _("nature accounts")

    def __str__(self) -> str:
        return f"{self.number} {self.label}"


class CostCentre(models.Model):
    """The analytic axis: who in the DSI spends (infrastructure, applications…)."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    label = models.CharField(_("label"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("code",)
        verbose_name = _("cost centre")
        verbose_name_plural = _("cost centres")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Project(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("code",)
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class BudgetLine(models.Model):
    """Year × section × nature account × cost centre (× project).

    `opened`, `committed` and `liquidated` are the cached sums of the line's
    ledger entries; only budgets.services writes them, under a row lock.
    """

    fiscal_year = models.ForeignKey(
        FiscalYear, on_delete=models.PROTECT, related_name="lines", verbose_name=_("fiscal year")
    )
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=200)
    section = models.CharField(_("section"), max_length=1, choices=Section.choices)
    nature_account = models.ForeignKey(
        NatureAccount, on_delete=models.PROTECT, related_name="lines", verbose_name=_("account")
    )
    cost_centre = models.ForeignKey(
        CostCentre, on_delete=models.PROTECT, related_name="lines", verbose_name=_("cost centre")
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="lines",
        null=True,
        blank=True,
        verbose_name=_("project"),
    )
    opened = models.BigIntegerField(_("opened credits"), default=0, editable=False)
    committed = models.BigIntegerField(_("committed"), default=0, editable=False)
    liquidated = models.BigIntegerField(_("liquidated"), default=0, editable=False)

    class Meta:
        ordering = ("fiscal_year", "code")
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(
                fields=("fiscal_year", "code"), name="budget_line_code_unique_in_year"
            ),
            # Two constraints rather than nulls_distinct=False, which SQLite ignores:
            # a line without project is unique on its other axes too.
            models.UniqueConstraint(
                fields=("fiscal_year", "nature_account", "cost_centre", "project"),
                condition=Q(project__isnull=False),
                name="budget_line_axes_unique_in_year",
            ),
            models.UniqueConstraint(
                fields=("fiscal_year", "nature_account", "cost_centre"),
                condition=Q(project__isnull=True),
                name="budget_line_axes_unique_in_year_no_project",
            ),
            models.CheckConstraint(
                condition=Q(committed__gte=F("liquidated")),
                name="budget_line_liquidated_within_committed",
            ),
        ]
        indexes = [models.Index(fields=("fiscal_year", "section", "cost_centre"))]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:line-detail", args=[self.pk])

    @property
    def available(self) -> int:
        return self.opened - self.committed

    @property
    def to_liquidate(self) -> int:
        return self.committed - self.liquidated


class BudgetRevision(models.Model):
    """The initial budget (BP) and its two amending decisions (DM1, DM2)."""

    class Kind(models.TextChoices):
        BP = "BP", _("Initial budget (BP)")
        DM1 = "DM1", _("Amending decision 1 (DM1)")
        DM2 = "DM2", _("Amending decision 2 (DM2)")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VOTED = "voted", _("Voted")

    fiscal_year = models.ForeignKey(
        FiscalYear,
        on_delete=models.PROTECT,
        related_name="revisions",
        verbose_name=_("fiscal year"),
    )
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    vote_date = models.DateField(_("vote date"), null=True, blank=True)
    vote_reference = models.CharField(_("vote reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    voted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("voted by"),
    )
    voted_at = models.DateTimeField(_("voted at"), null=True, blank=True)
    history = HistoricalRecords()

    # The order in which a year's revisions are voted.
    SEQUENCE = (Kind.BP, Kind.DM1, Kind.DM2)

    class Meta:
        ordering = ("fiscal_year", "kind")
        verbose_name = _("budget revision")
        verbose_name_plural = _("budget revisions")
        constraints = [
            models.UniqueConstraint(
                fields=("fiscal_year", "kind"), name="revision_kind_once_a_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.fiscal_year}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:revision-detail", args=[self.pk])

    @property
    def is_amending(self) -> bool:
        return self.kind != self.Kind.BP


class RevisionItem(models.Model):
    """One line of a revision: the BP amount, or a DM's positive or negative change."""

    revision = models.ForeignKey(
        BudgetRevision, on_delete=models.PROTECT, related_name="items", verbose_name=_("revision")
    )
    budget_line = models.ForeignKey(
        BudgetLine,
        on_delete=models.PROTECT,
        related_name="revision_items",
        verbose_name=_("budget line"),
    )
    amount = models.BigIntegerField(_("amount"))
    justification = models.TextField(_("justification"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("revision", "budget_line__code")
        verbose_name = _("revision line")
        verbose_name_plural = _("revision lines")
        constraints = [
            models.UniqueConstraint(
                fields=("revision", "budget_line"), name="revision_item_line_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.revision} {self.budget_line_id}: {self.amount}"


class Transfer(models.Model):
    """A virement: credits moved between two lines of the same year and section."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    fiscal_year = models.ForeignKey(
        FiscalYear,
        on_delete=models.PROTECT,
        related_name="transfers",
        verbose_name=_("fiscal year"),
    )
    source = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from")
    )
    target = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="transfers_in", verbose_name=_("to")
    )
    amount = models.BigIntegerField(_("amount"))
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-requested_at", "-pk")
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="transfer_between_two_lines"
            ),
        ]

    def __str__(self) -> str:
        return _("Transfer %(pk)s") % {"pk": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("budgets:transfer-detail", args=[self.pk])


class LedgerEntry(models.Model):
    """One movement of a line's credits; never changed, never deleted.

    `amount` is the signed change of the total that `kind` moves (see BUCKET):
    a DM cut is an `open` entry with a negative amount, a release lowers
    `committed`. Corrections are new, reversing entries.
    """

    class Kind(models.TextChoices):
        OPEN = "open", _("Credits opened")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        COMMIT = "commit", _("Commitment")
        OVERRIDE = "override", _("Commitment over the available amount")
        RELEASE = "release", _("Release")
        LIQUIDATE = "liquidate", _("Liquidation")
        UNLIQUIDATE = "unliquidate", _("Liquidation reversed")

    # Which cached total each kind moves, and the sign its amount must have.
    BUCKET = {
        Kind.OPEN: ("opened", 0),
        Kind.TRANSFER_IN: ("opened", 1),
        Kind.TRANSFER_OUT: ("opened", -1),
        Kind.COMMIT: ("committed", 1),
        Kind.OVERRIDE: ("committed", 1),
        Kind.RELEASE: ("committed", -1),
        Kind.LIQUIDATE: ("liquidated", 1),
        Kind.UNLIQUIDATE: ("liquidated", -1),
    }

    budget_line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="entries", verbose_name=_("budget line")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"))
    available_after = models.BigIntegerField(_("available after"))
    document_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("document type")
    )
    document_id = models.PositiveBigIntegerField(_("document id"))
    document = GenericForeignKey("document_type", "document_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ("budget_line", "pk")
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=("budget_line", "kind")),
            models.Index(fields=("document_type", "document_id")),
            # The dashboard's sums by month and up to a date (reporting.selectors.dashboard):
            # an index-only scan of each line's entries of a kind, in date order.
            models.Index(
                fields=("budget_line", "kind", "created_at", "amount"),
                name="ledger_line_kind_created",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("A ledger entry is never changed: post a reversing entry."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("A ledger entry is never deleted: post a reversing entry."))


class Forecast(models.Model):
    """An atterrissage: what `pilotage` expects a line to have consumed (committed) by
    31 December, as estimated in a given month of its year.

    One row per line and month: a later month's estimate does not erase the earlier
    ones (the variance page can show how the forecast moved); the latest month's is
    the line's current forecast. Changes keep their history.
    """

    budget_line = models.ForeignKey(
        BudgetLine,
        on_delete=models.PROTECT,
        related_name="forecasts",
        verbose_name=_("budget line"),
    )
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    amount = models.BigIntegerField(_("expected amount at year end"))
    note = models.TextField(_("note"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("budget_line", "month")
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        constraints = [
            models.UniqueConstraint(
                fields=("budget_line", "month"), name="forecast_one_per_line_and_month"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="forecast_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12), name="forecast_month_in_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.budget_line.code} {self.month:02d}: {self.amount}"
