"""Everything that reads budgets for a screen, the API, a report or a command.

`line_availability` is THE availability selector (DESIGN.md, rule 3): every
screen, form, API and report that shows a line's opened, committed, liquidated,
to-liquidate or available amount goes through it or through `availability_totals`
/ `availability_by`, which aggregate the same figures. The figures come from the
totals cached on the line, which check_ledger proves equal to the ledger.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone

from .models import (
    BudgetLine,
    BudgetRevision,
    FiscalYear,
    Forecast,
    LedgerEntry,
    RevisionItem,
    Section,
    Transfer,
)

FIGURES = ("opened", "committed", "liquidated", "to_liquidate", "available")

# The axes along which availability is aggregated: name -> (group-by fields, label fields).
AXES = {
    "year": ("fiscal_year__year",),
    "section": ("section",),
    "chapter": ("nature_account__chapter__code", "nature_account__chapter__label"),
    "cost_centre": ("cost_centre__code", "cost_centre__label"),
    "account": ("nature_account__number", "nature_account__label"),
}


def _rate(numerator: str, denominator: str):
    """numerator / denominator in percent, rounded half up to one decimal (as
    `Figures` does in Python, so that a line and a total never disagree); None
    when nothing is opened."""
    # Through a float, so that SQLite does not divide integers; PostgreSQL's round()
    # then needs a numeric.
    percent = Cast(
        Cast(F(numerator), FloatField()) * Value(100.0) / F(denominator),
        DecimalField(max_digits=30, decimal_places=6),
    )
    return Case(
        When(**{f"{denominator}__gt": 0}, then=Round(percent, 1)),
        default=None,
        output_field=DecimalField(max_digits=12, decimal_places=1),
    )


def line_availability(*, actor=None, fiscal_year: FiscalYear | int | None = None) -> QuerySet:
    """Every budget line with its figures: opened, committed, liquidated, to_liquidate,
    available, commitment_rate and execution_rate (liquidated / opened), in percent.

    Everyone with a role may read budget lines (view_budget); `actor` is taken
    for the shape shared by all selectors.
    """
    lines = BudgetLine.objects.select_related(
        "fiscal_year", "nature_account__chapter", "cost_centre", "project"
    ).annotate(
        available_amount=F("opened") - F("committed"),
        to_liquidate_amount=F("committed") - F("liquidated"),
        commitment_rate=_rate("committed", "opened"),
        execution_rate=_rate("liquidated", "opened"),
    )
    if fiscal_year is not None:
        lines = lines.filter(fiscal_year=fiscal_year)
    return lines.order_by("fiscal_year__year", "code")


@dataclass(frozen=True)
class Figures:
    opened: int = 0
    committed: int = 0
    liquidated: int = 0

    @property
    def to_liquidate(self) -> int:
        return self.committed - self.liquidated

    @property
    def available(self) -> int:
        return self.opened - self.committed

    @property
    def execution_rate(self) -> Decimal | None:
        return percent(self.liquidated, self.opened)

    @property
    def commitment_rate(self) -> Decimal | None:
        return percent(self.committed, self.opened)


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, one decimal, half rounded up; None when whole is not positive."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def availability_totals(lines: QuerySet) -> Figures:
    """The figures of a set of lines (a filtered DISCO page, a year, a chapter…)."""
    sums = lines.order_by().aggregate(
        opened=Coalesce(Sum("opened"), 0),
        committed=Coalesce(Sum("committed"), 0),
        liquidated=Coalesce(Sum("liquidated"), 0),
    )
    return Figures(**sums)


@dataclass(frozen=True)
class AxisRow:
    key: tuple
    label: str
    lines: int
    figures: Figures


def availability_by(lines: QuerySet, axis: str) -> list[AxisRow]:
    """The figures of a set of lines by year, section, chapter, cost centre or account."""
    fields = AXES[axis]
    rows = (
        lines.order_by()
        .values(*fields)
        .annotate(
            n=Count("pk"),
            sum_opened=Coalesce(Sum("opened"), 0),
            sum_committed=Coalesce(Sum("committed"), 0),
            sum_liquidated=Coalesce(Sum("liquidated"), 0),
        )
        .order_by(*fields)
    )
    result = []
    for row in rows:
        key = tuple(row[f] for f in fields)
        if axis == "section":
            label = str(Section(key[0]).label)
        else:
            label = " ".join(str(part) for part in key)
        result.append(
            AxisRow(
                key=key,
                label=label,
                lines=row["n"],
                figures=Figures(row["sum_opened"], row["sum_committed"], row["sum_liquidated"]),
            )
        )
    return result


def fiscal_years(*, actor=None) -> QuerySet:
    return FiscalYear.objects.order_by("-year")


def current_fiscal_year() -> FiscalYear | None:
    """The open year (the latest if several), else the latest one in preparation."""
    return (
        FiscalYear.objects.filter(state=FiscalYear.State.OPEN).order_by("-year").first()
        or FiscalYear.objects.filter(state=FiscalYear.State.PREPARATION).order_by("year").first()
        or FiscalYear.objects.order_by("-year").first()
    )


def line_ledger(*, actor=None, line: BudgetLine, kinds: list[str] | None = None) -> QuerySet:
    """A line's ledger entries, oldest first, with their user and document type."""
    entries = LedgerEntry.objects.filter(budget_line=line).select_related("user", "document_type")
    if kinds:
        entries = entries.filter(kind__in=kinds)
    return entries.order_by("pk")


