"""XLSX helpers shared by every export: neutralised text, XPF number format, header style.

A spreadsheet opens a cell that starts with `=`, `+`, `-` or `@` as a formula:
text written by users (labels, justifications) is neutralised with a leading
apostrophe-like quote prefix so that it stays text (DESIGN.md, rule 5). Numbers
stay numbers.
"""

from decimal import Decimal

from openpyxl.styles import Alignment, Font, PatternFill

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
