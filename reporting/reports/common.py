"""What the report builders share: French text of figures for the PDFs, and the
cells and sheets of the write-only workbooks."""

from __future__ import annotations

import textwrap
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dsi_finance.money import CURRENCY_SUFFIX, EMPTY, group_thousands
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

CHUNK_SIZE = 2000

# Column kinds of a sheet or a PDF table.
TEXT, AMOUNT, RATE, NUMBER = "text", "amount", "rate", "number"

CAPTION_FONT = Font(bold=True, size=12, color="1F4E79")


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
    the number format of their column (rates as fractions in a percent format), text
    neutralised; totals in bold. A `caption` (what the figures are and at which date)
    takes the first row, above the header, and the page header when printed."""

    def __init__(
        self,
        workbook: Workbook,
        title: str,
        columns: list[tuple[str, str, int]],
        *,
        caption: str = "",
    ):
        # columns: (header, kind, width)
        self.sheet = workbook.create_sheet(safe_sheet_title(title))
        self.kinds = [kind for _header, kind, _width in columns]
        for index, (_header, _kind, width) in enumerate(columns):
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        if caption:
            self.sheet.freeze_panes = "A3"
            self.sheet.oddHeader.center.text = caption.replace("&", "&&")
            cell = WriteOnlyCell(self.sheet, value=safe_text(caption))
            cell.font = CAPTION_FONT
            self.sheet.append([cell])
        else:
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
                cell = WriteOnlyCell(self.sheet, value=percent_fraction(value))
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
# row (one box), in blocks of at most LISTING_ROWS lines that each start a page with
# the header line: ten times faster, and the columns still align.
#
# Nothing is cut: every column is as wide as its longest text (codes, amounts) and the
# longest word of its header, whose words wrap on as many header lines as needed; the
# label column gives up what the others take beyond their planned width, and a label
# longer than its column wraps on the next lines, under itself.

LISTING_ROWS = 40
# The narrowest a wrapped label column gets, whatever the codes take.
LISTING_MIN_WRAP = 20
# Grouping with no-break spaces: the narrow one is not in DejaVu Sans Mono, whose
# fallback glyph would be narrower and misalign the columns.
LISTING_SPACE = "\u00a0"


def listing_amount(value) -> str:
    if value is None:
        return EMPTY
    return f"{int(value):,}".replace(",", LISTING_SPACE)


def _listing_text(value, kind) -> str:
    if value == "":
        return ""
    if kind == AMOUNT:
        return listing_amount(value)
    if kind == RATE:
        return rate(value).replace("\u00a0", " ")
    return "" if value is None else " ".join(str(value).split())


def _pad(text: str, width: int, right: bool) -> str:
    return text.rjust(width) if right else text.ljust(width)


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, cut between words (inside a word
    only when it is longer than a line)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def wrap_column(columns) -> int | None:
    """The column whose text wraps: the second text column (the label), else the first."""
    texts = [index for index, (_label, kind, _width) in enumerate(columns) if kind == TEXT]
    if len(texts) > 1:
        return texts[1]
    return texts[0] if texts else None


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def listing_widths(columns, rows, wrap: int | None) -> list[int]:
    """Each column's width in characters: the planned one, widened to its longest text
    and its header's longest word, except for the wrapped column, which narrows by as
    much as the others widened (down to LISTING_MIN_WRAP) so that lines keep their
    planned length."""
    widths = []
    for index, (label, _kind, width) in enumerate(columns):
        if index != wrap:
            width = max([width, _longest_word(label), *(len(row[index]) for row in rows)])
        widths.append(width)
    if wrap is not None:
        extra = sum(widths) - sum(width for _label, _kind, width in columns)
        widths[wrap] = max(LISTING_MIN_WRAP, _longest_word(columns[wrap][0]), widths[wrap] - extra)
    return widths


def listing_header(columns, widths) -> str:
    """The header lines: each label wrapped to its column, at the foot of the header
    (as a table's headers sit on its first row), numbers' labels to the right."""
    labels = [
        _wrap(label, width) for (label, _kind, _planned), width in zip(columns, widths, strict=True)
    ]
    height = max((len(lines) for lines in labels), default=1)
    labels = [[""] * (height - len(lines)) + lines for lines in labels]
    return "\n".join(
        " ".join(
            _pad(lines[number], width, kind != TEXT)
            for lines, (_label, kind, _planned), width in zip(labels, columns, widths, strict=True)
        ).rstrip()
        for number in range(height)
    )


def listing_lines(texts, columns, widths, wrap: int | None) -> list[str]:
    """The lines of one row: all its columns on the first, the rest of a wrapped label
    on the next ones, under itself."""
    pieces = _wrap(texts[wrap], widths[wrap]) if wrap is not None else [""]
    lines = []
    for number, piece in enumerate(pieces):
        cells = [
            piece if index == wrap else (text if number == 0 else "")
            for index, text in enumerate(texts)
        ]
        parts = [
            _pad(cell, width, kind != TEXT)
            for cell, (_label, kind, _planned), width in zip(cells, columns, widths, strict=True)
        ]
        lines.append(" ".join(parts).rstrip())
    return lines


def listing(
    title, columns, rows, total=None, *, note="", rows_per_block=LISTING_ROWS, wrap=None
) -> dict:
    """A listing for reporting/pdf/_listing.html: columns are (label, kind, planned width
    in characters); rows are values, formatted here. `wrap` is the index of the column
    that wraps (by default the label: see wrap_column); no other text is ever cut."""
    kinds = [kind for _label, kind, _width in columns]
    texts = [[_listing_text(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows]
    total_texts = (
        [_listing_text(v, k) for v, k in zip(total, kinds, strict=True)]
        if total is not None
        else None
    )
    wrap = wrap_column(columns) if wrap is None else wrap
    widths = listing_widths(columns, texts + ([total_texts] if total_texts else []), wrap)
    header = listing_header(columns, widths)
    # Blocks of whole rows, at most rows_per_block lines each (a wrapped row is never
    # split across two pages).
    blocks, block = [], []
    for row in texts:
        lines = listing_lines(row, columns, widths, wrap)
        if block and len(block) + len(lines) > rows_per_block:
            blocks.append("\n".join(block))
            block = []
        block.extend(lines)
    if block:
        blocks.append("\n".join(block))
    return {
        "title": title,
        "note": note,
        "header": header,
        "rule": "─" * (sum(widths) + len(widths) - 1),
        "blocks": blocks,
        "total": (
            "\n".join(listing_lines(total_texts, columns, widths, wrap)) if total_texts else ""
        ),
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
