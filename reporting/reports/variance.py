"""The variance analysis report: each line's voted credits beside what is committed,
liquidated and forecast for the year end; the overruns, the surpluses and how the
surpluses could cover the overruns (reporting.selectors.variance, the page's own
figures)."""

from __future__ import annotations

from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from openpyxl import Workbook

from budgets.models import FiscalYear
from reporting.models import Report
from reporting.selectors.variance import (
    cover_proposals,
    overruns,
    surpluses,
    uncovered,
    variance_rows,
    variance_totals,
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
from .common import AMOUNT, RATE, TEXT, Sheet, listing, pdf_table, rate, xpf


def title() -> str:
    return _("Variance analysis")


def subtitle(parameters: dict) -> str:
    if parameters.get("month"):
        return _("Fiscal year %(year)s — forecasts up to %(month)s") % {
            "year": parameters["year"],
            "month": str(MONTHS[parameters["month"]]).lower(),
        }
    return _("Fiscal year %(year)s — the latest forecasts") % {"year": parameters["year"]}


# The French stem of the file names.
STEM = "analyse-des-ecarts"


def filename_base(parameters: dict) -> str:
    base = f"{STEM}-{parameters['year']}"
    if parameters.get("month"):
        base += f"-{parameters['month']:02d}"
    return base


def line_sheet_columns() -> list[Column]:
    """The "By line" sheet's columns, read from a variance row."""
    return [
        Column(_("Code"), TEXT, lambda row: row.line.code),
        Column(_("Label"), TEXT, lambda row: row.line.label),
        Column(_("Section"), TEXT, lambda row: row.line.section),
        Column(_("Voted"), AMOUNT, lambda row: row.opened),
        Column(_("Committed"), AMOUNT, lambda row: row.committed),
        Column(_("Liquidated"), AMOUNT, lambda row: row.liquidated),
        Column(_("Forecast"), AMOUNT, lambda row: row.forecast),
        Column(_("Gap"), AMOUNT, lambda row: row.gap),
        Column(_("Gap (%)"), RATE, lambda row: row.gap_percent),
        Column(
            _("Forecast entered"),
            TEXT,
            lambda row: _("yes") if row.forecast_entered else _("no (committed)"),
        ),
    ]


def line_columns() -> list[tuple[str, str]]:
    return [(column.label, column.type) for column in line_sheet_columns()]


def line_values(row) -> list:
    return [column.getter(row) for column in line_sheet_columns()]


def totals_values(totals) -> list:
    return [
        _("Total"),
        _("%(count)s lines") % {"count": totals.lines},
        "",
        totals.opened,
        totals.committed,
        totals.liquidated,
        totals.forecast,
        totals.gap,
        totals.gap_percent,
        "",
    ]


def summary_rows(totals) -> list[tuple[str, str, object]]:
    return [
        (_("Voted"), AMOUNT, totals.opened),
        (_("Committed"), AMOUNT, totals.committed),
        (_("Liquidated"), AMOUNT, totals.liquidated),
        (_("Forecast"), AMOUNT, totals.forecast),
        (_("Gap"), AMOUNT, totals.gap),
        (_("Gap (%)"), RATE, totals.gap_percent),
        (_("Overruns"), AMOUNT, totals.overrun),
        (_("Surpluses"), AMOUNT, totals.surplus),
    ]


def overrun_columns():
    return [
        (_("Code"), TEXT),
        (_("Label"), TEXT),
        (_("Voted"), AMOUNT),
        (_("Forecast"), AMOUNT),
        (_("Overrun"), AMOUNT),
    ]


def surplus_columns():
    return [
        (_("Code"), TEXT),
        (_("Label"), TEXT),
        (_("Voted"), AMOUNT),
        (_("Committed"), AMOUNT),
        (_("Forecast"), AMOUNT),
        (_("Surplus"), AMOUNT),
    ]


def proposal_columns():
    return [
        (_("From"), TEXT),
        (_("To"), TEXT),
        (_("Amount"), AMOUNT),
        (_("By"), TEXT),
    ]


def uncovered_columns():
    return [
        (_("Code"), TEXT),
        (_("Label"), TEXT),
        (_("Overrun"), AMOUNT),
        (_("Not covered"), AMOUNT),
    ]


def _read(parameters, progress, actor):
    progress(0, _("Reading the lines and forecasts"))
    fiscal_year = FiscalYear.objects.get(year=parameters["year"])
    rows = variance_rows(actor=actor, fiscal_year=fiscal_year, month=parameters.get("month"))
    proposals = cover_proposals(rows)
    progress(25, _("Figures computed"))
    return {
        "rows": rows,
        "totals": variance_totals(rows),
        "overruns": overruns(rows),
        "surpluses": surpluses(rows),
        "proposals": proposals,
        "uncovered": uncovered(rows, proposals),
    }


def _means(proposal) -> str:
    return _("transfer") if proposal.is_transfer else _("DM change")


def _views(data) -> list[tuple[str, list, list, list | None]]:
    """(title, columns, rows, total) of the small views."""
    return [
        (
            _("Overruns"),
            overrun_columns(),
            [
                [r.line.code, r.line.label, r.opened, r.forecast, r.overrun]
                for r in data["overruns"]
            ],
            [_("Total"), "", "", "", data["totals"].overrun],
        ),
        (
            _("Surpluses"),
            surplus_columns(),
            [
                [r.line.code, r.line.label, r.opened, r.committed, r.forecast, r.surplus]
                for r in data["surpluses"]
            ],
            [_("Total"), "", "", "", "", data["totals"].surplus],
        ),
        (
            _("Cover proposals"),
            proposal_columns(),
            [[p.source.code, p.target.code, p.amount, _means(p)] for p in data["proposals"]],
            [_("Total"), "", sum(p.amount for p in data["proposals"]), ""],
        ),
        (
            _("Not covered"),
            uncovered_columns(),
            [[u.line.code, u.line.label, u.overrun, u.amount] for u in data["uncovered"]],
            [_("Total"), "", "", sum(u.amount for u in data["uncovered"])],
        ),
    ]


WIDTH = {TEXT: 16, AMOUNT: 18, RATE: 10}


def build_xlsx(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    data = _read(parameters, progress, actor)
    workbook = Workbook(write_only=True)
    summary = Sheet(workbook, _("Summary"), [(_("Figure"), TEXT, 28), (_("Value"), AMOUNT, 20)])
    for label, kind, value in summary_rows(data["totals"]):
        summary.append([label, value], kinds=[TEXT, kind])

    def sheet_for(name, columns):
        return Sheet(
            workbook,
            name,
            [
                (label, kind, 40 if index == 1 else WIDTH[kind])
                for index, (label, kind) in enumerate(columns)
            ],
        )

    by_line = sheet_for(_("By line"), line_columns())
    steps = Steps(progress, len(data["rows"]), 25, 80, _("Writing the lines"), every=200)
    for row in data["rows"]:
        by_line.append(line_values(row))
        steps.step()
    by_line.append(totals_values(data["totals"]), total=True)

    for name, columns, rows, total in _views(data):
        sheet = sheet_for(name, columns)
        for row in rows:
            sheet.append(row)
        if total is not None:
            sheet.append(total, total=True)

    progress(95, _("Saving the file"))
    path = temporary_path(".xlsx")
    workbook.save(str(path))
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "xlsx"), path, XLSX_CONTENT_TYPE)


