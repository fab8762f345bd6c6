"""XLSX helpers shared by every export (neutralised text, XPF number format, header style)
and the one safe reader of an uploaded workbook that every import uses.

A spreadsheet opens a cell that starts with `=`, `+`, `-` or `@` as a formula:
text written by users (labels, justifications) is neutralised with a leading
apostrophe-like quote prefix so that it stays text (DESIGN.md, rule 5). Numbers
stay numbers.
"""

import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import override as override_language
from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill

from .errors import ServiceError
from .money import parse_francs

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Whole francs with French grouping; Excel and LibreOffice show the locale's separator.
XPF_NUMBER_FORMAT = '#,##0" F CFP";-#,##0" F CFP";0" F CFP"'
# Rates are stored as fractions (0.61) shown as percents (61,0 %), so that a user's own
# formulas on them work; `percent_fraction` turns our percents (Decimal("61.0")) into them.
PERCENT_NUMBER_FORMAT = "0.0%"
DATE_NUMBER_FORMAT = "DD/MM/YYYY"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)
TOTAL_FONT = Font(bold=True)


def safe_text(value):
    """Text that a spreadsheet will never run as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def percent_fraction(value):
    """A rate in percent as a spreadsheet stores it: Decimal("61.0") -> Decimal("0.61");
    None stays None."""
    if value is None:
        return None
    return Decimal(str(value)) / 100


def style_header(sheet, row: int = 1) -> None:
    """Bold white on blue, and the panes frozen below the header."""
    for cell in sheet[row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)


# ---------------------------------------------------------------------------
# Reading an uploaded workbook
#
# Every import (a revision proposal, payment dates…) reads its file here, so that
# the rules of an untrusted workbook are written once: a size limit, a zip-bomb
# check before anything is inflated, openpyxl in read-only mode (defusedxml is
# installed: no entity expansion), a header found in the current language or in
# English whatever its accents, case and spacing, cells typed column by column,
# and each row's errors kept with the sheet's row number. A file that cannot be
# used at all raises ImportFileError; a row's bad cell does not: its message is in
# `SheetRow.errors`, for the import to list with every other row's.

# Defaults of an import; each import may pass its own.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# An XLSX is a zip: refuse one that would inflate into more than this (a zip bomb).
MAX_UNCOMPRESSED = 100 * 1024 * 1024

# Kinds of cell.
TEXT = "text"  # trimmed text, without the export's neutralising quote
RAW = "raw"  # the value as the spreadsheet computed it, for the import to type
FRANCS = "francs"  # whole francs (dsi_finance.money.parse_francs)
DATE = "date"  # a date cell, or 31/12/2026, 2026-12-31, 31-12-2026, 31.12.2026
DECIMAL = "decimal"  # a number, never a float's approximation

DATE_PATTERNS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


class ImportFileError(ServiceError):
    """The file as a whole cannot be read (not an XLSX, too big, no header…)."""


@dataclass(frozen=True)
class Column:
    """A column of an import: its field name, its header, the kind of its cells, and
    how the messages name its value ("The payment date")."""

    name: str
    title: object  # a lazy translation: the header in the current language
    kind: str = TEXT
    label: object = None


@dataclass
class SheetRow:
    """One data row: typed values by field name, and the errors of its cells."""

    number: int  # the spreadsheet's row number (the header is row 1)
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)  # field name -> French message

    def __getitem__(self, name):
        return self.values.get(name)


def cell_text(value) -> str:
    """A text cell as the user wrote it: trimmed, without the export's neutralising quote."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]
    return text


def normalise_header(value) -> str:
    """A header as compared: no accents, case, typographic apostrophe or extra spaces."""
    text = unicodedata.normalize("NFKD", cell_text(value)).casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("’", "'")
    return " ".join(text.split())


def header_titles(column: Column) -> set[str]:
    """The normalised headers that name the column: the current language's and English."""
    with override_language("en"):
        english = normalise_header(str(column.title))
    return {normalise_header(str(column.title)), english}


def unreadable() -> ImportFileError:
    return ImportFileError(
        _("This file is not a readable XLSX workbook: save it from your spreadsheet as “.xlsx”."),
        code="not_xlsx",
    )


