"""What the report builders share: French text of figures for the PDFs, and the
cells and sheets of the write-only workbooks."""

from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from dsi_finance.money import CURRENCY_SUFFIX, EMPTY, group_thousands
from dsi_finance.xlsx import (
    HEADER_ALIGNMENT,
    HEADER_FILL,
    HEADER_FONT,
    PERCENT_NUMBER_FORMAT,
    TOTAL_FONT,
    XPF_NUMBER_FORMAT,
    safe_text,
)

CHUNK_SIZE = 2000

# Column kinds of a sheet or a PDF table.
TEXT, AMOUNT, RATE, NUMBER = "text", "amount", "rate", "number"


def francs(value) -> str:
    """1234567 -> "1 234 567" (narrow no-break spaces), for table cells whose
    header says the unit; None -> "—"."""
    if value is None:
        return EMPTY
    return group_thousands(int(value))


def xpf(value) -> str:
    """1234567 -> "1 234 567 F CFP"."""
    if value is None:
        return EMPTY
    return group_thousands(int(value)) + CURRENCY_SUFFIX


def rate(value) -> str:
    """Decimal("12.5") -> "12,5 %"; None -> "—"."""
    if value is None:
        return EMPTY
    return f"{Decimal(value):.1f}".replace(".", ",") + "\u00a0%"


def pdf_cells(values, kinds) -> list[tuple[str, bool]]:
    """A row of a PDF table: (text, numeric) for each value, by column kind."""
    cells = []
    for value, kind in zip(values, kinds, strict=True):
        if value == "":
            cells.append(("", kind != TEXT))
        elif kind == AMOUNT:
            cells.append((francs(value), True))
        elif kind == RATE:
            cells.append((rate(value), True))
        elif kind == NUMBER:
            cells.append(("" if value is None else str(value), True))
        else:
            cells.append(("" if value is None else str(value), False))
    return cells


# Share of the width of each column kind (percent), for a fixed table layout: WeasyPrint
# then never measures every cell to size the columns, which is most of its time.
PDF_WIDTHS = {AMOUNT: 9.5, RATE: 8, NUMBER: 5}


def pdf_widths(columns, wide: int | None = None) -> list[float]:
    """Widths in percent: numbers get a fixed share, text shares the rest, the `wide`
    text column (the label, by default the second text column) three times more."""
    kinds = [kind for _label, kind in columns]
    texts = [index for index, kind in enumerate(kinds) if kind == TEXT]
    if wide is None:
        wide = texts[1] if len(texts) > 1 else (texts[0] if texts else None)
    rest = 100 - sum(PDF_WIDTHS.get(kind, 0) for kind in kinds)
    shares = {index: (3 if index == wide else 1) for index in texts}
    unit = rest / max(sum(shares.values()), 1)
    return [
        round(shares[index] * unit, 2) if kind == TEXT else PDF_WIDTHS[kind]
        for index, kind in enumerate(kinds)
    ]


def pdf_table(
    title, columns, rows, total=None, *, note="", break_before=False, widths=None
) -> dict:
    """A table for reporting/pdf/_table.html: columns are (label, kind)."""
    kinds = [kind for _label, kind in columns]
    widths = widths or pdf_widths(columns)
    return {
        "widths": [f"{width}%" for width in widths],
        "title": title,
        "note": note,
        "break_before": break_before,
        "columns": [(label, kind != TEXT) for label, kind in columns],
        "rows": [pdf_cells(row, kinds) for row in rows],
        "total": pdf_cells(total, kinds) if total is not None else None,
    }


class Sheet:
    """A write-only sheet: a frozen, styled header row, then rows whose cells get
    the number format of their column, text neutralised; totals in bold."""

    def __init__(self, workbook: Workbook, title: str, columns: list[tuple[str, str, int]]):
        # columns: (header, kind, width)
        self.sheet = workbook.create_sheet(safe_sheet_title(title))
        self.kinds = [kind for _header, kind, _width in columns]
        for index, (_header, _kind, width) in enumerate(columns):
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        self.sheet.freeze_panes = "A2"
        header = []
        for text, _kind, _width in columns:
            cell = WriteOnlyCell(self.sheet, value=text)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = HEADER_ALIGNMENT
            header.append(cell)
        self.sheet.append(header)

    def append(self, values, *, total: bool = False, kinds=None) -> None:
        cells = []
        for value, kind in zip(values, kinds or self.kinds, strict=True):
            if value == "" and kind != TEXT:
                cell = WriteOnlyCell(self.sheet, value=None)
            elif kind == AMOUNT and value is not None:
                cell = WriteOnlyCell(self.sheet, value=int(value))
                cell.number_format = XPF_NUMBER_FORMAT
            elif kind == RATE and value is not None:
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = PERCENT_NUMBER_FORMAT
            elif kind == NUMBER:
                cell = WriteOnlyCell(self.sheet, value=value)
            else:
                cell = WriteOnlyCell(self.sheet, value=safe_text(value))
            if total:
                cell.font = TOTAL_FONT
            cells.append(cell)
        self.sheet.append(cells)


def safe_sheet_title(title: str) -> str:
    """Sheet titles are at most 31 characters, without []:*?/\\."""
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]


# --- Listings: the long tables of the PDFs ------------------------------------------
#
# A table cell is a box that WeasyPrint styles, measures, breaks and paints: 500
# lines of 10 cells take it half a minute. A listing is monospaced text, one line per
# row (one box), in blocks of LISTING_ROWS rows that each start a page with the
# header line: ten times faster, and the columns still align.

LISTING_ROWS = 40
# Grouping with no-break spaces: the narrow one is not in DejaVu Sans Mono, whose
# fallback glyph would be narrower and misalign the columns.
LISTING_SPACE = "\u00a0"


def listing_amount(value) -> str:
    if value is None:
        return EMPTY
    return f"{int(value):,}".replace(",", LISTING_SPACE)


def _fit(text: str, width: int, right: bool) -> str:
    text = " ".join(str(text).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.rjust(width) if right else text.ljust(width)


def listing_line(values, columns) -> str:
    parts = []
    for value, (_label, kind, width) in zip(values, columns, strict=True):
        if value == "":
            text = ""
        elif kind == AMOUNT:
            text = listing_amount(value)
        elif kind == RATE:
            text = rate(value).replace("\u00a0", " ")
        else:
            text = "" if value is None else str(value)
        parts.append(_fit(text, width, kind != TEXT))
    return " ".join(parts).rstrip()


def listing(title, columns, rows, total=None, *, note="", rows_per_block=LISTING_ROWS) -> dict:
    """A listing for reporting/pdf/_listing.html: columns are (label, kind, width in
    characters); rows are values, formatted here."""
    header = " ".join(_fit(label, width, kind != TEXT) for label, kind, width in columns).rstrip()
    lines = [listing_line(row, columns) for row in rows]
    blocks = [
        "\n".join(lines[start : start + rows_per_block])
        for start in range(0, len(lines), rows_per_block)
    ]
    return {
        "title": title,
        "note": note,
        "header": header,
        "rule": "─" * len(header),
        "blocks": blocks,
        "total": listing_line(total, columns) if total is not None else "",
    }


def export_columns(columns: list[tuple[str, str]]):
    """A report's (label, kind) columns as the list pages' export columns, so that a page
    that shows a report's rows exports them in the report's layout."""
    from dsi_finance import exports

    kinds = {
        TEXT: exports.TEXT,
        AMOUNT: exports.AMOUNT,
        RATE: exports.PERCENT,
        NUMBER: exports.QUANTITY,
    }
    return [exports.ExportColumn(label, kind=kinds[kind]) for label, kind in columns]
