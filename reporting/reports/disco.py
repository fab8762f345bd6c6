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

from . import (
    PDF_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    BuiltFile,
    Steps,
    dated_filename,
    no_progress,
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


def filename_base(parameters: dict) -> str:
    parts = ["extrait-disco", str(parameters["year"])]
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


def columns() -> list[tuple[str, str, int]]:
    """(header, kind, width in characters) of the PDF listing."""
    return [
        (_("Code"), TEXT, 20),
        (_("Label"), TEXT, 44),
        (_("Section"), TEXT, 7),
        (_("Chapter"), TEXT, 8),
        (_("Account"), TEXT, 9),
        (_("Cost centre"), TEXT, 9),
        (_("Opened credits"), AMOUNT, 14),
        (_("Committed"), AMOUNT, 14),
        (_("Liquidated"), AMOUNT, 14),
        (_("To liquidate"), AMOUNT, 14),
        (_("Available"), AMOUNT, 14),
        (_("Exec. rate"), RATE, 8),
    ]


def build_pdf(*, parameters: dict, progress=no_progress, actor=None) -> BuiltFile:
    from .pdf import render_pdf

    progress(0, _("Reading the lines"))
    lines = disco_lines(parameters, actor=actor)
    totals = selectors.availability_totals(lines)
    steps = Steps(progress, lines.count(), 5, 50, _("Reading the lines"), every=200)
    rows = []
    for line in lines.iterator(chunk_size=CHUNK_SIZE):
        rows.append(
            [
                line.code,
                line.label,
                line.section,
                line.nature_account.chapter.code,
                line.nature_account.number,
                line.cost_centre.code,
                line.opened,
                line.committed,
                line.liquidated,
                line.to_liquidate_amount,
                line.available_amount,
                line.execution_rate,
            ]
        )
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