# Which entry kinds make each figure: the line page links a figure to its entries.
FIGURE_KINDS = {
    "opened": [k for k, (bucket, _s) in LedgerEntry.BUCKET.items() if bucket == "opened"],
    "committed": [k for k, (bucket, _s) in LedgerEntry.BUCKET.items() if bucket == "committed"],
    "liquidated": [k for k, (bucket, _s) in LedgerEntry.BUCKET.items() if bucket == "liquidated"],
}
FIGURE_KINDS["to_liquidate"] = FIGURE_KINDS["committed"] + FIGURE_KINDS["liquidated"]
FIGURE_KINDS["available"] = FIGURE_KINDS["opened"] + FIGURE_KINDS["committed"]


def revisions(*, actor=None, fiscal_year: FiscalYear | int | None = None) -> QuerySet:
    qs = BudgetRevision.objects.select_related(
        "fiscal_year", "created_by", "submitted_by", "voted_by"
    )
    if fiscal_year is not None:
        qs = qs.filter(fiscal_year=fiscal_year)
    return qs.annotate(item_count=Count("items"), total=Coalesce(Sum("items__amount"), 0)).order_by(
        "-fiscal_year__year", "kind"
    )


@dataclass
class EditorRow:
    line: BudgetLine
    previous: int  # opened credits before this revision
    change: int | None  # the proposed amount (BP) or change (DM); None when the line is not in it
    justification: str

    @property
    def new_amount(self) -> int:
        return self.previous + (self.change or 0)


