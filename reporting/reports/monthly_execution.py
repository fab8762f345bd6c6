"""The monthly budget execution report: the figures of a year at a month's situation date.

From the ledger (reporting.selectors.execution): a summary (opened, committed,
liquidated, to liquidate, available, rates; against last year at the same date), the
figures by section, by chapter and by line, and the liquidations month by month.
A finished month is shown at its end ("situation à fin novembre 2026 (30/11/2026)")
and compared with the end of the same month last year; the month under way at the
day the report is built ("situation au 08/12/2026"), compared with the same day last
year as the dashboard does. XLSX: one sheet per view, each headed by that situation,
rates as fractions in a percent format; PDF: A4 landscape, one section per view.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl import Workbook

from reporting.models import Report
from reporting.selectors.execution import (
    MonthlyExecution,
    last_complete_month,
    month_started,
    monthly_execution,
)

from .base import (
    PDF_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    BuiltFile,
    Column,
    ReportKind,
    Steps,
    dated_filename,
    no_progress,
    register,
    temporary_path,
)
from .common import AMOUNT, NUMBER, RATE, TEXT, Sheet, listing, pdf_table, rate, xpf


def monthly_default(today) -> tuple[int, int] | None:
    """(year, month) the monthly report is about when nothing is asked: the last complete
    month on `today`, when its fiscal year is in the books (else None)."""
    from budgets.models import FiscalYear

    year, month = last_complete_month(today)
    return (year, month) if FiscalYear.objects.filter(year=year).exists() else None


def default_month(year: int, today) -> int:
    """The monthly report's month when none is asked for: the last complete month of
    `year` on `today` (December for a past year); for the current year in January, when
    no month is complete yet, January (under way); for a year to come, January (which
    the caller then refuses as not begun)."""
    last_year, last_month = last_complete_month(today)
    if year < last_year:
        return 12
    if year == last_year:
        return last_month
    return today.month if year == today.year else 1


def future_month_message(year: int, month: int, today) -> str:
    """The French refusal of a month that has not begun."""
    return _(
        "The month of %(month)s has not begun yet: choose a month up to %(current)s "
        "(the month under way)."
    ) % {
        "month": date_format(date(year, month, 1), "F Y"),
        "current": date_format(today, "F Y"),
    }


def title() -> str:
    return _("Monthly budget execution")


def month_label(year: int, month: int) -> str:
    return date_format(date(year, month, 1), "F Y")


def day_label(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def subtitle(report: MonthlyExecution) -> str:
    """The situation: "Exercice 2026 — situation à fin novembre 2026 (30/11/2026)" for a
    finished month, "Exercice 2026 — décembre 2026, situation au 08/12/2026" for the
    month under way (its figures are those of the day the report is built)."""
    values = {
        "year": report.year,
        "month": month_label(report.year, report.month),
        "date": day_label(report.situation),
    }
    if report.in_progress:
        return _("Fiscal year %(year)s — %(month)s, situation on %(date)s") % values
    return _("Fiscal year %(year)s — figures at the end of %(month)s (%(date)s)") % values


def caption(report: MonthlyExecution) -> str:
    """The line that heads every sheet: the report, its year and its situation date."""
    return f"{title()} — {subtitle(report)}"


def column_label(report: MonthlyExecution, *, last_year: bool = False) -> str:
    """The summary's columns: "Au 08/12/2026" / "Au 08/12/2025" for the month under way,
    "Fin novembre 2026" / "Fin novembre 2025" for a finished month."""
    year = report.year - 1 if last_year else report.year
    if report.in_progress:
        day = report.last_year_date if last_year else report.situation
        return _("At %(date)s") % {"date": day_label(day)}
    return _("End of %(month)s") % {"month": month_label(year, report.month)}


def comparison_note(report: MonthlyExecution) -> str:
    """What the last year's column is, in a sentence ("" without a last year)."""
    if report.last_year is None:
        return ""
    if report.in_progress:
        return _("Last year: the ledger at the same date, %(date)s, as on the dashboard.") % {
            "date": day_label(report.last_year_date)
        }
    return _("Last year: the ledger at the end of %(month)s (%(date)s).") % {
        "month": month_label(report.year - 1, report.month),
        "date": day_label(report.last_year_date),
    }


# The French stem of the file names.
STEM = "execution-budgetaire"


def filename_base(parameters: dict) -> str:
    return f"{STEM}-{parameters['year']}-{parameters['month']:02d}"


def figure_columns() -> list[tuple[str, str]]:
    return [
        (_("Opened credits"), AMOUNT),
        (_("Committed"), AMOUNT),
        (_("Liquidated"), AMOUNT),
        (_("To liquidate"), AMOUNT),
        (_("Available"), AMOUNT),
        (_("Execution rate (%)"), RATE),
    ]


def figure_values(figures) -> list:
    return [getattr(figures, name) for name in FIGURES]