def listing_columns() -> list[tuple[str, str, int]]:
    return [
        (_("Code"), TEXT, 20),
        (_("Label"), TEXT, 52),
        (_("Section"), TEXT, 7),
        (_("Voted"), AMOUNT, 14),
        (_("Committed"), AMOUNT, 14),
        (_("Liquidated"), AMOUNT, 14),
        (_("Forecast"), AMOUNT, 14),
        (_("Gap"), AMOUNT, 14),
        (_("Gap (%)"), RATE, 9),
        (_("Forecast entered"), TEXT, 16),
    ]


def build_pdf(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    from .pdf import render_pdf

    data = _read(parameters, progress, actor)
    summary = [
        (label, xpf(value) if kind == AMOUNT else rate(value))
        for label, kind, value in summary_rows(data["totals"])
    ]
    tables = [pdf_table(name, columns, rows, total) for name, columns, rows, total in _views(data)]
    by_line = listing(
        _("By line"),
        listing_columns(),
        [line_values(row) for row in data["rows"]],
        totals_values(data["totals"]),
        note=_("Amounts in F CFP."),
    )
    path = temporary_path(".pdf")
    render_pdf(
        "reporting/pdf/variance.html",
        {
            "title": title(),
            "subtitle": subtitle(parameters),
            "summary": summary,
            "tables": tables,
            "by_line": by_line,
        },
        path,
        progress=progress,
        start=50,
    )
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "pdf"), path, PDF_CONTENT_TYPE)


@register
class VarianceReport(ReportKind):
    """The variance analysis of a fiscal year (the current one by default), against the
    forecasts of a month (1–12) or, with no month, the latest ones."""

    code = Report.Kind.VARIANCE
    parameters = ("year", "month")

    stem = STEM

    @classmethod
    def filename_base(cls, parameters: dict) -> str:
        return filename_base(parameters)

    @classmethod
    def columns(cls) -> list[Column]:
        return line_sheet_columns()

    build_xlsx = staticmethod(build_xlsx)
    build_pdf = staticmethod(build_pdf)
