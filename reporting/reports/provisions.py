"""The provisions synthesis at closing: what was received and not invoiced (charges à
payer, factures non parvenues), by budget line and supplier, with pilotage's
arguments (reporting.selectors.provisions).

For the year under way the figures are today's; for a past year, those of 31 December.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from reporting.models import Report
from reporting.selectors.provisions import provisions, provisions_by_line, provisions_total

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
from .common import AMOUNT, TEXT, Sheet, pdf_table, xpf


def as_of_for(year: int) -> date | None:
    """None (today's figures) for the year under way, else its 31 December."""
    return None if timezone.localdate().year <= year else date(year, 12, 31)


def title() -> str:
    return _("Provisions synthesis at closing")


def subtitle(year: int, as_of: date | None) -> str:
    when = as_of or timezone.localdate()
    return _("Fiscal year %(year)s — received and not invoiced at %(date)s") % {
        "year": year,
        "date": when.strftime("%d/%m/%Y"),
    }


# The French stem of the file names.
STEM = "synthese-provisions"


def filename_base(parameters: dict) -> str:
    return f"{STEM}-{parameters['year']}"


def sheet_columns() -> list[Column]:
    """The columns of the provisions' sheet and listing, read from a provision row."""
    return [
        Column(_("Budget line"), TEXT, lambda row: row.budget_line.code),
        Column(_("Label"), TEXT, lambda row: row.budget_line.label),
        Column(_("Supplier"), TEXT, lambda row: row.supplier.name),
        Column(_("Commitments"), TEXT, lambda row: ", ".join(row.commitments)),
        Column(_("Amount before tax"), AMOUNT, lambda row: row.amount),
        Column(_("Arguments"), TEXT, lambda row: row.argument_text),
    ]


def columns() -> list[tuple[str, str]]:
    return [(column.label, column.type) for column in sheet_columns()]


def values(row) -> list:
    return [column.getter(row) for column in sheet_columns()]


def _read(parameters, progress, actor):
    progress(0, _("Reading the receipts and invoices"))
    as_of = as_of_for(parameters["year"])
    rows = provisions(actor=actor, fiscal_year=parameters["year"], as_of=as_of)
    progress(30, _("Provisions computed"))
    return rows, as_of


def build_xlsx(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    rows, _as_of = _read(parameters, progress, actor)
    workbook = Workbook(write_only=True)
    widths = [16, 36, 30, 30, 18, 60]
    sheet = Sheet(
        workbook,
        _("Provisions"),
        [(label, kind, width) for (label, kind), width in zip(columns(), widths, strict=True)],
    )
    steps = Steps(progress, len(rows), 30, 80, _("Writing the lines"), every=100)
    for row in rows:
        sheet.append(values(row))
        steps.step()
    sheet.append([_("Total"), "", "", "", provisions_total(rows), ""], total=True)

    by_line = Sheet(
        workbook,
        _("By budget line"),
        [
            (_("Budget line"), TEXT, 16),
            (_("Label"), TEXT, 40),
            (_("Amount before tax"), AMOUNT, 18),
        ],
    )
    for line, amount in provisions_by_line(rows):
        by_line.append([line.code, line.label, amount])
    by_line.append([_("Total"), "", provisions_total(rows)], total=True)

    progress(95, _("Saving the file"))
    path = temporary_path(".xlsx")
    workbook.save(str(path))
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "xlsx"), path, XLSX_CONTENT_TYPE)


def build_pdf(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    from .pdf import render_pdf

    rows, as_of = _read(parameters, progress, actor)
    total = provisions_total(rows)
    table = pdf_table(
        None,
        columns(),
        [values(row) for row in rows],
        [_("Total"), "", "", "", total, ""],
        note=_("Amounts before tax, in F CFP."),
        widths=[11, 18, 15, 13, 10, 33],
    )
    by_line = pdf_table(
        _("By budget line"),
        [(_("Budget line"), TEXT), (_("Label"), TEXT), (_("Amount before tax"), AMOUNT)],
        [[line.code, line.label, amount] for line, amount in provisions_by_line(rows)],
        [_("Total"), "", total],
        widths=[20, 60, 20],
    )
    path = temporary_path(".pdf")
    render_pdf(
        "reporting/pdf/provisions.html",
        {
            "title": title(),
            "subtitle": subtitle(parameters["year"], as_of),
            "table": table,
            "by_line": by_line,
            "total": xpf(total),
            "count": len(rows),
        },
        path,
        progress=progress,
        start=50,
    )
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "pdf"), path, PDF_CONTENT_TYPE)


@register
class ProvisionsReport(ReportKind):
    """The provisions synthesis at closing, of a fiscal year (the current one by default)."""

    code = Report.Kind.PROVISIONS
    parameters = ("year",)

    stem = STEM

    @classmethod
    def filename_base(cls, parameters: dict) -> str:
        return filename_base(parameters)

    @classmethod
    def columns(cls) -> list[Column]:
        return sheet_columns()

    build_xlsx = staticmethod(build_xlsx)
    build_pdf = staticmethod(build_pdf)
