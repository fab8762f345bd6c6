"""The budget execution of a month, from the ledger, at its situation date.

The situation date of a month is its last day once it is over, else the day the
report is built (the month under way: "situation au 08/12/2026"). A line's figures
are the sums of its ledger entries created before the end of that day in Nouméa, by
the kinds of budgets.selectors.FIGURE_KINDS; for the month under way they are
therefore the cached totals that line_availability reads (check_ledger proves them
equal). Last year's figures are the ledger at the same date last year, by the
dashboard's own rule and sums (reporting.selectors.dashboard: same_day, 29 February
taken as the 28th, and ledger_figures); for a finished month, at the end of the same
month last year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from budgets.models import BudgetLine, FiscalYear, LedgerEntry, Section
from budgets.selectors import FIGURE_KINDS, Figures
from reporting.selectors.dashboard import end_of_day, ledger_figures, same_day

FIGURES = ("opened", "committed", "liquidated")


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_end(year: int, month: int) -> datetime:
    """The first instant after month `month` of `year`, in Nouméa (an aware datetime)."""
    if month == 12:
        return datetime(year + 1, 1, 1, tzinfo=local_zone())
    return datetime(year, month + 1, 1, tzinfo=local_zone())


def last_day(year: int, month: int) -> date:
    """The last day of month `month` of `year`."""
    return month_end(year, month).date() - timedelta(days=1)


def last_complete_month(today: date) -> tuple[int, int]:
    """(year, month) of the last month over on `today`: the month before today's."""
    if today.month == 1:
        return today.year - 1, 12
    return today.year, today.month - 1


def month_started(year: int, month: int, today: date) -> bool:
    """Whether month `month` of `year` has begun on `today` (a report of a month to come
    is refused: its figures would be today's, dated in the future)."""
    return date(year, month, 1) <= today


def situation_date(year: int, month: int, today: date) -> date:
    """The date a month's figures are at: its last day once over, else `today`."""
    return min(last_day(year, month), today)


def month_over(year: int, month: int, today: date) -> bool:
    """Whether month `month` of `year` has ended before `today` (its last day included)."""
    return last_day(year, month) < today


def comparison_date(year: int, month: int, today: date) -> date:
    """The date last year's figures are taken at: the end of the same month last year
    for a finished month, else the situation date's day last year, by the dashboard's
    rule (same_day: 29 February is the 28th)."""
    if month_over(year, month, today):
        return last_day(year - 1, month)
    return same_day(year - 1, situation_date(year, month, today))


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
    situation: date  # the day the figures are at (its end): today for a month under way
    in_progress: bool  # the month was not over when the report was built
    before: datetime  # the first instant after the situation date
    lines: list[ExecutionLine]
    totals: Figures
    by_section: list[ExecutionGroup]
    by_chapter: list[ExecutionGroup]
    months: list[MonthRow]
    last_year: Figures | None = None  # None when there is no last year
    last_year_date: date | None = None  # the day last year's figures are (or would be) at
    extra: dict = field(default_factory=dict)


def execution_lines(
    *, actor=None, year: int, month: int, before: datetime | None = None
) -> list[ExecutionLine]:
    """Every line of `year` (by code) with its figures at the end of `month`, or before
    the instant `before` when given."""
    before = before or month_end(year, month)
    figures = line_figures_at(actor=actor, year=year, before=before)
    lines = (
        BudgetLine.objects.filter(fiscal_year__year=year)
        .select_related("nature_account__chapter", "cost_centre", "project")
        .order_by("code")
    )
    empty = Figures()
    return [
        ExecutionLine(line, figures.get(line.pk, empty)) for line in lines.iterator(chunk_size=2000)
    ]


def months_of(
    *, actor=None, year: int, month: int, before: datetime | None = None
) -> list[MonthRow]:
    """January to `month` of `year`: what each month opened, committed and liquidated
    (net of reversals), and the cumulative liquidated amount and execution rate; a first
    row for the entries posted before January, if any. Up to the instant `before` when
    given (a month under way), else to the end of `month`."""
    before = before or month_end(year, month)
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


def monthly_execution(
    *, actor=None, year: int, month: int, today: date | None = None
) -> MonthlyExecution:
    """Everything the monthly execution report shows, at the month's situation date on
    `today` (by default today in Nouméa). A month that has not begun is refused
    (ValueError): the catalogue's parameters never ask for one."""
    today = today or timezone.localdate()
    if not month_started(year, month, today):
        raise ValueError(f"{year}-{month:02d} has not begun on {today}")
    situation = situation_date(year, month, today)
    before = end_of_day(situation)
    lines = execution_lines(actor=actor, year=year, month=month, before=before)
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
    last_year_date = comparison_date(year, month, today)
    previous = FiscalYear.objects.filter(year=year - 1).first()
    if previous is not None:
        last_year = ledger_figures(fiscal_year=previous, until=last_year_date)
    return MonthlyExecution(
        year=year,
        month=month,
        situation=situation,
        in_progress=not month_over(year, month, today),
        before=before,
        lines=lines,
        totals=totals,
        by_section=[sections[key] for key in sorted(sections)],
        by_chapter=[chapters[key] for key in sorted(chapters)],
        months=months_of(actor=actor, year=year, month=month, before=before),
        last_year=last_year,
        last_year_date=last_year_date,
    )