def revision_editor_rows(*, actor=None, revision: BudgetRevision) -> list[EditorRow]:
    """Every line of the revision's year: opened credits before this revision (the sum of
    the earlier voted revisions and of the transfers), the proposed change, the new amount.

    For a voted revision "before" is what the ledger held just before its vote (the
    opened-credit entries posted before its own), so that the page reads the same once
    frozen, whatever was voted or transferred after it.
    """
    items = {
        item.budget_line_id: item
        for item in RevisionItem.objects.filter(revision=revision).only(
            "budget_line_id", "amount", "justification"
        )
    }
    lines = list(
        BudgetLine.objects.filter(fiscal_year_id=revision.fiscal_year_id)
        .select_related("nature_account__chapter", "cost_centre", "project")
        .order_by("section", "code")
    )
    before = None
    if revision.state == BudgetRevision.State.VOTED:
        first_entry = LedgerEntry.objects.filter(
            document_type__app_label="budgets",
            document_type__model="budgetrevision",
            document_id=revision.pk,
        ).aggregate(first=Min("pk"))["first"]
        if first_entry is not None:
            before = dict(
                LedgerEntry.objects.filter(
                    budget_line__fiscal_year_id=revision.fiscal_year_id,
                    kind__in=FIGURE_KINDS["opened"],
                    pk__lt=first_entry,
                )
                .order_by()
                .values_list("budget_line_id")
                .annotate(total=Sum("amount"))
            )
    rows = []
    for line in lines:
        item = items.get(line.pk)
        rows.append(
            EditorRow(
                line=line,
                previous=line.opened if before is None else before.get(line.pk, 0),
                change=item.amount if item else None,
                justification=item.justification if item else "",
            )
        )
    return rows


def revision_section_totals(rows: list[EditorRow]) -> dict[str, dict[str, int]]:
    """Per section: previous, change and new amount of the editor's rows."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        section = totals.setdefault(row.line.section, {"previous": 0, "change": 0, "new": 0})
        section["previous"] += row.previous
        section["change"] += row.change or 0
        section["new"] += row.new_amount
    return totals


def transfers(*, actor=None, fiscal_year: FiscalYear | int | None = None) -> QuerySet:
    qs = Transfer.objects.select_related(
        "fiscal_year", "source", "target", "requested_by", "decided_by"
    )
    if fiscal_year is not None:
        qs = qs.filter(fiscal_year=fiscal_year)
    return qs


@dataclass(frozen=True)
class LedgerDifference:
    line_id: int
    code: str
    figure: str
    cached: int
    ledger: int


def ledger_differences() -> list[LedgerDifference]:
    """Every cached total that differs from the sum of its line's ledger entries."""
    sums = (
        LedgerEntry.objects.order_by()
        .values("budget_line_id")
        .annotate(
            **{
                figure: Coalesce(Sum("amount", filter=Q(kind__in=FIGURE_KINDS[figure])), 0)
                for figure in ("opened", "committed", "liquidated")
            }
        )
    )
    ledger = {row["budget_line_id"]: row for row in sums.iterator(chunk_size=5000)}
    differences = []
    lines = BudgetLine.objects.order_by("pk").values_list(
        "pk", "code", "opened", "committed", "liquidated"
    )
    for pk, code, *cached in lines.iterator(chunk_size=5000):
        row = ledger.get(pk, {})
        for figure, value in zip(("opened", "committed", "liquidated"), cached, strict=True):
            expected = row.get(figure, 0)
            if value != expected:
                differences.append(LedgerDifference(pk, code, figure, value, expected))
    return differences


def broken_balances(limit: int = 100) -> list[LedgerEntry]:
    """Entries whose `available_after` is not the running available amount of their line."""
    delta = Case(
        When(kind__in=FIGURE_KINDS["opened"], then=F("amount")),
        When(kind__in=FIGURE_KINDS["committed"], then=-F("amount")),
        default=Value(0),
    )
    running = (
        LedgerEntry.objects.annotate(
            running=Window(Sum(delta), partition_by=[F("budget_line_id")], order_by=F("pk").asc())
        )
        .filter(~Q(running=F("available_after")))
        .select_related("budget_line")
        .order_by("pk")
    )
    return list(running[:limit])