def summary_rows(report: MonthlyExecution) -> list[tuple[str, str, object, object]]:
    """(label, kind, this year, last year) of the summary."""
    now, before = report.totals, report.last_year
    rows = [
        (_("Opened credits"), AMOUNT, "opened"),
        (_("Committed"), AMOUNT, "committed"),
        (_("Liquidated"), AMOUNT, "liquidated"),
        (_("To liquidate"), AMOUNT, "to_liquidate"),
        (_("Available"), AMOUNT, "available"),
        (_("Commitment rate (%)"), RATE, "commitment_rate"),
        (_("Execution rate (%)"), RATE, "execution_rate"),
    ]
    return [
        (label, kind, getattr(now, name), getattr(before, name) if before else None)
        for label, kind, name in rows
    ]


def group_columns(first: str) -> list[tuple[str, str]]:
    return [(first, TEXT), (_("Label"), TEXT), (_("Lines"), NUMBER), *figure_columns()]


FIGURES = ("opened", "committed", "liquidated", "to_liquidate", "available", "execution_rate")


def line_sheet_columns() -> list[Column]:
    """The "By line" sheet's columns, read from a MonthlyExecution's line item."""
    return [
        Column(_("Code"), TEXT, lambda item: item.line.code),
        Column(_("Label"), TEXT, lambda item: item.line.label),
        Column(_("Section"), TEXT, lambda item: item.line.section),
        Column(_("Chapter"), TEXT, lambda item: item.line.nature_account.chapter.code),
        *(
            Column(label, kind, lambda item, name=name: getattr(item.figures, name))
            for (label, kind), name in zip(figure_columns(), FIGURES, strict=True)
        ),
    ]


def line_columns() -> list[tuple[str, str]]:
    return [(column.label, column.type) for column in line_sheet_columns()]


def listing_columns() -> list[tuple[str, str, int]]:
    """(header, kind, width in characters) of the lines' PDF listing."""
    return [
        (_("Code"), TEXT, 20),
        (_("Label"), TEXT, 64),
        (_("Section"), TEXT, 7),
        (_("Chapter"), TEXT, 8),
        (_("Opened credits"), AMOUNT, 14),
        (_("Committed"), AMOUNT, 14),
        (_("Liquidated"), AMOUNT, 14),
        (_("To liquidate"), AMOUNT, 14),
        (_("Available"), AMOUNT, 14),
        (_("Exec. rate"), RATE, 8),
    ]


def month_columns() -> list[tuple[str, str]]:
    return [
        (_("Month"), TEXT),
        (_("Opened credits"), AMOUNT),
        (_("Committed"), AMOUNT),
        (_("Liquidated"), AMOUNT),
        (_("Cumulative liquidated"), AMOUNT),
        (_("Cumulative execution rate (%)"), RATE),
    ]


def month_values(row, report: MonthlyExecution) -> list:
    if row.month is None:
        label = _("Before January %(year)s") % {"year": report.year}
    elif report.in_progress and row.month.month == report.month:
        label = _("%(month)s (to %(date)s)") % {
            "month": date_format(row.month, "F Y"),
            "date": day_label(report.situation),
        }
    else:
        label = date_format(row.month, "F Y")
    return [
        label,
        row.opened,
        row.committed,
        row.liquidated,
        row.cumulative_liquidated,
        row.execution_rate,
    ]


def _read(parameters: dict, progress, actor) -> MonthlyExecution:
    """The figures at the situation date of the day the report is built, in Nouméa."""
    progress(0, _("Reading the ledger"))
    year, month, today = parameters["year"], parameters["month"], timezone.localdate()
    if not month_started(year, month, today):
        raise ValidationError(future_month_message(year, month, today), code="month")
    report = monthly_execution(actor=actor, year=year, month=month, today=today)
    progress(20, _("Ledger read"))
    return report


WIDTH = {TEXT: 14, AMOUNT: 18, RATE: 12, NUMBER: 8}


def _sheet(workbook, name, columns, widths=None, *, caption=""):
    widths = widths or {}
    return Sheet(
        workbook,
        name,
        [
            (label, kind, widths.get(index, WIDTH[kind]))
            for index, (label, kind) in enumerate(columns)
        ],
        caption=caption,
    )


