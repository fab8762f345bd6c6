"""The DISCO extract: every line of a year (optionally of a section or a chapter)
with its figures, from budgets.selectors.line_availability.

XLSX: the DISCO page's own export workbook (budgets.exports.disco_workbook), so
that both files read the same. PDF: one landscape table and its totals.
"""

from __future__ import annotations

import shutil

from django.utils.translation import gettext as _

from budgets import selectors
from budgets.exports import disco_workbook
from budgets.models import Section
from reporting.models import Report

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
from .common import AMOUNT, CHUNK_SIZE, RATE, TEXT, listing


def disco_lines(parameters: dict, *, actor=None):
    """The line_availability queryset of the extract's year and filters."""
    lines = selectors.line_availability(actor=actor, fiscal_year=None).filter(
        fiscal_year__year=parameters["year"]
    )
    if parameters.get("section"):
        lines = lines.filter(section=parameters["section"])
    if parameters.get("chapter"):
        lines = lines.filter(nature_account__chapter__code=parameters["chapter"])
    return lines.order_by("fiscal_year__year", "code")


def title() -> str:
    return _("DISCO extract")


def subtitle(parameters: dict) -> str:
    parts = [_("Fiscal year %(year)s") % {"year": parameters["year"]}]
    if parameters.get("section"):
        parts.append(str(Section(parameters["section"]).label))
    if parameters.get("chapter"):
        parts.append(_("chapter %(chapter)s") % {"chapter": parameters["chapter"]})
    return " — ".join(parts)


# The French stem of the file names.
STEM = "extrait-disco"


def filename_base(parameters: dict) -> str:
    parts = [STEM, str(parameters["year"])]
    if parameters.get("section"):
        parts.append(parameters["section"])
    if parameters.get("chapter"):
        parts.append(parameters["chapter"])
    return "-".join(parts)


class _CountingLines:
    """The queryset as disco_workbook iterates it, calling progress as rows go by."""

    def __init__(self, lines, steps: Steps):
        self.lines, self.steps = lines, steps

    def iterator(self, chunk_size=CHUNK_SIZE):
        for line in self.lines.iterator(chunk_size=chunk_size):
            yield line
            self.steps.step()


def build_xlsx(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    progress(0, _("Reading the lines"))
    lines = disco_lines(parameters, actor=actor)
    totals = selectors.availability_totals(lines)
    count = lines.count()
    steps = Steps(progress, count, 5, 90, _("Writing the lines"), every=200)
    path = temporary_path(".xlsx")
    with disco_workbook(_CountingLines(lines, steps), totals) as workbook, path.open("wb") as out:
        shutil.copyfileobj(workbook, out)
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "xlsx"), path, XLSX_CONTENT_TYPE)


def line_columns() -> list[Column]:
    """The listing's columns, read from a budget line annotated with its availability."""
    return [
        Column(_("Code"), TEXT, lambda line: line.code),
        Column(_("Label"), TEXT, lambda line: line.label),
        Column(_("Section"), TEXT, lambda line: line.section),
        Column(_("Chapter"), TEXT, lambda line: line.nature_account.chapter.code),
        Column(_("Account"), TEXT, lambda line: line.nature_account.number),
        Column(_("Cost centre"), TEXT, lambda line: line.cost_centre.code),
        Column(_("Opened credits"), AMOUNT, lambda line: line.opened),
        Column(_("Committed"), AMOUNT, lambda line: line.committed),
        Column(_("Liquidated"), AMOUNT, lambda line: line.liquidated),
        Column(_("To liquidate"), AMOUNT, lambda line: line.to_liquidate_amount),
        Column(_("Available"), AMOUNT, lambda line: line.available_amount),
        Column(_("Exec. rate"), RATE, lambda line: line.execution_rate),
    ]


# The PDF listing's width of each column, in characters.
LISTING_WIDTHS = (20, 44, 7, 8, 9, 9, 14, 14, 14, 14, 14, 8)


def columns() -> list[tuple[str, str, int]]:
    """(header, kind, width in characters) of the PDF listing."""
    return [
        (column.label, column.type, width)
        for column, width in zip(line_columns(), LISTING_WIDTHS, strict=True)
    ]


def build_pdf(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    from .pdf import render_pdf

    progress(0, _("Reading the lines"))
    lines = disco_lines(parameters, actor=actor)
    totals = selectors.availability_totals(lines)
    steps = Steps(progress, lines.count(), 5, 50, _("Reading the lines"), every=200)
    getters = [column.getter for column in line_columns()]
    rows = []
    for line in lines.iterator(chunk_size=CHUNK_SIZE):
        rows.append([getter(line) for getter in getters])
        steps.step()
    total = [
        _("Total"),
        _("%(count)s lines") % {"count": len(rows)},
        *[""] * 4,
        totals.opened,
        totals.committed,
        totals.liquidated,
        totals.to_liquidate,
        totals.available,
        totals.execution_rate,
    ]
    table = listing(None, columns(), rows, total, note=_("Amounts in F CFP."))
    path = temporary_path(".pdf")
    render_pdf(
        "reporting/pdf/disco.html",
        {"title": title(), "subtitle": subtitle(parameters), "table": table, "totals": totals},
        path,
        progress=progress,
        start=55,
    )
    progress(100, _("Done"))
    return BuiltFile(dated_filename(filename_base(parameters), "pdf"), path, PDF_CONTENT_TYPE)


@register
class DiscoReport(ReportKind):
    """The DISCO extract of a fiscal year (the current one by default), optionally of one
    section ("F" or "I") and one chapter. Its XLSX is the DISCO export's own workbook."""

    code = Report.Kind.DISCO
    parameters = ("year", "section", "chapter")

    stem = STEM

    @classmethod
    def filename_base(cls, parameters: dict) -> str:
        return filename_base(parameters)

    @classmethod
    def columns(cls) -> list[Column]:
        return line_columns()

    build_xlsx = staticmethod(build_xlsx)
    build_pdf = staticmethod(build_pdf)