def documents_of(entries) -> dict[tuple[int, int], object]:
    """The documents behind ledger entries, fetched once per document type."""
    wanted: dict[int, set[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.document_type_id, set()).add(entry.document_id)
    found = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        for obj in model._default_manager.filter(pk__in=ids):
            found[(type_id, obj.pk)] = obj
    return found


def document_entries(*, actor=None, document) -> QuerySet:
    """The ledger entries a document caused (a voted revision, an approved transfer…)."""
    return (
        LedgerEntry.objects.filter(
            document_type=ContentType.objects.get_for_model(document, for_concrete_model=False),
            document_id=document.pk,
        )
        .select_related("budget_line", "user")
        .order_by("pk")
    )


def document_entries_summary(*, actor=None, document) -> dict:
    """How many entries a document caused, and their total."""
    return (
        document_entries(actor=actor, document=document)
        .order_by()
        .aggregate(count=Count("pk"), total=Coalesce(Sum("amount"), 0))
    )


def line_revision_items(*, actor=None, line: BudgetLine) -> QuerySet:
    """What each revision of the line's year proposed or voted for it."""
    return (
        RevisionItem.objects.filter(budget_line=line)
        .select_related("revision")
        .order_by("revision__kind")
    )


def current_forecasts(
    *, actor=None, fiscal_year: FiscalYear | int, month: int | None = None
) -> QuerySet:
    """The current forecast (atterrissage) of each line of the year that has one: the
    row of its latest month up to `month` (all months when None), with its budget line.

    Portable (SQLite and PostgreSQL): a subquery picks, per line, the latest month.
    Lines without any forecast up to that month do not appear.
    """
    rows = Forecast.objects.filter(budget_line__fiscal_year=fiscal_year)
    if month is not None:
        rows = rows.filter(month__lte=month)
    latest = rows.filter(budget_line=OuterRef("budget_line")).order_by("-month").values("month")[:1]
    return (
        rows.filter(month=Subquery(latest))
        .select_related("budget_line", "entered_by")
        .order_by("budget_line__code")
    )


def forecast_by_line(
    *, actor=None, fiscal_year: FiscalYear | int, month: int | None = None
) -> dict[int, int]:
    """{budget line id: current forecast amount} (see `current_forecasts`)."""
    return dict(
        current_forecasts(actor=actor, fiscal_year=fiscal_year, month=month)
        .order_by()
        .values_list("budget_line_id", "amount")
    )


# ---------------------------------------------------------------------------
# The home page's queues (budgets/home.py): each list opened with ?queue= holds
# exactly these rows.


def transfers_waiting(*, actor=None) -> QuerySet:
    """Transfers requested and not decided yet: the IT director approves them; the
    section head who asked follows them."""
    return transfers(actor=actor).filter(state=Transfer.State.REQUESTED)


def revisions_to_submit(*, actor=None) -> QuerySet:
    """Draft BP and DM prepared by the section head, for the IT director to submit."""
    return revisions(actor=actor).filter(state=BudgetRevision.State.DRAFT)


def revisions_to_vote(*, actor=None) -> QuerySet:
    """Submitted BP and DM whose vote the IT director records."""
    return revisions(actor=actor).filter(state=BudgetRevision.State.SUBMITTED)


def lines_forecast_due(*, actor=None, today=None) -> QuerySet:
    """The lines of the open fiscal year of the current calendar year whose forecast
    (atterrissage) was not entered for the current month: missing, or last entered
    in an earlier month. `last_forecast_at` is when its latest forecast was saved
    (None: never). In another calendar year (a year still open in January) there is
    nothing to refresh: forecasts are monthly estimates of the year in progress."""
    today = today or timezone.localdate()
    refreshed = Forecast.objects.filter(budget_line=OuterRef("pk"), month__gte=today.month)
    return (
        line_availability(actor=actor)
        .filter(fiscal_year__state=FiscalYear.State.OPEN, fiscal_year__year=today.year)
        .exclude(Exists(refreshed))
        .annotate(last_forecast_at=Max("forecasts__entered_at"))
    )


def transfer_sources(*, actor=None, target: BudgetLine) -> QuerySet:
    """The lines that could give credits to `target`: same fiscal year and section,
    something available; the most available first."""
    return (
        line_availability(actor=actor, fiscal_year=target.fiscal_year_id)
        .filter(section=target.section, available_amount__gt=0)
        .exclude(pk=target.pk)
        .order_by("-available_amount", "code")
    )
