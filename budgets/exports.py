"""The DISCO export: the lines of a filtered DISCO page and their figures, as XLSX.

Built in constant memory: the lines are read in chunks (`.iterator()`) and written
to a write-only workbook, which keeps its rows in a temporary file, not in memory;
the finished file is a temporary file that the response streams. Amounts are
integer cells with the XPF number format; text is neutralised (safe_text).
"""

import tempfile

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dsi_finance.exports import (
    AMOUNT,
    DATE,
    DATETIME,
    PERCENT,
    QUANTITY,
    ExportColumn,
    person_column,
)
from dsi_finance.xlsx import (
    HEADER_ALIGNMENT,
    HEADER_FILL,
    HEADER_FONT,
    PERCENT_NUMBER_FORMAT,
    TOTAL_FONT,
    XPF_NUMBER_FORMAT,
    percent_fraction,
    safe_text,
)

from .models import BudgetRevision, Transfer
from .selectors import Figures

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 2000
# Year, code, label, section, chapter, account, cost centre, project; then the figures.
TEXT_COLUMNS = 8
FIGURE_NAMES = ("opened", "committed", "liquidated", "to_liquidate", "available")


def disco_headers() -> list[tuple[str, int]]:
    """(French header, column width) of each column."""
    return [
        (_("Fiscal year"), 8),
        (_("Code"), 14),
        (_("Label"), 40),
        (_("Section"), 9),
        (_("Chapter"), 9),
        (_("Account"), 10),
        (_("Cost centre"), 14),
        (_("Project"), 12),
        (_("Opened credits"), 18),
        (_("Committed"), 18),
        (_("Liquidated"), 18),
        (_("To liquidate"), 18),
        (_("Available"), 18),
        (_("Execution rate (%)"), 12),
    ]


def disco_workbook(lines, totals: Figures):
    """An open temporary file holding the workbook of `lines` (a line_availability
    queryset), with a header row frozen at the top and a totals row at the bottom."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Available credits"))
    headers = disco_headers()
    for index, (_header, width) in enumerate(headers):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_header_cell(sheet, header) for header, _width in headers])

    for line in lines.iterator(chunk_size=CHUNK_SIZE):
        sheet.append(
            [
                line.fiscal_year.year,
                safe_text(line.code),
                safe_text(line.label),
                line.section,
                safe_text(line.nature_account.chapter.code),
                safe_text(line.nature_account.number),
                safe_text(line.cost_centre.code),
                safe_text(line.project.code) if line.project else None,
                *(
                    _amount_cell(sheet, value)
                    for value in (
                        line.opened,
                        line.committed,
                        line.liquidated,
                        line.to_liquidate_amount,
                        line.available_amount,
                    )
                ),
                _rate_cell(sheet, line.execution_rate),
            ]
        )

    total_label = WriteOnlyCell(sheet, value=_("Total"))
    total_label.font = TOTAL_FONT
    sheet.append(
        [
            total_label,
            *([None] * (TEXT_COLUMNS - 1)),
            *(_amount_cell(sheet, getattr(totals, name), font=TOTAL_FONT) for name in FIGURE_NAMES),
            _rate_cell(sheet, totals.execution_rate, font=TOTAL_FONT),
        ]
    )

    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    workbook.save(output)
    output.seek(0)
    return output


def _header_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = HEADER_ALIGNMENT
    return cell


def _amount_cell(sheet, value: int, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=int(value))
    cell.number_format = XPF_NUMBER_FORMAT
    if font is not None:
        cell.font = font
    return cell


def _rate_cell(sheet, value, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=percent_fraction(value))
    cell.number_format = PERCENT_NUMBER_FORMAT
    if font is not None:
        cell.font = font
    return cell


# --- The other budgets lists, through the shared mechanism (dsi_finance.exports) ---

TRANSFER_EXPORT = [
    ExportColumn(
        gettext_lazy("Transfer"), "pk", value=lambda pk: _("Transfer %(pk)s") % {"pk": pk}
    ),
    ExportColumn(gettext_lazy("Requested at"), "requested_at", kind=DATETIME),
    ExportColumn(gettext_lazy("From"), "source__code", width=16),
    ExportColumn(gettext_lazy("From (label)"), "source__label", width=30),
    ExportColumn(gettext_lazy("To"), "target__code", width=16),
    ExportColumn(gettext_lazy("To (label)"), "target__label", width=30),
    ExportColumn(gettext_lazy("Amount"), "amount", kind=AMOUNT),
    ExportColumn(gettext_lazy("State"), "state", choices=Transfer.State, width=12),
    ExportColumn(gettext_lazy("Reason"), "reason", width=40),
    person_column(gettext_lazy("Requested by"), "requested_by", width=22),
    person_column(gettext_lazy("Decided by"), "decided_by", width=22),
]

# A line's ledger entries: the documents are named per chunk of entries (see
# budgets.views.disco.LineDetailView.get_export_rows), hence no `field` for them.
LINE_LEDGER_EXPORT = [
    ExportColumn(gettext_lazy("Date"), kind=DATETIME),
    ExportColumn(gettext_lazy("Movement"), width=24),
    ExportColumn(gettext_lazy("Amount"), kind=AMOUNT),
    ExportColumn(gettext_lazy("Available after"), kind=AMOUNT, total=False),
    ExportColumn(gettext_lazy("By"), width=22),
    ExportColumn(gettext_lazy("Document"), width=24),
    ExportColumn(gettext_lazy("Reason"), width=40),
]

FISCAL_YEAR_EXPORT = [
    ExportColumn(gettext_lazy("Fiscal year"), kind=QUANTITY),
    ExportColumn(gettext_lazy("State"), width=14),
    ExportColumn(gettext_lazy("Lines"), kind=QUANTITY),
    ExportColumn(gettext_lazy("Opened credits"), kind=AMOUNT, total=False),
    ExportColumn(gettext_lazy("Committed"), kind=AMOUNT, total=False),
    ExportColumn(gettext_lazy("Liquidated"), kind=AMOUNT, total=False),
    ExportColumn(gettext_lazy("To liquidate"), kind=AMOUNT, total=False),
    ExportColumn(gettext_lazy("Available"), kind=AMOUNT, total=False),
    ExportColumn(gettext_lazy("Execution rate (%)"), kind=PERCENT),
    ExportColumn(gettext_lazy("Control level"), width=16),
    ExportColumn(gettext_lazy("Control mode"), width=16),
]

REVISION_EXPORT = [
    ExportColumn(gettext_lazy("Fiscal year"), "fiscal_year__year", kind=QUANTITY),
    ExportColumn(gettext_lazy("Revision"), "kind", choices=BudgetRevision.Kind, width=24),
    ExportColumn(gettext_lazy("State"), "state", choices=BudgetRevision.State, width=14),
    ExportColumn(gettext_lazy("Vote date"), "vote_date", kind=DATE),
    ExportColumn(gettext_lazy("Vote reference"), "vote_reference", width=24),
    ExportColumn(gettext_lazy("Lines"), "item_count", kind=QUANTITY),
    # BP amounts and DM net changes: their sum means nothing.
    ExportColumn(gettext_lazy("Total (amount or net change)"), "total", kind=AMOUNT, total=False),
]