def too_large(max_bytes: int) -> ImportFileError:
    return ImportFileError(
        _("The file is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024)},
        code="too_large",
    )


def upload_content(file, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of an upload (or of bytes given as they are), refused when larger than
    `max_bytes` (read no further than that) or empty."""
    if isinstance(file, bytes | bytearray):
        content = bytes(file)
    elif (getattr(file, "size", None) or 0) > max_bytes:
        raise too_large(max_bytes)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        content = file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    if not content:
        raise ImportFileError(_("The file is empty."), code="empty")
    return content


def check_archive(content: bytes, *, max_uncompressed: int = MAX_UNCOMPRESSED) -> None:
    """A zip of reasonable inflated size: an XLSX, not something else or a zip bomb."""
    if not zipfile.is_zipfile(BytesIO(content)):
        raise unreadable()
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise unreadable() from None
    if inflated > max_uncompressed:
        raise ImportFileError(
            _("This workbook is too large once opened: split it into smaller files."),
            code="too_large",
        )


def fixed_positions(columns: Sequence[Column], cells: list) -> dict[str, int] | None:
    """The columns in their order from the first cell, every header right; else None."""
    for position, column in enumerate(columns):
        given = normalise_header(cells[position]) if position < len(cells) else ""
        if given not in header_titles(column):
            return None
    return {column.name: position for position, column in enumerate(columns)}


def positions_by_header(columns: Sequence[Column], cells: list) -> dict[str, int]:
    """Each column where its header stands, in any order (the first one that names it);
    the columns the header does not name are left out."""
    wanted = {column.name: header_titles(column) for column in columns}
    positions: dict[str, int] = {}
    for index, value in enumerate(cells):
        text = normalise_header(value)
        for name, titles in wanted.items():
            if text in titles and name not in positions:
                positions[name] = index
    return positions


def typed_cell(value, column: Column):
    """The cell's value for its column's kind; ValidationError (French) when it is not one."""
    label = str(column.label or column.title)
    if column.kind == RAW:
        return value
    if column.kind == TEXT:
        return cell_text(value)
    if column.kind == FRANCS:
        return parse_francs(value, label=label)
    if column.kind == DATE:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = cell_text(value)
        if not text:
            return None
        for pattern in DATE_PATTERNS:
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise ValidationError(
            _("%(label)s “%(value)s” is not a date (expected 31/12/2026).")
            % {"label": label, "value": text},
            code="date",
        )
    if column.kind == DECIMAL:
        if value is None or cell_text(value) == "":
            return None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int | float):
            number = Decimal(str(value))  # the shortest text of the float: what was typed
        else:
            text = cell_text(value).replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
            try:
                number = Decimal(text.replace(",", "."))
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            raise ValidationError(
                _("%(label)s must be a number.") % {"label": label}, code="number"
            )
        return number
    raise ValueError(f"unknown kind of cell {column.kind!r}")


def read_sheet(
    content: bytes,
    columns: Sequence[Column],
    *,
    header_error: Callable[[], ImportFileError],
    in_order: bool = True,
    header_ok: Callable[[set[str]], bool] | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_uncompressed: int = MAX_UNCOMPRESSED,
) -> list[SheetRow]:
    """The data rows of the first sheet; ImportFileError when the file cannot be used.

    `in_order`: the header is the columns in their order from the first cell (an
    export read back); otherwise each column is found by its header anywhere, and
    `header_ok(found names)` says whether those are enough. `header_error` makes the
    import's own message naming its columns. Values are read as the spreadsheet last
    computed them (a formula counts for its result). Blank rows are skipped; row
    numbers are the sheet's; a cell that is not of its kind leaves its message in
    the row's `errors` and None in its value.
    """
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    check_archive(content, max_uncompressed=max_uncompressed)
    try:
        workbook = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except Exception:  # untrusted file: whatever openpyxl trips on, it is not a usable XLSX
        raise unreadable() from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."), code="empty")
        sheet = workbook.worksheets[0]
        rows: list[SheetRow] = []
        positions = None
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = list(cells)
                if positions is None:
                    positions = _header(columns, cells, in_order=in_order, header_ok=header_ok)
                    if positions is None:
                        raise header_error()
                    continue
                if all(value is None or cell_text(value) == "" for value in cells):
                    continue
                if len(rows) >= max_rows:
                    raise ImportFileError(
                        _("The file has more than %(max)s rows: split it.") % {"max": max_rows},
                        code="too_many_rows",
                    )
                rows.append(_row(number, cells, columns, positions))
        except ImportFileError:
            raise
        except Exception:  # a damaged sheet inside a valid zip
            raise unreadable() from None
        if positions is None:
            raise header_error()
        return rows
    finally:
        workbook.close()


def _header(columns, cells, *, in_order, header_ok) -> dict[str, int] | None:
    if in_order:
        return fixed_positions(columns, cells)
    positions = positions_by_header(columns, cells)
    if header_ok is not None and not header_ok(set(positions)):
        return None
    return positions


def _row(number: int, cells: list, columns: Sequence[Column], positions) -> SheetRow:
    row = SheetRow(number=number)
    for column in columns:
        index = positions.get(column.name)
        value = cells[index] if index is not None and index < len(cells) else None
        try:
            row.values[column.name] = typed_cell(value, column)
        except ValidationError as error:
            row.values[column.name] = None
            row.errors[column.name] = " ".join(error.messages)
    return row
