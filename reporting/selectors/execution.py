"""The budget execution at the end of a month, from the ledger.

A line's figures at the end of month M are the sums of its ledger entries created
before the first day of month M+1 in Nouméa, by the kinds of
budgets.selectors.FIGURE_KINDS; for the month under way they are therefore the
cached totals that line_availability reads (check_ledger proves them equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from budgets.models import BudgetLine, LedgerEntry, Section
from budgets.selectors import FIGURE_KINDS, Figures

FIGURES = ("opened", "committed", "liquidated")


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_end(year: int, month: int) -> datetime:
    """The first instant after month `month` of `year`, in Nouméa (an aware datetime)."""
    if month == 12:
        return datetime(year + 1, 1, 1, tzinfo=local_zone())
    return datetime(year, month + 1, 1, tzinfo=local_zone())


def _sums():
    return {
        figure: Coalesce(Sum("amount", filter=Q(kind__in=FIGURE_KINDS[figure])), 0)
        for figure in FIGURES
    }


def year_entries_before(year: int, before: datetime) -> QuerySet:
    return LedgerEntry.objects.filter(budget_line__fiscal_year__year=year, created_at__lt=before)


def line_figures_at(*, actor=None, year: int, before: datetime) -> dict[int, Figures]:
    """{line id: Figures} of the lines of `year` that have entries before `before`."""
    rows = (
        year_entries_before(year, before)
        .order_by()
        .values("budget_line_id")
        .annotate(**_sums())
        .values_list("budget_line_id", *FIGURES)
    )
    return {
        line_id: Figures(opened, committed, liquidated)
        for line_id, opened, committed, liquidated in rows.iterator(chunk_size=5000)
    }


def figures_at(*, actor=None, year: int, before: datetime) -> Figures:
    """The figures of all the lines of `year`, from their entries before `before`."""
    return Figures(**year_entries_before(year, before).order_by().aggregate(**_sums()))


@dataclass
class ExecutionLine:
    line: BudgetLine
    figures: Figures


@dataclass
class ExecutionGroup:
    key: str
    label: str
    lines: int = 0
    opened: int = 0
    committed: int = 0
    liquidated: int = 0

    def add(self, figures: Figures) -> None:
        self.lines += 1
        self.opened += figures.opened
        self.committed += figures.committed
        self.liquidated += figures.liquidated

    @property
    def figures(self) -> Figures:
        return Figures(self.opened, self.committed, self.liquidated)


@dataclass
class MonthRow:
    month: date | None  # None: entries posted before 1 January (the BP voted in December)
    opened: int
    committed: int
    liquidated: int
    cumulative_liquidated: int
    cumulative_opened: int

    @property
    def execution_rate(self):
        return Figures(self.cumulative_opened, 0, self.cumulative_liquidated).execution_rate


@dataclass
class MonthlyExecution:
    year: int
    month: int
    before: datetime
    lines: list[ExecutionLine]
    totals: Figures
    by_section: list[ExecutionGroup]
    by_chapter: list[ExecutionGroup]
    months: list[MonthRow]
    last_year: Figures | None = None
    extra: dict = field(default_factory=dict)


def execution_lines(*, actor=None, year: int, month: int) -> list[ExecutionLine]:
    """Every line of `year` (by code) with its figures at the end of `month`."""
    figures = line_figures_at(actor=actor, year=year, before=month_end(year, month))
    lines = (
        BudgetLine.objects.filter(fiscal_year__year=year)
        .select_related("nature_account__chapter", "cost_centre", "project")
        .order_by("code")
    )
    empty = Figures()
    return [
        ExecutionLine(line, figures.get(line.pk, empty)) for line in lines.iterator(chunk_size=2000)
    ]


def months_of(*, actor=None, year: int, month: int) -> list[MonthRow]:
    """January to `month` of `year`: what each month opened, committed and liquidated
    (net of reversals), and the cumulative liquidated amount and execution rate; a first
    row for the entries posted before January, if any."""
    before = month_end(year, month)
    start = datetime(year, 1, 1, tzinfo=local_zone())
    entries = year_entries_before(year, before).order_by()
    earlier = entries.filter(created_at__lt=start).aggregate(**_sums())
    by_month = {
        row["month"].date() if isinstance(row["month"], datetime) else row["month"]: row
        for row in entries.filter(created_at__gte=start)
        .annotate(month=TruncMonth("created_at", tzinfo=local_zone()))
        .values("month")
        .annotate(**_sums())
    }
    rows = []
    cumulative_opened = cumulative_liquidated = 0
    if any(earlier.values()):
        cumulative_opened += earlier["opened"]
        cumulative_liquidated += earlier["liquidated"]
        rows.append(
            MonthRow(
                None,
                earlier["opened"],
                earlier["committed"],
                earlier["liquidated"],
                cumulative_liquidated,
                cumulative_opened,
            )
        )
    for number in range(1, month + 1):
        first = date(year, number, 1)
        row = by_month.get(first, {"opened": 0, "committed": 0, "liquidated": 0})
        cumulative_opened += row["opened"]
        cumulative_liquidated += row["liquidated"]
        rows.append(
            MonthRow(
                first,
                row["opened"],
                row["committed"],
                row["liquidated"],
                cumulative_liquidated,
                cumulative_opened,
            )
        )
    return rows


def monthly_execution(*, actor=None, year: int, month: int) -> MonthlyExecution:
    """Everything the monthly execution report shows."""
    lines = execution_lines(actor=actor, year=year, month=month)
    sections: dict[str, ExecutionGroup] = {}
    chapters: dict[str, ExecutionGroup] = {}
    for item in lines:
        line = item.line
        sections.setdefault(
            line.section, ExecutionGroup(line.section, str(Section(line.section).label))
        ).add(item.figures)
        chapter = line.nature_account.chapter
        chapters.setdefault(chapter.code, ExecutionGroup(chapter.code, chapter.label)).add(
            item.figures
        )
    totals = Figures(
        sum(item.figures.opened for item in lines),
        sum(item.figures.committed for item in lines),
        sum(item.figures.liquidated for item in lines),
    )
    last_year = None
    if BudgetLine.objects.filter(fiscal_year__year=year - 1).exists():
        last_year = figures_at(actor=actor, year=year - 1, before=month_end(year - 1, month))
    return MonthlyExecution(
        year=year,
        month=month,
        before=month_end(year, month),
        lines=lines,
        totals=totals,
        by_section=[sections[key] for key in sorted(sections)],
        by_chapter=[chapters[key] for key in sorted(chapters)],
        months=months_of(actor=actor, year=year, month=month),
        last_year=last_year,
    )