def build_xlsx(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    report = _read(parameters, progress, actor)
    workbook = Workbook(write_only=True)
    heading = caption(report)

    summary = Sheet(
        workbook,
        _("Summary"),
        [
            (_("Figure"), TEXT, 28),
            (column_label(report), AMOUNT, 20),
            (column_label(report, last_year=True), AMOUNT, 20),
        ],
        caption=heading,
    )
    for label, kind, now, before in summary_rows(report):
        summary.append([label, now, before], kinds=[TEXT, kind, kind])
    note = comparison_note(report)
    if note:
        summary.append([note, None, None], kinds=[TEXT, TEXT, TEXT])

    by_section = _sheet(
        workbook, _("By section"), group_columns(_("Section")), {1: 24}, caption=heading
    )
    for group in report.by_section:
        by_section.append([group.key, group.label, group.lines, *figure_values(group.figures)])
    by_section.append(
        [_("Total"), "", len(report.lines), *figure_values(report.totals)], total=True
    )

    by_chapter = _sheet(
        workbook, _("By chapter"), group_columns(_("Chapter")), {1: 36}, caption=heading
    )
    for group in report.by_chapter:
        by_chapter.append([group.key, group.label, group.lines, *figure_values(group.figures)])
    by_chapter.append(
        [_("Total"), "", len(report.lines), *figure_values(report.totals)], total=True
    )
    progress(30, _("Writing the lines"))

    columns = line_sheet_columns()
    by_line = _sheet(
        workbook,
        _("By line"),
        [(column.label, column.type) for column in columns],
        {0: 20, 1: 40, 2: 9, 3: 9},
        caption=heading,
    )
    steps = Steps(progress, len(report.lines), 30, 90, _("Writing the lines"), every=200)
    for item in report.lines:
        by_line.append([column.getter(item) for column in columns])
        steps.step()
    by_line.append(
        [
            _("Total (%(count)s lines)") % {"count": len(report.lines)},
            "",
            "",
            "",
            *figure_values(report.totals),
        ],
        total=True,
    )

    months = _sheet(workbook, _("Liquidations by month"), month_columns(), {0: 30}, caption=heading)
    for row in report.months:
        months.append(month_values(row, report))
    last = report.months[-1] if report.months else None
    months.append(
        [
            _("Total"),
            sum(row.opened for row in report.months),
            sum(row.committed for row in report.months),
            sum(row.liquidated for row in report.months),
            last.cumulative_liquidated if last else 0,
            last.execution_rate if last else None,
        ],
        total=True,
    )

    progress(95, _("Saving the file"))
    path = temporary_path(".xlsx")
    workbook.save(str(path))
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "xlsx"), path, XLSX_CONTENT_TYPE)


def build_pdf(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    from .pdf import render_pdf

    report = _read(parameters, progress, actor)
    summary = [
        (
            label,
            xpf(now) if kind == AMOUNT else rate(now),
            (xpf(before) if kind == AMOUNT else rate(before)) if report.last_year else None,
        )
        for label, kind, now, before in summary_rows(report)
    ]
    total_groups = [_("Total"), "", len(report.lines), *figure_values(report.totals)]
    tables = [
        pdf_table(
            _("By section"),
            group_columns(_("Section")),
            [[g.key, g.label, g.lines, *figure_values(g.figures)] for g in report.by_section],
            total_groups,
        ),
        pdf_table(
            _("By chapter"),
            group_columns(_("Chapter")),
            [[g.key, g.label, g.lines, *figure_values(g.figures)] for g in report.by_chapter],
            total_groups,
        ),
        pdf_table(
            _("Liquidations by month"),
            month_columns(),
            [month_values(row, report) for row in report.months],
            None,
        ),
    ]
    steps = Steps(progress, len(report.lines), 20, 50, _("Reading the lines"), every=200)
    line_rows = []
    for item in report.lines:
        line = item.line
        line_rows.append(
            [
                line.code,
                line.label,
                line.section,
                line.nature_account.chapter.code,
                *figure_values(item.figures),
            ]
        )
        steps.step()
    by_line = listing(
        _("By line"),
        listing_columns(),
        line_rows,
        [
            _("Total"),
            _("%(count)s lines") % {"count": len(report.lines)},
            "",
            "",
            *figure_values(report.totals),
        ],
        note=_("Amounts in F CFP."),
    )
    path = temporary_path(".pdf")
    render_pdf(
        "reporting/pdf/monthly_execution.html",
        {
            "title": title(),
            "subtitle": subtitle(report),
            "summary": summary,
            "this_month": column_label(report),
            "last_year_month": column_label(report, last_year=True),
            "has_last_year": report.last_year is not None,
            "comparison_note": comparison_note(report),
            "tables": tables,
            "by_line": by_line,
        },
        path,
        progress=progress,
        start=55,
    )
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "pdf"), path, PDF_CONTENT_TYPE)


@register
class MonthlyExecutionReport(ReportKind):
    """The monthly budget execution: the last complete month by default (of the year
    asked for: December for a past year), a month that has not begun refused."""

    code = Report.Kind.MONTHLY_EXECUTION
    parameters = ("year", "month")

    @classmethod
    def default_year(cls, today) -> int | None:
        # The year of the last complete month, if it is in the books (else the current one).
        default = monthly_default(today)
        return default[0] if default else None

    @classmethod
    def default_month(cls, year: int, today) -> int:
        return default_month(year, today)

    @classmethod
    def check(cls, cleaned: dict, errors: dict, today) -> None:
        asked = (cleaned.get("year"), cleaned.get("month"))
        if None not in asked and not month_started(*asked, today):
            errors["month"] = [future_month_message(*asked, today)]

    stem = STEM

    @classmethod
    def filename_base(cls, parameters: dict) -> str:
        return filename_base(parameters)

    @classmethod
    def columns(cls) -> list[Column]:
        return line_sheet_columns()

    build_xlsx = staticmethod(build_xlsx)
    build_pdf = staticmethod(build_pdf)
